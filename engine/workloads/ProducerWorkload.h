#pragma once
// kafka-producer: N threads, each with its own Lua state, arrival schedule,
// librdkafka producer and metrics recorder. Open loop: records are sent at
// their intended times whatever the cluster does.
#include <atomic>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "chaos/ChaosAction.h"
#include "etl/Ledger.h"
#include "metrics/DependencyFaults.h"
#include "metrics/MetricsStore.h"
#include "metrics/RunClock.h"
#include "workloads/Workload.h"

namespace kapture {

struct ProducerContext {
  std::string bootstrap;
  std::map<std::string, std::string> kafka_properties;
  uint64_t seed = 0;
  const RunClock* clock = nullptr;
  MetricsStore* metrics = nullptr;
  DependencyFaults* faults = nullptr;  // broker outages as the producers see them; may be null
  // This process's share of the load: a distributed worker `shard` of
  // `shards` runs threads shard*T .. shard*T+T-1 of shards*T (T = max_threads),
  // so all workers together send what one engine with shards*T threads would.
  int shard = 0;
  int shards = 1;
};

class ProducerWorkload : public Workload {
 public:
  ProducerWorkload(const ProducerWorkloadSpec& spec, ProducerContext ctx);
  ~ProducerWorkload() override;
  const std::string& name() const override { return spec_.name; }
  Status start() override;
  void set_load(const LoadSpec& load, int64_t start_us, int64_t duration_us) override;
  void stop(int drain_ms) override;
  std::optional<Error> failure() const override;
  int64_t stuck_in_lua_ms() const override;
  // After stop(): every thread's acknowledged and failed sequence numbers.
  AckLedger ledger() const;
  bool keeps_ledger() const { return spec_.ledger; }
  // A scale step: a new rate (>= 0) until the current load would have ended,
  // and/or a new number of sending threads (> 0, at most max_threads); waits
  // (up to 30 s) until the acknowledged rate shows it.
  Result<ChaosInjection> scale(double rate, int threads);

 private:
  struct Worker;
  void run(Worker& w);
  void fail(const Error& e);
  int64_t acked_so_far() const;

  const ProducerWorkloadSpec& spec_;
  ProducerContext ctx_;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::atomic<bool> stopping_{false};
  std::atomic<int> drain_ms_{10000};

  mutable std::mutex mu_;
  LoadSpec load_;
  int64_t load_start_us_ = 0;
  int64_t load_duration_us_ = 0;
  int active_threads_ = 1;
  int64_t resume_us_ = 0;  // the current deal of the load starts here
  std::atomic<uint64_t> load_version_{0};
  std::optional<Error> failure_;
};

}  // namespace kapture
