#pragma once
// The Kubernetes objects of a distributed run on the kubernetes target: an
// Indexed Job of N worker pods (pod i runs `kapture-engine worker --index i`,
// its index from JOB_COMPLETION_INDEX), a ConfigMap with the scenario and the
// Lua files it names (mounted where the worker looks them up), and, when
// the Kafka client properties are not empty, a Secret with them. No
// restarts (backoffLimit 0, restartPolicy Never): a worker that dies is the
// coordinator's to notice, and the run fails rather than resending a share.
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "distributed/WorkerLauncher.h"

namespace kapture {

struct WorkerJobSpec {
  WorkerLaunch launch;
  std::string ns;
  std::string run_label;  // kapture.io/run
  std::string name;       // the Job's; the ConfigMap and Secret are named after it
  std::string image = "kapture-engine:latest";
  nlohmann::json resources;  // the container's {requests, limits}, or null
  std::string scenario_file;  // the file name in the ConfigMap
  std::string scenario_text;
  std::vector<std::pair<std::string, std::string>> lua_files;  // (path as the scenario names it, content)
};

// Where the ConfigMap is mounted: the image ships lua/ at /usr/share/kapture/lua,
// one directory up, which the scenario's `lua:` lookup reaches too.
inline constexpr const char* kWorkerScenarioDir = "/usr/share/kapture/run";

std::vector<nlohmann::json> worker_job_objects(const WorkerJobSpec& spec);
// A DNS-1123 name for the Job of a results directory name.
std::string worker_job_name(const std::string& run_dir_name);

}  // namespace kapture
