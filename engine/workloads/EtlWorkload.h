#pragma once
// etl: N consumers in one Kafka consumer group read records, transform them
// (optionally in Lua) and write each batch to Redis and/or PostgreSQL. Offsets
// are committed only after every sink has the batch (at least once); sink
// failures are retried with backoff and a fresh connection, never skipped.
#include <atomic>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "metrics/DependencyFaults.h"
#include "metrics/MetricsStore.h"
#include "metrics/RunClock.h"
#include "chaos/ChaosAction.h"
#include "workloads/Workload.h"

namespace kapture {

struct EtlContext {
  std::string bootstrap;
  std::map<std::string, std::string> kafka_properties;
  std::string redis_url;
  std::string postgres_url;
  std::string run_id;
  uint64_t seed = 0;
  const RunClock* clock = nullptr;
  MetricsStore* metrics = nullptr;
  DependencyFaults* faults = nullptr;  // sink outages mid-run; may be null
};

struct DeadLetter {
  std::string topic;
  int partition = 0;
  int64_t offset = 0;
  std::string reason;
};

class EtlWorkload : public Workload {
 public:
  EtlWorkload(const EtlWorkloadSpec& spec, EtlContext ctx);
  ~EtlWorkload() override;
  const std::string& name() const override { return spec_.name; }
  Status start() override;
  void set_load(const LoadSpec&, int64_t, int64_t) override {}  // consumes whatever arrives
  void stop(int drain_ms) override;
  std::optional<Error> failure() const override;
  int64_t stuck_in_lua_ms() const override;

  // consumer-crash: one consumer dies without closing or committing; the
  // undo starts it again.
  Result<ChaosInjection> crash_consumer();
  std::vector<DeadLetter> dead_letters() const;
  // The last lag reading, per "topic/partition".
  std::map<std::string, int64_t> lag_by_partition() const;
  // Rows written and the run-clock span from the first record consumed to
  // the last batch committed: a rate finer than the per-second buckets.
  nlohmann::json throughput() const;

 private:
  struct Consumer;
  void run(Consumer& c);
  void watch_lag();
  void fail(const Error& e);
  void dead_letter(const std::string& topic, int partition, int64_t offset, const std::string& reason);

  const EtlWorkloadSpec& spec_;
  EtlContext ctx_;
  std::vector<std::unique_ptr<Consumer>> consumers_;
  std::thread lag_thread_;
  std::atomic<bool> stopping_{false};
  std::atomic<int> drain_ms_{10000};
  std::atomic<int> next_crash_{0};
  std::atomic<int64_t> first_consumed_us_{-1};
  std::atomic<int64_t> last_committed_us_{-1};
  std::atomic<int64_t> rows_written_{0};
  mutable std::mutex mu_;
  std::optional<Error> failure_;
  std::vector<DeadLetter> dead_letters_;
  std::map<std::string, int64_t> lag_by_partition_;
};

// "bps.*" -> "^bps\..*$" (librdkafka subscribes to regexes starting with ^);
// plain names are returned as they are.
std::string topic_subscription(const std::string& name_or_glob);

}  // namespace kapture
