#pragma once
// kube-lifecycle: a closed loop of `threads`, each running lifecycles one
// after another: create -> get -> `updates` patches (merge, strategic merge
// or server-side apply, each changing an annotation) -> delete. Lifecycles
// start at the phases' rate (each thread takes its share of an arrival
// schedule) as far as the threads keep up: a thread still busy when its
// next start comes starts it late (kube.schedule_lag) and skips the starts
// that came due meanwhile (counted in kube.intended only), so a slow API
// server lowers the achieved rate instead of queueing work. create_only:
// lifecycles are creates; the objects are deleted at stop().
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "workloads/KubeMetrics.h"
#include "workloads/KubeObjectFactory.h"
#include "workloads/KubeWorkloadContext.h"
#include "workloads/PhaseLoad.h"
#include "workloads/Workload.h"

namespace kapture {

class KubeLifecycleWorkload : public Workload, public KubeObjectSource {
 public:
  KubeLifecycleWorkload(const KubeLifecycleWorkloadSpec& spec, KubeWorkloadContext ctx);
  ~KubeLifecycleWorkload() override;
  const std::string& name() const override { return spec_.name; }
  Status start() override;
  void set_load(const LoadSpec& load, int64_t start_us, int64_t duration_us) override;
  void stop(int drain_ms) override;
  std::optional<Error> failure() const override { return std::nullopt; }
  int64_t stuck_in_lua_ms() const override { return 0; }
  std::vector<std::string> created_objects() const override;

 private:
  struct Worker;
  void run(Worker& w);
  void lifecycle(Worker& w);
  long remove(Worker& w, const std::string& name);  // the final answer's status (0: none)

  KubeLifecycleWorkloadSpec spec_;
  KubeWorkloadContext ctx_;
  std::unique_ptr<KubeObjectFactory> factory_;
  std::unique_ptr<KubeMetrics> metrics_;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::atomic<int64_t> next_seq_{0};
  std::atomic<int> logged_{0};
  bool stopped_ = false;

  PhaseLoad load_;
  CreatedNames created_;
};

}  // namespace kapture
