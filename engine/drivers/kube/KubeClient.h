#pragma once
// The engine's own Kubernetes API client (libcurl + nlohmann::json): what
// kubectl does for apply, get, list, delete, scale, evict and watch, with
// client-go's retry rules. Thread-safe: each call takes a pooled easy
// handle, so workloads and the timeline share one client per endpoint.
//
// Every error that reaches the user says the verb, the path and the API
// server's own message, e.g.
//   DELETE /api/v1/namespaces/ns/pods/kafka-0: 403 Forbidden: pods "kafka-0" is
//   forbidden: User "system:serviceaccount:ns:kapture" cannot delete resource
//   "pods" in API group "" in the namespace "ns" (needs verb "delete" on "pods"
//   in API group "" in namespace "ns")
// and when no answer came, the server too:
//   GET https://10.0.0.1:6443/api/v1/namespaces/ns/pods: cannot connect: Failed
//   to connect to 10.0.0.1 port 6443 after 0 ms: Couldn't connect to server
//   (after 6 attempts)
#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/Error.h"
#include "drivers/kube/KubeConfig.h"
#include "metrics/DependencyFaults.h"

namespace kapture {

// A resource type as the URL names it: group "" is the core API (/api/v1).
struct KubeResourceType {
  std::string group;     // "", "apps", "policy", "coordination.k8s.io", ...
  std::string version;   // "v1"
  std::string resource;  // plural: "pods", "statefulsets"
  std::string kind;      // "Pod", "StatefulSet"
  bool namespaced = true;
  std::string api_version() const { return group.empty() ? version : group + "/" + version; }
};

// One object: its type, namespace (ignored for cluster-scoped types) and name.
struct KubeObjectRef {
  KubeResourceType type;
  std::string namespace_;
  std::string name;
  // "/api/v1/namespaces/NS/pods/NAME"; without name: the collection;
  // sub ("scale", "eviction", "status") appended after the name.
  std::string path(const std::string& sub = "") const;
  std::string describe() const;  // "pods/kafka-0 in ns"
};

// The API's answer to a failed call, kept apart so callers can tell a 404
// from a 409 from a 403 without parsing messages.
struct KubeApiError {
  long http_status = 0;        // 0: no answer (connection, TLS, timeout), or refused before
                               // sending (reason "Invalid": a bad argument; "Unauthorized": no credential)
  std::string reason;          // Status.reason: "NotFound", "Conflict", "Forbidden", "Expired", ...
  std::string message;         // the whole user-facing message (verb, path, API's message)
  std::optional<int64_t> retry_after_s;
};

template <typename T>
using KubeResult = std::variant<T, KubeApiError>;  // callers use the helpers below

struct KubeListOptions {
  std::string label_selector;  // "app=kafka,tier!=x"
  std::string field_selector;  // "status.phase=Running"
  int limit = 500;             // page size; list() follows `continue` until the end
};

struct KubeDeleteOptions {
  std::optional<int64_t> grace_period_s;  // unset: the object's default
  std::string propagation;                // "", "Foreground", "Background", "Orphan"
};

struct KubeRetryPolicy {
  int max_attempts = 6;               // first try included
  std::chrono::milliseconds initial{200};
  std::chrono::milliseconds cap{5000};  // backoff and Retry-After both capped
  double jitter = 0.2;                // +-20% of each backoff
};

struct KubeClientOptions {
  KubeRetryPolicy retry;
  std::chrono::milliseconds request_timeout{30000};  // non-watch requests
  std::string user_agent = "kapture-engine";
  // Every attempt that gets no answer opens an outage of the API server
  // here, every answer closes it (retries included); may be null.
  DependencyFaults* faults = nullptr;
};

// What a watch hands its callback. type: ADDED, MODIFIED, DELETED,
// BOOKMARK (only resourceVersion), and RELISTED when the watch had to list
// again after 410 Gone (object = the whole new list, the callback resyncs).
struct KubeWatchEvent {
  std::string type;
  nlohmann::json object;
};

struct KubeWatchOptions {
  KubeListOptions list;
  std::string resource_version;  // start after this one; "" = list first, then watch from the list's
  bool send_initial_list = true; // with an empty resource_version: each listed object as ADDED first
  int timeout_s = 300;           // timeoutSeconds per watch request; reconnects after
};

class KubeClient {
 public:
  // Checks nothing over the network; the first call connects.
  static Result<std::unique_ptr<KubeClient>> create(KubeAccess access, KubeClientOptions options = {});
  ~KubeClient();
  KubeClient(const KubeClient&) = delete;
  KubeClient& operator=(const KubeClient&) = delete;

