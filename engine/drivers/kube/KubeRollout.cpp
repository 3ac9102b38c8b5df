#include "drivers/kube/KubeRollout.h"

#include <thread>

namespace kapture {

namespace {

bool condition_true(const nlohmann::json& status, const std::string& type) {
  for (const auto& c : status.value("conditions", nlohmann::json::array()))
    if (c.value("type", "") == type) return c.value("status", "") == "True";
  return false;
}

int64_t field(const nlohmann::json& j, const char* name) {
  auto it = j.find(name);
  return it != j.end() && it->is_number_integer() ? it->get<int64_t>() : 0;
}

}  // namespace

bool kube_object_ready(const nlohmann::json& o, std::string& why_not) {
  std::string kind = o.value("kind", "");
  const auto& meta = o.value("metadata", nlohmann::json::object());
  const auto& spec = o.value("spec", nlohmann::json::object());
  const auto& status = o.value("status", nlohmann::json::object());
  if (kind == "Deployment" || kind == "StatefulSet") {
    int64_t want = spec.contains("replicas") ? field(spec, "replicas") : 1;
    if (field(status, "observedGeneration") < field(meta, "generation")) {
      why_not = "the controller has not seen the latest spec yet";
      return false;
    }
    int64_t updated = field(status, "updatedReplicas");
    int64_t ready = kind == "Deployment" ? field(status, "availableReplicas") : field(status, "readyReplicas");
    int64_t total = field(status, "replicas");
    if (updated < want || ready < want || total > want) {
      why_not = std::to_string(ready) + "/" + std::to_string(want) + " replicas ready, " + std::to_string(updated) + " updated, " +
                std::to_string(total) + " exist";
      return false;
    }
    return true;
  }
  if (kind == "Pod") {
    if (condition_true(status, "Ready")) return true;
    why_not = "pod not Ready (phase " + status.value("phase", "?") + ")";
    return false;
  }
  if (kind == "Job") {
    if (condition_true(status, "Complete")) return true;
    why_not = condition_true(status, "Failed") ? "job failed" : "job not complete";
    return false;
  }
  if (kind == "CustomResourceDefinition") {
    if (condition_true(status, "Established")) return true;
    why_not = "not Established";
    return false;
  }
  // Anything else (custom resources, operators' objects) that reports a
  // Ready or Available condition is waited for on it, as `kubectl wait
  // --for=condition=Ready` would be.
  for (const char* type : {"Ready", "Available"}) {
    for (const auto& c : status.value("conditions", nlohmann::json::array())) {
      if (c.value("type", "") != type) continue;
      if (c.value("status", "") == "True") return true;
      why_not = std::string("condition ") + type + " is " + c.value("status", "?") + (c.contains("message") ? ": " + c.value("message", "") : "");
      return false;
    }
  }
  return true;
}

Status wait_until_ready(KubeClient& client, const KubeObjectRef& ref, std::chrono::milliseconds timeout, const std::atomic<bool>* cancel) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  std::string why_not = "never read";
  for (;;) {
    if (cancel && *cancel) return runtime_error("interrupted while waiting for " + ref.describe() + ": " + why_not);
    auto got = client.get(ref);
    if (kube_ok(got)) {
      if (kube_object_ready(kube_value(got), why_not)) return std::nullopt;
    } else if (kube_error(got).http_status != 404) {
      return to_error(kube_error(got));
    } else {
      why_not = "does not exist";
    }
    if (std::chrono::steady_clock::now() >= deadline)
      return runtime_error(ref.describe() + " not ready after " + std::to_string(timeout.count() / 1000) + "s: " + why_not);
    // Polled: what changes is another controller's status, a few times a second at most.
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
}

KubeResult<KubeObjectRef> ref_of(KubeClient& client, const nlohmann::json& object, const std::string& ns) {
  auto type = client.resource_type(object.value("apiVersion", ""), object.value("kind", ""));
  if (!kube_ok(type)) return kube_error(type);
  KubeObjectRef ref;
  ref.type = kube_value(type);
  const auto& meta = object.value("metadata", nlohmann::json::object());
  ref.namespace_ = ref.type.namespaced ? meta.value("namespace", ns) : "";
  ref.name = meta.value("name", "");
  return ref;
}

}  // namespace kapture
