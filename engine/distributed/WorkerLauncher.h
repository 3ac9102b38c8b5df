#pragma once
// Starts a run's distributed workers somewhere and says when one ended:
// child processes on this machine (the local target) or a Kubernetes
// Indexed Job (the kubernetes target). Called from the main thread only.
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/Error.h"

namespace kapture {

// Everything a worker needs to run its share: the same scenario, overrides
// and seed as the coordinator, where Kafka is, and the run's topic.
struct WorkerLaunch {
  int workers = 1;
  std::string scenario_path;
  std::vector<std::string> sets;  // --set overrides, as given
  uint64_t seed = 0;
  std::string bootstrap;         // where the coordinator reaches Kafka
  std::string worker_bootstrap;  // where the workers do, if elsewhere (pods inside the cluster)
  std::map<std::string, std::string> kafka_properties;
  std::string topic;
  std::string results_dir;  // the run's: worker logs go under it
};

struct EndedWorker {
  int index = 0;
  std::string why;  // "exited with status 3", "killed by signal 9", "pod ... failed"
};

// A worker's command line after the program path (`worker SCENARIO --index
// I ...`), for a child process and for a pod's args alike.
std::vector<std::string> worker_arguments(const WorkerLaunch& launch, const std::string& scenario_path, const std::string& index,
                                          const std::string& properties_file);

class WorkerLauncher {
 public:
  virtual ~WorkerLauncher() = default;
  virtual Status launch(const WorkerLaunch& launch) = 0;
  // Workers that ended since the last call (whether or not they finished their work).
  virtual std::vector<EndedWorker> ended() = 0;
  // Ends whatever still runs (waiting up to `timeout_ms` for them to exit by themselves).
  virtual void stop(int timeout_ms) = 0;
  // What can be said about a worker for a message: the end of its log, its pod's state.
  virtual std::string about(int index) = 0;
};

}  // namespace kapture
