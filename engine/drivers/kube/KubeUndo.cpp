#include "drivers/kube/KubeUndo.h"

#include <thread>

#include "drivers/kube/KubeRollout.h"

namespace kapture {

namespace {

nlohmann::json object_fields(const char* op, const KubeObjectRef& ref) {
  return {{"op", op}, {"api_version", ref.type.api_version()}, {"kind", ref.type.kind}, {"namespace", ref.namespace_}, {"name", ref.name}};
}

KubeResult<KubeObjectRef> ref_from(KubeClient& client, const nlohmann::json& undo) {
  nlohmann::json object = {{"apiVersion", undo.value("api_version", "")},
                           {"kind", undo.value("kind", "")},
                           {"metadata", {{"name", undo.value("name", "")}, {"namespace", undo.value("namespace", "")}}}};
  return ref_of(client, object, undo.value("namespace", ""));
}

Status wait_gone(KubeClient& client, const KubeObjectRef& ref, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    auto got = client.get(ref);
    if (!kube_ok(got)) {
      if (kube_error(got).http_status == 404) return std::nullopt;
      return to_error(kube_error(got));
    }
    if (std::chrono::steady_clock::now() >= deadline)
      return runtime_error(ref.describe() + " still exists " + std::to_string(timeout.count() / 1000) + "s after its deletion (" +
                           kube_value(got).value("status", nlohmann::json::object()).value("phase", "?") + ")");
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
}

}  // namespace

nlohmann::json scale_undo(const KubeObjectRef& ref, int replicas) {
  auto j = object_fields("scale", ref);
  j["replicas"] = replicas;
  return j;
}
nlohmann::json uncordon_undo(const std::string& node) { return {{"op", "uncordon"}, {"node", node}}; }
nlohmann::json delete_undo(const KubeObjectRef& ref) { return object_fields("delete", ref); }
nlohmann::json delete_namespace_undo(const std::string& ns) { return {{"op", "delete-namespace"}, {"namespace", ns}}; }

bool is_kube_undo(const nlohmann::json& undo) {
  if (!undo.is_object()) return false;
  std::string op = undo.value("op", "");
  return op == "scale" || op == "uncordon" || op == "delete" || op == "delete-namespace";
}

Status replay_kube_undo(KubeClient& client, const nlohmann::json& undo, std::chrono::milliseconds timeout) {
  std::string op = undo.value("op", "");
  if (op == "uncordon") {
    KubeObjectRef node{*builtin_resource_type("v1", "Node"), "", undo.value("node", "")};
    auto r = client.patch(node, {{"spec", {{"unschedulable", nullptr}}}});
    if (!kube_ok(r) && kube_error(r).http_status != 404) return to_error(kube_error(r));
    return std::nullopt;
  }
  if (op == "delete-namespace") {
    KubeObjectRef ns{*builtin_resource_type("v1", "Namespace"), "", undo.value("namespace", "")};
    auto r = client.remove(ns, {}, true);
    if (!kube_ok(r)) return to_error(kube_error(r));
    return wait_gone(client, ns, timeout);
  }
  auto ref = ref_from(client, undo);
  if (!kube_ok(ref)) {
    // The type itself is gone (a custom resource's CRD deleted): so is the object.
    if (kube_error(ref).http_status == 404) return std::nullopt;
    return to_error(kube_error(ref));
  }
  if (op == "delete") {
    auto r = client.remove(kube_value(ref), {{}, "Background"}, true);
    if (!kube_ok(r)) return to_error(kube_error(r));
    return std::nullopt;
  }
  if (op == "scale") {
    auto r = client.set_scale(kube_value(ref), undo.value("replicas", 0));
    if (!kube_ok(r)) return to_error(kube_error(r));
    return wait_until_ready(client, kube_value(ref), timeout);
  }
  return runtime_error("unknown undo '" + op + "' in the journal");
}

}  // namespace kapture