  const KubeEndpoint& endpoint() const;

  // The resource type of apiVersion+kind, from discovery (/api/v1,
  // /apis/GROUP/VERSION), cached per group/version; also custom resources.
  KubeResult<KubeResourceType> resource_type(const std::string& api_version, const std::string& kind);
  // By resource name ("pods", "statefulsets.apps", "deployments") as kubectl takes it.
  KubeResult<KubeResourceType> resource_by_name(const std::string& name);

  // Server-side apply of one object (PATCH application/apply-patch+yaml,
  // fieldManager=kapture-engine, force=true); its namespace is `ns` when the
  // object names none and its type is namespaced. Returns the applied object.
  KubeResult<nlohmann::json> apply(const nlohmann::json& object, const std::string& ns);
  KubeResult<nlohmann::json> get(const KubeObjectRef& ref);
  // All pages; the returned List's metadata.resourceVersion is the last page's.
  KubeResult<nlohmann::json> list(const KubeObjectRef& collection, const KubeListOptions& options = {});
  KubeResult<nlohmann::json> create(const KubeObjectRef& collection, const nlohmann::json& object);
  // 404 is not an error when missing_ok (the object is gone either way):
  // the result is null then. Else the API's answer: the object (still
  // terminating) or a Status.
  KubeResult<nlohmann::json> remove(const KubeObjectRef& ref, const KubeDeleteOptions& options = {}, bool missing_ok = true);
  // patch_type: "merge" (application/merge-patch+json), "strategic"
  // (application/strategic-merge-patch+json), "json" (application/json-patch+json).
  KubeResult<nlohmann::json> patch(const KubeObjectRef& ref, const nlohmann::json& patch, const std::string& patch_type = "merge",
                                   const std::string& sub = "");
  // The scale subresource: current spec.replicas, and setting it.
  KubeResult<int> get_scale(const KubeObjectRef& ref);
  KubeResult<nlohmann::json> set_scale(const KubeObjectRef& ref, int replicas);
  // POST .../pods/NAME/eviction (policy/v1). A PodDisruptionBudget refusing
  // is a 429 with reason TooManyRequests: returned, not retried.
  KubeResult<nlohmann::json> evict(const std::string& ns, const std::string& pod, std::optional<int64_t> grace_period_s = {});

  // Watches a collection until `on_event` returns false or `stop` becomes
  // true (checked at least every second). Resumes after disconnects from the
  // last resourceVersion seen (bookmarks requested), lists again after 410
  // Gone (a RELISTED event). Returns when stopped; an error only when the
  // API refuses outright (403, 404) or keeps failing past the retry policy.
  Status watch(const KubeObjectRef& collection, const KubeWatchOptions& options,
               const std::function<bool(const KubeWatchEvent&)>& on_event, const std::atomic<bool>& stop);

  // Any request, with the retries: for what the typed calls do not cover.
  // body empty: no body. Returns the parsed JSON answer (null when empty).
  KubeResult<nlohmann::json> request(const std::string& verb, const std::string& path, const std::string& body = "",
                                     const std::string& content_type = "application/json");

  // Counters for metrics and tests: requests sent (retries included),
  // retries, 429 answers.
  struct Counters {
    uint64_t requests = 0, retries = 0, throttled = 0;
  };
  Counters counters() const;

 private:
  struct Impl;
  explicit KubeClient(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Helpers for KubeResult.
template <typename T>
bool kube_ok(const KubeResult<T>& r) { return r.index() == 0; }
template <typename T>
const T& kube_value(const KubeResult<T>& r) { return std::get<0>(r); }
template <typename T>
const KubeApiError& kube_error(const KubeResult<T>& r) { return std::get<1>(r); }
// The error as the engine's Error (runtime kind), for the CLI.
Error to_error(const KubeApiError& e);

// The type of well-known kinds without discovery (Pod, Service, ConfigMap,
// Secret, Namespace, Node, ServiceAccount, Deployment, StatefulSet,
// DaemonSet, Job, PodDisruptionBudget, Role, RoleBinding, ClusterRole,
// ClusterRoleBinding, Lease, Event): used by callers that know what they ask for.
std::optional<KubeResourceType> builtin_resource_type(const std::string& api_version, const std::string& kind);

}  // namespace kapture
