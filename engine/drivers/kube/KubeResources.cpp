#include "drivers/kube/KubeResources.h"

#include <algorithm>
#include <cctype>
#include <cstring>

namespace kapture {

namespace {

struct Builtin {
  const char* group;
  const char* version;
  const char* resource;
  const char* kind;
  bool namespaced;
  const char* short_names;  // space-separated
};

// Core first: a name without a group ("events") means the core type.
constexpr Builtin kBuiltins[] = {
    {"", "v1", "pods", "Pod", true, "po"},
    {"", "v1", "services", "Service", true, "svc"},
    {"", "v1", "configmaps", "ConfigMap", true, "cm"},
    {"", "v1", "secrets", "Secret", true, ""},
    {"", "v1", "namespaces", "Namespace", false, "ns"},
    {"", "v1", "nodes", "Node", false, "no"},
    {"", "v1", "serviceaccounts", "ServiceAccount", true, "sa"},
    {"", "v1", "endpoints", "Endpoints", true, "ep"},
    {"", "v1", "persistentvolumeclaims", "PersistentVolumeClaim", true, "pvc"},
    {"", "v1", "persistentvolumes", "PersistentVolume", false, "pv"},
    {"", "v1", "events", "Event", true, "ev"},
    {"apps", "v1", "deployments", "Deployment", true, "deploy"},
    {"apps", "v1", "statefulsets", "StatefulSet", true, "sts"},
    {"apps", "v1", "daemonsets", "DaemonSet", true, "ds"},
    {"apps", "v1", "replicasets", "ReplicaSet", true, "rs"},
    {"batch", "v1", "jobs", "Job", true, ""},
    {"batch", "v1", "cronjobs", "CronJob", true, "cj"},
    {"policy", "v1", "poddisruptionbudgets", "PodDisruptionBudget", true, "pdb"},
    {"rbac.authorization.k8s.io", "v1", "roles", "Role", true, ""},
    {"rbac.authorization.k8s.io", "v1", "rolebindings", "RoleBinding", true, ""},
    {"rbac.authorization.k8s.io", "v1", "clusterroles", "ClusterRole", false, ""},
    {"rbac.authorization.k8s.io", "v1", "clusterrolebindings", "ClusterRoleBinding", false, ""},
    {"coordination.k8s.io", "v1", "leases", "Lease", true, ""},
    {"events.k8s.io", "v1", "events", "Event", true, "ev"},
    {"networking.k8s.io", "v1", "networkpolicies", "NetworkPolicy", true, "netpol"},
    {"networking.k8s.io", "v1", "ingresses", "Ingress", true, "ing"},
    {"autoscaling", "v2", "horizontalpodautoscalers", "HorizontalPodAutoscaler", true, "hpa"},
    {"apiextensions.k8s.io", "v1", "customresourcedefinitions", "CustomResourceDefinition", false, "crd crds"},
};

KubeResourceType to_type(const Builtin& b) { return KubeResourceType{b.group, b.version, b.resource, b.kind, b.namespaced}; }

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

bool names_it(const Builtin& b, const std::string& resource) {
  if (resource == b.resource || resource == lower(b.kind)) return true;
  std::string shorts = std::string(" ") + b.short_names + " ";
  return !resource.empty() && shorts.find(" " + resource + " ") != std::string::npos;
}

// Percent-encodes every byte but alphanumerics and those in `keep`.
std::string percent_escape(std::string_view s, const char* keep) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || (c && std::strchr(keep, c))) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

// A path segment: names and namespaces are DNS labels in practice; anything
// else is percent-encoded so it cannot change the path.
std::string path_escape(std::string_view s) { return percent_escape(s, "-._~:@"); }

}  // namespace

std::string KubeObjectRef::path(const std::string& sub) const {
  std::string p = type.group.empty() ? "/api/" + type.version : "/apis/" + type.group + "/" + type.version;
  if (type.namespaced && !namespace_.empty()) p += "/namespaces/" + path_escape(namespace_);
  p += "/" + type.resource;
  if (!name.empty()) {
    p += "/" + path_escape(name);
    if (!sub.empty()) p += "/" + sub;
  }
  return p;
}

std::string KubeObjectRef::describe() const {
  std::string out = type.resource;
  if (!type.group.empty()) out += "." + type.group;
  if (!name.empty()) out += "/" + name;
  if (type.namespaced) out += namespace_.empty() ? std::string(" in all namespaces") : " in " + namespace_;
  return out;
}

std::optional<KubeResourceType> builtin_resource_type(const std::string& api_version, const std::string& kind) {
  for (const auto& b : kBuiltins) {
    KubeResourceType t = to_type(b);
    if (t.kind == kind && t.api_version() == api_version) return t;
  }
  return std::nullopt;
}

std::vector<KubeResourceName> parse_resource_name(const std::string& name) {
  std::vector<KubeResourceName> out;
  const std::string n = lower(name);
  size_t dot = n.find('.');
  if (dot == std::string::npos) {
    out.push_back({n, "", "", false});
    return out;
  }
  std::string resource = n.substr(0, dot), rest = n.substr(dot + 1);
  out.push_back({resource, "", rest, true});  // resource.group
  size_t dot2 = rest.find('.');
  if (dot2 != std::string::npos) out.push_back({resource, rest.substr(0, dot2), rest.substr(dot2 + 1), true});  // resource.version.group
  return out;
}

std::optional<KubeResourceType> builtin_resource_by_name(const std::string& name) {
  for (const auto& want : parse_resource_name(name)) {
    for (const auto& b : kBuiltins) {
      if (!names_it(b, want.resource)) continue;
      if (want.group_given && want.group != b.group) continue;
      if (!want.version.empty() && want.version != b.version) continue;
      return to_type(b);
    }
  }
  return std::nullopt;
}

std::string url_query_escape(std::string_view s) { return percent_escape(s, "-._~"); }

std::string url_query(const std::vector<std::pair<std::string, std::string>>& params) {
  std::string out;
  for (const auto& [k, v] : params) {
    if (v.empty()) continue;
    out += out.empty() ? '?' : '&';
    out += k + "=" + url_query_escape(v);
  }
  return out;
}

}  // namespace kapture
