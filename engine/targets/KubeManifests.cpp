#include "targets/KubeManifests.h"

#include <algorithm>
#include <filesystem>

#include <yaml-cpp/yaml.h>

#include "common/YamlJson.h"

namespace kapture {

namespace fs = std::filesystem;

const std::vector<std::string>& component_order() {
  static const std::vector<std::string> order = {"rbac", "kafka", "redis", "postgres", "etl", "loader", "webapp"};
  return order;
}

namespace {

// The workload (Deployment or StatefulSet) a component scales: its
// app.kubernetes.io/name label equals the component, or it is the only one.
bool is_scalable(const nlohmann::json& o) {
  std::string kind = o.value("kind", "");
  return kind == "Deployment" || kind == "StatefulSet";
}

void set_resources(nlohmann::json& workload, const nlohmann::json& resources) {
  auto& containers = workload["spec"]["template"]["spec"]["containers"];
  if (!containers.is_array()) return;
  for (auto& c : containers) c["resources"] = resources;
}

void set_image(nlohmann::json& workload, const std::string& image) {
  auto& containers = workload["spec"]["template"]["spec"]["containers"];
  if (!containers.is_array() || containers.empty()) return;
  containers[0]["image"] = image;  // the component's main container comes first
}

}  // namespace

Result<std::vector<ComponentObjects>> load_component_objects(const Scenario& s, const std::string& ns, const std::string& run_label) {
  std::vector<ComponentObjects> out;
  const auto& k = s.kubernetes;
  if (k.manifests.empty() && !k.deploy.empty())
    return usage_error("no manifests directory: set topology.kubernetes.manifests (the engine's manifests/ was not found beside the scenario or above it)");
  for (const auto& component : component_order()) {
    if (std::find(k.deploy.begin(), k.deploy.end(), component) == k.deploy.end()) continue;
    ComponentObjects co;
    co.component = component;
    co.file = (fs::path(k.manifests) / (component + ".yaml")).string();
    std::vector<YAML::Node> docs;
    try {
      docs = YAML::LoadAllFromFile(co.file);
    } catch (const YAML::BadFile&) {
      return usage_error(co.file + ": cannot read the manifest of component '" + component + "'");
    } catch (const YAML::Exception& e) {
      return usage_error(e.msg, SourceLocation{co.file, e.mark.line + 1, e.mark.column + 1});
    }
    for (const auto& doc : docs) {
      if (doc.IsNull()) continue;
      nlohmann::json o = yaml_to_json(doc, YamlDialect::Kubectl);  // as kubectl would read the file
      if (!o.is_object() || !o.contains("kind") || !o.contains("apiVersion"))
        return usage_error("a manifest document without kind or apiVersion", SourceLocation{co.file, doc.Mark().line + 1, doc.Mark().column + 1});
      auto& meta = o["metadata"];
      meta["labels"]["kapture.io/run"] = run_label;
      // Role bindings name the service account's namespace: this run's.
      if (o["kind"] == "RoleBinding" || o["kind"] == "ClusterRoleBinding")
        for (auto& subject : o["subjects"])
          if (subject.value("kind", "") == "ServiceAccount") subject["namespace"] = ns;
      if (is_scalable(o)) {
        if (component == "kafka") o["spec"]["replicas"] = s.kafka.brokers;
        else if (auto it = k.replicas.find(component); it != k.replicas.end()) o["spec"]["replicas"] = it->second;
        if (auto it = k.images.find(component); it != k.images.end()) set_image(o, it->second);
        if (auto it = k.resources.find(component); it != k.resources.end()) set_resources(o, it->second);
      }
      co.objects.push_back(std::move(o));
    }
    if (co.objects.empty()) return usage_error(co.file + ": no objects in the manifest of component '" + component + "'");
    out.push_back(std::move(co));
  }
  return out;
}

}  // namespace kapture
