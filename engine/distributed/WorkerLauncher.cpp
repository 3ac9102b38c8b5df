#include "distributed/WorkerLauncher.h"

namespace kapture {

std::vector<std::string> worker_arguments(const WorkerLaunch& l, const std::string& scenario_path, const std::string& index,
                                          const std::string& properties_file) {
  std::vector<std::string> args = {"worker",    scenario_path, "--index", index, "--workers", std::to_string(l.workers),
                                   "--bootstrap", l.worker_bootstrap.empty() ? l.bootstrap : l.worker_bootstrap,
                                   "--topic", l.topic, "--seed", std::to_string(l.seed)};
  for (const auto& s : l.sets) {
    args.push_back("--set");
    args.push_back(s);
  }
  if (!properties_file.empty()) {
    args.push_back("--kafka-properties-file");
    args.push_back(properties_file);
  }
  return args;
}

}  // namespace kapture
