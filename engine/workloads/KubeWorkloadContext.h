#pragma once
// What the Kubernetes API load workloads (kube-churn, kube-lifecycle,
// kube-watch) get from the run: the cluster as the kubernetes target reached
// it, the run's namespace and label, and where to record.
#include <cstdint>
#include <string>
#include <vector>

#include "drivers/kube/KubeClient.h"
#include "drivers/kube/KubeConfig.h"
#include "metrics/DependencyFaults.h"
#include "metrics/MetricsStore.h"
#include "metrics/RunClock.h"

namespace kapture {

struct KubeWorkloadContext {
  KubeAccess access;          // endpoint and credentials (each workload makes its own clients)
  std::string namespace_;     // the run's namespace: where objects go unless the spec names another
  std::string run_label;      // kapture.io/run=<this> on every object the run creates
  uint64_t seed = 0;
  const RunClock* clock = nullptr;
  MetricsStore* metrics = nullptr;
  std::string results_dir;    // kube-ops-NAME.csv goes here
  DependencyFaults* faults = nullptr;  // API server outages mid-run; may be null
};

// The options of every API client a workload makes: its outages are the run's.
inline KubeClientOptions kube_client_options(const KubeWorkloadContext& ctx) {
  KubeClientOptions o;
  o.faults = ctx.faults;
  return o;
}

// A workload that creates objects, for a kube-watch that `observes` it: the
// name of every object whose create the API server accepted.
class KubeObjectSource {
 public:
  virtual ~KubeObjectSource() = default;
  virtual const std::string& name() const = 0;
  // Sorted; complete once the workload's stop() returned.
  virtual std::vector<std::string> created_objects() const = 0;
};

}  // namespace kapture
