#include "targets/StoreServers.h"

#include <spdlog/spdlog.h>

namespace kapture {

std::string StoreServers::redis_url(const Scenario& s) const {
  if (!s.redis.declared) return "";
  return !redis_override_.empty() ? redis_override_ : s.redis.url;
}

std::string StoreServers::postgres_url(const Scenario& s) const {
  if (!s.postgres.declared) return "";
  return !postgres_override_.empty() ? postgres_override_ : s.postgres.url;
}

Status StoreServers::start(const Scenario& s) {
  redis_url_ = redis_url(s);
  postgres_url_ = postgres_url(s);
  if (starts_redis(s)) {
    redis_server_ = std::make_unique<RedisServer>();
    if (auto err = redis_server_->start()) return err;
    redis_url_ = redis_server_->url();
    spdlog::debug("started redis-server at {}", redis_url_);
  }
  if (starts_postgres(s)) {
    postgres_server_ = std::make_unique<PostgresServer>();
    if (auto err = postgres_server_->start()) return err;
    postgres_url_ = postgres_server_->url();
    spdlog::debug("started PostgreSQL at {}", postgres_url_);
  }
  return std::nullopt;
}

void StoreServers::stop() {
  if (redis_server_) redis_server_->stop();
  if (postgres_server_) postgres_server_->stop();
  redis_server_.reset();
  postgres_server_.reset();
}

Result<ChaosInjection> StoreServers::inject(const ChaosAction& action) {
  bool redis = action.verb == ChaosVerb::RedisKill || action.verb == ChaosVerb::RedisPause;
  bool kill = action.verb == ChaosVerb::RedisKill || action.verb == ChaosVerb::PostgresKill;
  if (!redis && !kill && action.verb != ChaosVerb::PostgresPause)
    return runtime_error(std::string("internal: ") + chaos_verb_name(action.verb) + " is not a store action");
  StoreServer* server = redis ? static_cast<StoreServer*>(redis_server_.get()) : postgres_server_.get();
  std::string name = redis ? "redis-server" : "postgres";
  if (!server) return usage_error(std::string(chaos_verb_name(action.verb)) + " needs a store the engine started");
  ChaosInjection inj;
  // Restarts wait for the server to accept connections again (PostgreSQL runs crash recovery).
  if (kill) inj.undo = [server, redis]() -> Status { return server->restart(redis ? 20000 : 60000); };
  else inj.undo = [server]() -> Status { return server->resume(); };
  if (auto err = kill ? server->kill_hard() : server->pause()) return *err;
  inj.description = name + (kill ? " killed (SIGKILL); restarted when the step ends" : " paused (SIGSTOP)");
  inj.details = {{"store", redis ? "redis" : "postgres"}, {"signal", kill ? "SIGKILL" : "SIGSTOP"}};
  return inj;
}

std::vector<Error> check_store_chaos(const Scenario& s, const StoreServers& stores) {
  std::vector<Error> errors;
  for (const auto& phase : s.phases) {
    for (const auto& step : phase.steps) {
      bool redis = step.verb == ChaosVerb::RedisKill || step.verb == ChaosVerb::RedisPause;
      bool pg = step.verb == ChaosVerb::PostgresKill || step.verb == ChaosVerb::PostgresPause;
      if (redis && !stores.starts_redis(s))
        errors.push_back(usage_error(std::string(chaos_verb_name(step.verb)) +
                                         " needs a Redis the engine starts; one given by url is left alone",
                                     step.where));
      if (pg && !stores.starts_postgres(s))
        errors.push_back(usage_error(std::string(chaos_verb_name(step.verb)) +
                                         " needs a PostgreSQL the engine starts; one given by url is left alone",
                                     step.where));
    }
  }
  return errors;
}

}  // namespace kapture
