#pragma once
// What the Kubernetes API load workloads (kube-churn, kube-lifecycle,
// kube-watch) get from the run: the cluster as the kubernetes target reached
// it, the run's namespace and label, and where to record.
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "drivers/kube/KubeClient.h"
#include "drivers/kube/KubeConfig.h"
#include "metrics/DependencyFaults.h"
#include "metrics/MetricsStore.h"
#include "metrics/RunClock.h"

namespace kapture {

// kube.watch_resource_version is one gauge however many kube-watch
// workloads run (the store sums gauges): the largest resourceVersion any of
// them saw, reported by the first one started. Shared by the run's watches.
struct KubeResourceVersionGauge {
  std::atomic<int64_t> max_rv{-1};
  std::atomic<const void*> reporter{nullptr};
  void note(int64_t rv) {
    int64_t cur = max_rv.load(std::memory_order_relaxed);
    while (rv > cur && !max_rv.compare_exchange_weak(cur, rv, std::memory_order_relaxed)) {
    }
  }
};

struct KubeWorkloadContext {
  KubeAccess access;          // endpoint and credentials (each workload makes its own clients)
  std::string namespace_;     // the run's namespace: where objects go unless the spec names another
  std::string run_label;      // kapture.io/run=<this> on every object the run creates
  uint64_t seed = 0;
  const RunClock* clock = nullptr;
  MetricsStore* metrics = nullptr;
  std::string results_dir;    // kube-ops-NAME.csv goes here
  DependencyFaults* faults = nullptr;  // API server outages mid-run; may be null
  std::shared_ptr<KubeResourceVersionGauge> resource_version = std::make_shared<KubeResourceVersionGauge>();
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
