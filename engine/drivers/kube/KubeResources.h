#pragma once
// The resource types the Kubernetes client knows without asking the API
// server, and the URL pieces it builds. KubeObjectRef::path and
// builtin_resource_type (declared in KubeClient.h) live here too.
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "drivers/kube/KubeClient.h"

namespace kapture {

// A resource name as kubectl takes it ("pods", "po", "pod",
// "statefulsets.apps", "deployments.v1.apps") split into resource, version
// and group ("" when not given).
struct KubeResourceName {
  std::string resource, version, group;
  bool group_given = false;
};
std::vector<KubeResourceName> parse_resource_name(const std::string& name);

// The builtin type a resource name means: plural, singular or short name,
// with or without its group; the core group wins when there is no group.
std::optional<KubeResourceType> builtin_resource_by_name(const std::string& name);

// Percent-encoding of a query value (RFC 3986 unreserved characters stay).
std::string url_query_escape(std::string_view s);

// "?a=b&c=d" from pairs whose value is not empty; "" when all are.
std::string url_query(const std::vector<std::pair<std::string, std::string>>& params);

}  // namespace kapture
