#pragma once
// Redis and PostgreSQL for a run: the endpoints the user gave (--redis,
// --postgres or the scenario's url: used and left as they are), or real
// servers the engine starts on loopback for the run and removes afterwards.
// Only servers the engine started can be hurt by chaos steps.
#include <memory>
#include <string>

#include "chaos/ChaosAction.h"
#include "scenario/Scenario.h"
#include "targets/PostgresServer.h"
#include "targets/RedisServer.h"

namespace kapture {

class StoreServers {
 public:
  StoreServers(std::string redis_override, std::string postgres_override)
      : redis_override_(std::move(redis_override)), postgres_override_(std::move(postgres_override)) {}
  ~StoreServers() { stop(); }

  // The urls the scenario will use; "" when it declares no such store.
  std::string redis_url(const Scenario& s) const;
  std::string postgres_url(const Scenario& s) const;
  bool starts_redis(const Scenario& s) const { return s.redis.declared && redis_url(s).empty(); }
  bool starts_postgres(const Scenario& s) const { return s.postgres.declared && postgres_url(s).empty(); }

  Status start(const Scenario& s);
  std::string redis() const { return redis_url_; }
  std::string postgres() const { return postgres_url_; }
  Result<ChaosInjection> inject(const ChaosAction& action);
  void stop();

 private:
  std::string redis_override_, postgres_override_;
  std::unique_ptr<RedisServer> redis_server_;
  std::unique_ptr<PostgresServer> postgres_server_;
  std::string redis_url_, postgres_url_;
};

// Validation: chaos on a store needs a store the engine starts.
std::vector<Error> check_store_chaos(const Scenario& s, const StoreServers& stores);

}  // namespace kapture
