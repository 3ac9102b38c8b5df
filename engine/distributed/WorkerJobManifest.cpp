#include "distributed/WorkerJobManifest.h"

#include <cctype>


namespace kapture {

namespace {

constexpr const char* kPropertiesDir = "/var/run/kapture";

nlohmann::json labels(const WorkerJobSpec& s) {
  return {{"app.kubernetes.io/name", "kapture-worker"}, {"app.kubernetes.io/part-of", "kapture"}, {"kapture.io/run", s.run_label}};
}

// A ConfigMap item path must be relative and stay inside the volume.
bool mountable(const std::string& path) {
  return !path.empty() && path[0] != '/' && path.find("..") == std::string::npos;
}

}  // namespace

std::string worker_job_name(const std::string& run_dir_name) {
  std::string out = "kapture-workers-";
  for (char c : run_dir_name) {
    char l = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    out += std::isalnum(static_cast<unsigned char>(l)) ? l : '-';
  }
  // Job names become pod names with a suffix: keep room for it (63).
  if (out.size() > 52) out.resize(52);
  while (!out.empty() && out.back() == '-') out.pop_back();
  return out;
}

std::vector<nlohmann::json> worker_job_objects(const WorkerJobSpec& s) {
  std::vector<nlohmann::json> out;
  nlohmann::json data = {{"scenario", s.scenario_text}};
  nlohmann::json items = nlohmann::json::array({{{"key", "scenario"}, {"path", s.scenario_file}}});
  for (size_t i = 0; i < s.lua_files.size(); ++i) {
    if (!mountable(s.lua_files[i].first)) continue;
    std::string key = "lua-" + std::to_string(i);
    data[key] = s.lua_files[i].second;
    items.push_back({{"key", key}, {"path", s.lua_files[i].first}});
  }
  out.push_back({{"apiVersion", "v1"},
                 {"kind", "ConfigMap"},
                 {"metadata", {{"name", s.name}, {"namespace", s.ns}, {"labels", labels(s)}}},
                 {"data", data}});

  const bool with_properties = !s.launch.kafka_properties.empty();
  if (with_properties) {
    out.push_back({{"apiVersion", "v1"},
                   {"kind", "Secret"},
                   {"metadata", {{"name", s.name + "-kafka"}, {"namespace", s.ns}, {"labels", labels(s)}}},
                   {"type", "Opaque"},
                   {"stringData", {{"kafka-properties.json", nlohmann::json(s.launch.kafka_properties).dump()}}}});
  }

  std::vector<std::string> args = worker_arguments(s.launch, std::string(kWorkerScenarioDir) + "/" + s.scenario_file, "$(JOB_COMPLETION_INDEX)",
                                                   with_properties ? std::string(kPropertiesDir) + "/kafka-properties.json" : "");
  nlohmann::json mounts = nlohmann::json::array({{{"name", "scenario"}, {"mountPath", kWorkerScenarioDir}, {"readOnly", true}}});
  nlohmann::json volumes = nlohmann::json::array({{{"name", "scenario"}, {"configMap", {{"name", s.name}, {"items", items}}}}});
  if (with_properties) {
    mounts.push_back({{"name", "kafka"}, {"mountPath", kPropertiesDir}, {"readOnly", true}});
    volumes.push_back({{"name", "kafka"}, {"secret", {{"secretName", s.name + "-kafka"}}}});
  }
  nlohmann::json container = {
      {"name", "worker"},
      {"image", s.image},
      {"imagePullPolicy", "IfNotPresent"},
      {"args", args},
      {"volumeMounts", mounts},
      {"securityContext",
       {{"runAsNonRoot", true}, {"allowPrivilegeEscalation", false}, {"readOnlyRootFilesystem", true}, {"capabilities", {{"drop", {"ALL"}}}}}}};
  if (s.resources.is_object()) container["resources"] = s.resources;
  out.push_back({{"apiVersion", "batch/v1"},
                 {"kind", "Job"},
                 {"metadata", {{"name", s.name}, {"namespace", s.ns}, {"labels", labels(s)}}},
                 {"spec",
                  {{"completionMode", "Indexed"},
                   {"completions", s.launch.workers},
                   {"parallelism", s.launch.workers},
                   {"backoffLimit", 0},
                   {"ttlSecondsAfterFinished", 3600},
                   {"template",
                    {{"metadata", {{"labels", labels(s)}}},
                     {"spec", {{"restartPolicy", "Never"}, {"containers", {container}}, {"volumes", volumes}}}}}}}});
  return out;
}

}  // namespace kapture
