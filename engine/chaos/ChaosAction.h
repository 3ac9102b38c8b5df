#pragma once
// A chaos injection as the timeline asks for it, and what the target did.
#include <functional>
#include <string>

#include <nlohmann/json.hpp>

#include "common/Error.h"
#include "scenario/Scenario.h"

namespace kapture {

struct ChaosAction {
  ChaosVerb verb = ChaosVerb::BrokerDown;
  BrokerChoice broker;  // Random has been resolved to an Id by the plan
  int64_t delay_us = 0;
  std::string workload;  // consumer-crash
  int count = 1;         // add-brokers
  std::string topic;     // add-partitions
  int partitions = 0;    // add-partitions: the new total
  double rate = -1;      // scale producer (-1: unchanged)
  int threads = 0;       // scale producer (0: unchanged)
  bool dry_run = false;  // say what would happen, change nothing
  // Kubernetes verbs (see StepSpec).
  PodSelection pods;
  NodeSelection node;
  int64_t grace_period_us = -1;
  std::string kube_name, kube_namespace;
  int replicas = -1;
  int64_t for_us = 0;     // pod chaos: how long to wait for replacements to be Ready
  uint64_t seed = 0;      // random pod and node picks (from the plan's seed)
};


struct ChaosInjection {
  std::string description;        // "broker 2 down; leadership of 4 partitions moved"
  nlohmann::json details;         // recorded in events.jsonl
  std::function<Status()> undo;   // registered in the undo journal before anything else happens;
                                  // empty for scale steps, which are not undone
  int out_of_service = -1;        // the broker this took out of service (kill, pause, stop, down)
  // Set when the target already wrote the undo into the journal before
  // acting (it survives a crash there): the executor attaches `undo` to
  // that entry instead of adding one. A scale step with this and no `undo`
  // stays pending until the end of the run.
  int journal_id = 0;
};

// Whoever can carry out a chaos action: the executor asks, it does not know
// whether a broker, a store or a workload is hurt.
class ChaosInjector {
 public:
  virtual ~ChaosInjector() = default;
  virtual Result<ChaosInjection> inject(const ChaosAction& action) = 0;
};

}  // namespace kapture
