#pragma once
// The local target's workers: `kapture-engine worker` child processes of
// this engine (the same binary), logs in RESULTS/workers/worker-I.log.
#include <memory>
#include <vector>

#include "distributed/WorkerLauncher.h"
#include "targets/ChildProcess.h"

namespace kapture {

class LocalWorkerLauncher : public WorkerLauncher {
 public:
  ~LocalWorkerLauncher() override;
  Status launch(const WorkerLaunch& launch) override;
  std::vector<EndedWorker> ended() override;
  void stop(int timeout_ms) override;
  std::string about(int index) override;
  std::string log_of(int index) const;

 private:
  std::vector<std::unique_ptr<ChildProcess>> children_;
  std::vector<bool> reported_;
  std::string log_dir_, properties_file_;
};

}  // namespace kapture
