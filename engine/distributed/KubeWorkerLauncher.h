#pragma once
// The kubernetes target's workers: an Indexed Job in the run's namespace
// (WorkerJobManifest), created through the target so its deletion is
// journaled; a pod that fails or exits before its worker was done is
// reported as ended. The rendered objects are written to
// RESULTS/workers/job.json as a v1 List (the Secret's data left out).
#include <chrono>
#include <memory>
#include <set>
#include <string>

#include "distributed/WorkerJobManifest.h"
#include "distributed/WorkerLauncher.h"
#include "drivers/kube/KubeClient.h"
#include "targets/KubernetesTarget.h"

namespace kapture {

struct KubeWorkerSettings {
  std::string image = "kapture-engine:latest";
  nlohmann::json resources;  // or null
};

class KubeWorkerLauncher : public WorkerLauncher {
 public:
  KubeWorkerLauncher(KubernetesTarget& target, const Scenario& scenario, KubeWorkerSettings settings);
  Status launch(const WorkerLaunch& launch) override;
  std::vector<EndedWorker> ended() override;
  void stop(int timeout_ms) override;
  std::string about(int index) override;

 private:
  // The Job's pods by completion index (the newest of each).
  std::map<int, nlohmann::json> pods();

  KubernetesTarget& target_;
  const Scenario& scenario_;
  KubeWorkerSettings settings_;
  std::unique_ptr<KubeClient> client_;
  std::string name_, ns_;
  std::set<int> reported_;
  std::chrono::steady_clock::time_point last_look_{};
  bool launched_ = false;
};

}  // namespace kapture
