#include "workloads/KubeLoadCommon.h"

namespace kapture {

KubeAccess kube_access_for(const KubeAccess& access, const std::string& server) {
  KubeAccess a = access;
  std::string s = server;
  while (!s.empty() && s.back() == '/') s.pop_back();
  a.endpoint.server = s;
  return a;
}

Result<KubeResourceType> kube_resolve_resource(KubeClient& client, const std::string& what, const std::string& resource) {
  auto t = client.resource_by_name(resource);
  if (!kube_ok(t)) {
    const KubeApiError& e = kube_error(t);
    if (e.http_status == 404)
      return usage_error(what + ": the API server at " + client.endpoint().server + " has no resource '" + resource + "': " + e.message);
    return unreachable_error(what + ": cannot look up resource '" + resource + "': " + e.message);
  }
  KubeResourceType type = kube_value(t);
  if (type.kind.empty()) return usage_error(what + ": resource '" + resource + "' has no kind in the API server's discovery");
  return type;
}

Status kube_probe(KubeClient& client, const std::string& what, const KubeResourceType& type, const std::string& ns) {
  // One page of one object: can we list there at all? (list() would follow
  // every page.)
  KubeObjectRef collection{type, ns, ""};
  auto r = client.request("GET", collection.path() + "?limit=1");
  if (!kube_ok(r))
    return unreachable_error(what + ": cannot use " + collection.describe() + " at " + client.endpoint().server + ": " +
                             kube_error(r).message);
  return std::nullopt;
}

std::vector<std::string> kube_load_counters() {
  return {"kube.intended", "kube.requests",  "kube.status_2xx", "kube.status_4xx", "kube.status_5xx",
          "kube.forbidden", "kube.throttled", "kube.retries",   "kube.errors",     "kube.created",
          "kube.updated",  "kube.deleted",   "kube.writes",    "kube.engine_late"};
}

}  // namespace kapture
