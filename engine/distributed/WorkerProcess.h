#pragma once
// `kapture-engine worker`: one distributed worker. It loads the same
// scenario as its coordinator, runs its share of every kafka-producer
// workload (ProducerContext shard/shards) on the coordinator's clock,
// follows the loads the coordinator sends, ships what it measured every
// 250 ms, and at the end its ledger; then it exits. Chaos, scale steps,
// expectations and reports stay with the coordinator.
#include <atomic>
#include <map>
#include <string>

#include "scenario/Scenario.h"

namespace kapture {

struct WorkerOptions {
  int index = 0;
  int workers = 1;
  std::string bootstrap;
  std::map<std::string, std::string> kafka_properties;
  std::string topic;
  // A coordinator not heard from for this long is gone: stop and exit 3.
  int coordinator_silence_ms = 30000;
};

// Returns the process's exit code: 0 after the coordinator's stop, 2 when a
// workload cannot start (bad Lua, bad property), 3 when Kafka or the
// coordinator is lost, 130 when `interrupted` was set.
int run_worker(const Scenario& scenario, const WorkerOptions& options, const std::atomic<bool>& interrupted);

}  // namespace kapture
