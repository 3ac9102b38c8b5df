// The engine's Kubernetes API client against a real control plane (etcd,
// kube-apiserver, kube-controller-manager, kube-scheduler and kwok from
// scripts/kube-up): apply, get, list, create, delete, patch, the scale
// subresource, evictions under a PodDisruptionBudget, watches (resuming and
// relisting after 410 Gone), RBAC denials, an unreachable server and the
// discovery of a custom resource. tests/integration/kube_client.sh starts the
// control plane and passes its kubeconfig in KAPTURE_TEST_KUBECONFIG.
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "drivers/kube/KubeClient.h"
#include "drivers/kube/KubeConfig.h"

using namespace kapture;
using json = nlohmann::json;
using namespace std::chrono_literals;

namespace {

// A namespace of its own per run, so the binary can run again on a kept cluster.
const std::string kNs = "kube-client-test-" + std::to_string(::getpid());

bool contains(const std::string& haystack, const std::string& needle) { return haystack.find(needle) != std::string::npos; }

// The value, or the test fails with the client's message.
template <typename T>
T must(KubeResult<T> r) {
  if (!kube_ok(r)) FAIL(kube_error(r).message);
  return std::get<0>(std::move(r));
}

template <typename T>
T must(Result<T> r) {
  if (!r) FAIL(r.error().describe());
  return std::move(*r);
}

// The error, or the test fails saying what came back instead.
template <typename T>
KubeApiError must_fail(KubeResult<T> r) {
  if (kube_ok(r)) FAIL("expected an error, the call succeeded");
  return std::get<1>(std::move(r));
}

// Polls `done` every 100 ms until it holds or `timeout` passes.
bool eventually(std::chrono::milliseconds timeout, const std::function<bool()>& done) {
  const auto until = std::chrono::steady_clock::now() + timeout;
  while (true) {
    if (done()) return true;
    if (std::chrono::steady_clock::now() > until) return false;
    std::this_thread::sleep_for(100ms);
  }
}

struct Cluster {
  KubeAccess access;
  std::unique_ptr<KubeClient> admin;
};

// The control plane of KAPTURE_TEST_KUBECONFIG with the test namespace, set
// up once; every case fails when that is impossible.
Cluster& cluster() {
  static std::unique_ptr<Cluster> c;
  static std::string failure;
  if (c) return *c;
  REQUIRE_MESSAGE(failure.empty(), failure);
  auto set_up = [&]() -> std::string {
    const char* path = std::getenv("KAPTURE_TEST_KUBECONFIG");
    if (!path || !*path)
      return "KAPTURE_TEST_KUBECONFIG is not set: these tests need a real API server; run "
             "tests/integration/kube_client.sh (ctest -R kube_client)";
    KubeConfigOptions o;
    o.kubeconfig = path;
    auto access = resolve_kube_access(o);
    if (!access) return "resolving " + std::string(path) + ": " + access.error().describe();
    auto client = KubeClient::create(*access);
    if (!client) return client.error().describe();
    auto made = std::make_unique<Cluster>(Cluster{*access, std::move(*client)});
    auto ns = made->admin->apply(json{{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", kNs}}}}, "");
    if (!kube_ok(ns)) return kube_error(ns).message;
    // Pods are refused until the namespace's default ServiceAccount exists.
    KubeObjectRef sa{*builtin_resource_type("v1", "ServiceAccount"), kNs, "default"};
    if (!eventually(30s, [&] { return kube_ok(made->admin->get(sa)); }))
      return "ServiceAccount default never appeared in namespace " + kNs;
    c = std::move(made);
    return "";
  };
  failure = set_up();
  REQUIRE_MESSAGE(failure.empty(), failure);
  return *c;
}

KubeClient& admin() { return *cluster().admin; }

KubeObjectRef ref(const std::string& api_version, const std::string& kind, const std::string& name = "") {
  auto t = builtin_resource_type(api_version, kind);
  REQUIRE(t);
  return KubeObjectRef{*t, kNs, name};
}

json config_map(const std::string& name, json data, json labels = json::object()) {
  return json{{"apiVersion", "v1"},
              {"kind", "ConfigMap"},
              {"metadata", {{"name", name}, {"labels", std::move(labels)}}},
              {"data", std::move(data)}};
}

json pod_template(const std::string& app) {
  return json{{"metadata", {{"labels", {{"app", app}}}}},
              {"spec",
               {{"terminationGracePeriodSeconds", 5},
                {"containers", json::array({{{"name", "main"}, {"image", "busybox"}, {"command", {"sleep", "infinity"}}}})}}}};
}

json deployment(const std::string& name, int replicas) {
  return json{{"apiVersion", "apps/v1"},
              {"kind", "Deployment"},
              {"metadata", {{"name", name}}},
              {"spec", {{"replicas", replicas}, {"selector", {{"matchLabels", {{"app", name}}}}}, {"template", pod_template(name)}}}};
}

int64_t int_at(const json& j, const json::json_pointer& p) {
  return j.contains(p) && j.at(p).is_number_integer() ? j.at(p).get<int64_t>() : 0;
}

std::string str_at(const json& j, const json::json_pointer& p) {
  return j.contains(p) && j.at(p).is_string() ? j.at(p).get<std::string>() : "";
}

int64_t ready_replicas(const KubeObjectRef& r) {
  auto got = admin().get(r);
  return kube_ok(got) ? int_at(kube_value(got), "/status/readyReplicas"_json_pointer) : -1;
}

std::vector<std::string> item_names(const json& list) {
  std::vector<std::string> names;
  for (const auto& item : list["items"]) names.push_back(str_at(item, "/metadata/name"_json_pointer));
  std::sort(names.begin(), names.end());
  return names;
}

std::string joined(const std::vector<std::string>& words) {
  std::string out;
  for (const auto& w : words) out += (out.empty() ? "" : " ") + w;
  return out;
}

// Collects what a watch hands its callback, from the watch's thread.
struct Recorder {
  std::mutex mu;
  std::vector<KubeWatchEvent> events;
  bool record(const KubeWatchEvent& e) {
    std::lock_guard<std::mutex> lock(mu);
    events.push_back(e);
    return true;
  }
  // The event types seen for one object, in order.
  std::vector<std::string> types_of(const std::string& name) {
    std::lock_guard<std::mutex> lock(mu);
    std::vector<std::string> out;
    for (const auto& e : events)
      if (str_at(e.object, "/metadata/name"_json_pointer) == name) out.push_back(e.type);
    return out;
  }
  size_t count(const std::string& type) {
    std::lock_guard<std::mutex> lock(mu);
    return static_cast<size_t>(std::count_if(events.begin(), events.end(), [&](const KubeWatchEvent& e) { return e.type == type; }));
  }
};

// A loopback port nothing listens on.
int closed_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  socklen_t len = sizeof a;
  REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0);
  ::close(fd);
  return ntohs(a.sin_port);
}

// The Widget custom resource (kapture.test/v1): its CRD applied and
// Established, then found by discovery.
KubeResourceType widget_type() {
  KubeClient& k = admin();
  json crd = json::parse(R"({
    "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
    "metadata": {"name": "widgets.kapture.test"},
    "spec": {"group": "kapture.test", "scope": "Namespaced",
      "names": {"plural": "widgets", "singular": "widget", "kind": "Widget", "shortNames": ["wdg"]},
      "versions": [{"name": "v1", "served": true, "storage": true,
        "schema": {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}}}]}})");
  must(k.apply(crd, ""));
  const KubeObjectRef crd_ref{*builtin_resource_type("apiextensions.k8s.io/v1", "CustomResourceDefinition"), "", "widgets.kapture.test"};
  REQUIRE(eventually(30s, [&] {
    for (const auto& c : must(k.get(crd_ref))["status"].value("conditions", json::array()))
      if (c.value("type", "") == "Established" && c.value("status", "") == "True") return true;
    return false;
  }));
  std::optional<KubeResourceType> widget;
  std::string last;
  REQUIRE_MESSAGE(eventually(15s, [&] {
    auto t = k.resource_type("kapture.test/v1", "Widget");
    if (kube_ok(t)) widget = kube_value(t);
    else last = kube_error(t).message;
    return widget.has_value();
  }), last);
  return *widget;
}

}  // namespace

TEST_CASE("apply creates, re-applies idempotently, and the field manager is kapture-engine") {
  KubeClient& k = admin();
  json cm = config_map("applied", {{"a", "1"}}, {{"suite", "kube-client"}});
  json first = must(k.apply(cm, kNs));
  CHECK(first["data"]["a"] == "1");
  CHECK(str_at(first, "/metadata/namespace"_json_pointer) == kNs);
  const std::string rv = str_at(first, "/metadata/resourceVersion"_json_pointer);
  bool managed = false;
  for (const auto& f : first["metadata"]["managedFields"])
    if (f.value("manager", "") == "kapture-engine" && f.value("operation", "") == "Apply") managed = true;
  CHECK_MESSAGE(managed, first["metadata"]["managedFields"].dump());

  json again = must(k.apply(cm, kNs));
  CHECK_MESSAGE(str_at(again, "/metadata/resourceVersion"_json_pointer) == rv, "the same apply changed nothing");

  cm["data"]["a"] = "2";
  json changed = must(k.apply(cm, kNs));
  CHECK(changed["data"]["a"] == "2");
  CHECK(str_at(changed, "/metadata/resourceVersion"_json_pointer) != rv);
  CHECK(must(k.get(ref("v1", "ConfigMap", "applied")))["data"]["a"] == "2");

  // Merge, strategic and JSON patches.
  must(k.patch(ref("v1", "ConfigMap", "applied"), json{{"data", {{"b", "x"}}}}));
  must(k.patch(ref("v1", "ConfigMap", "applied"), json{{"data", {{"c", "y"}}}}, "strategic"));
  json patched = must(k.patch(ref("v1", "ConfigMap", "applied"),
                              json::array({{{"op", "replace"}, {"path", "/data/a"}, {"value", "3"}}}), "json"));
  CHECK(patched["data"] == json{{"a", "3"}, {"b", "x"}, {"c", "y"}});
  KubeApiError bad = must_fail(k.patch(ref("v1", "ConfigMap", "applied"), json::object(), "yaml"));
  CHECK(contains(bad.message, "unknown patch type 'yaml'"));

  KubeApiError invalid = must_fail(k.apply(json{{"kind", "ConfigMap"}}, kNs));
  CHECK(invalid.reason == "Invalid");
  CHECK(contains(invalid.message, "needs apiVersion, kind and metadata.name"));
}

TEST_CASE("get of a missing object is a NotFound KubeApiError with the API's message") {
  KubeApiError e = must_fail(admin().get(ref("v1", "ConfigMap", "nope")));
  CHECK(e.http_status == 404);
  CHECK(e.reason == "NotFound");
  CHECK(e.message == "GET /api/v1/namespaces/" + kNs + "/configmaps/nope: 404 Not Found: configmaps \"nope\" not found");
  CHECK(to_error(e).message == e.message);
}

TEST_CASE("list follows pages with a label selector; create answers 409 for a duplicate") {
  KubeClient& k = admin();
  for (int i = 0; i < 5; ++i) must(k.create(ref("v1", "ConfigMap"), config_map("page-" + std::to_string(i), {{"i", std::to_string(i)}}, {{"batch", "pages"}})));
  must(k.create(ref("v1", "ConfigMap"), config_map("unlabelled", json::object())));

  auto before = k.counters();
  KubeListOptions o;
  o.label_selector = "batch=pages";
  o.limit = 2;
  json list = must(k.list(ref("v1", "ConfigMap"), o));
  CHECK(k.counters().requests - before.requests == 3);  // pages of 2, 2 and 1
  CHECK(joined(item_names(list)) == "page-0 page-1 page-2 page-3 page-4");
  CHECK(list["kind"] == "ConfigMapList");
  CHECK_FALSE(str_at(list, "/metadata/resourceVersion"_json_pointer).empty());
  CHECK_FALSE(list["metadata"].contains("continue"));

  KubeListOptions field;
  field.field_selector = "metadata.name=page-3";
  CHECK(joined(item_names(must(k.list(ref("v1", "ConfigMap"), field)))) == "page-3");
  KubeListOptions not_pages;
  not_pages.label_selector = "batch!=pages,!suite";
  auto others = item_names(must(k.list(ref("v1", "ConfigMap"), not_pages)));
  CHECK(std::find(others.begin(), others.end(), "unlabelled") != others.end());
  CHECK(std::find(others.begin(), others.end(), "page-0") == others.end());

  before = k.counters();
  KubeApiError dup = must_fail(k.create(ref("v1", "ConfigMap"), config_map("page-0", json::object())));
  CHECK(dup.http_status == 409);
  CHECK(dup.reason == "AlreadyExists");
  CHECK(contains(dup.message, "POST /api/v1/namespaces/" + kNs + "/configmaps: 409 Conflict: configmaps \"page-0\" already exists"));
  CHECK(k.counters().requests - before.requests == 1);  // not retried
}

TEST_CASE("delete with a grace period and a propagation policy") {
  KubeClient& k = admin();
  json pod{{"apiVersion", "v1"}, {"kind", "Pod"}, {"metadata", {{"name", "graceful"}, {"labels", {{"app", "graceful"}}}}}};
  pod["spec"] = pod_template("graceful")["spec"];
  pod["spec"]["terminationGracePeriodSeconds"] = 30;
  must(k.apply(pod, kNs));
  const KubeObjectRef p = ref("v1", "Pod", "graceful");
  // A pod that is not on a node yet is deleted at once: wait for kwok to run it.
  REQUIRE(eventually(30s, [&] { return str_at(must(k.get(p)), "/status/phase"_json_pointer) == "Running"; }));

  KubeDeleteOptions d;
  d.grace_period_s = 5;
  json deleted = must(k.remove(p, d));
  CHECK(int_at(deleted, "/metadata/deletionGracePeriodSeconds"_json_pointer) == 5);
  CHECK_FALSE(str_at(deleted, "/metadata/deletionTimestamp"_json_pointer).empty());
  CHECK(eventually(30s, [&] {
    auto g = k.get(p);
    return !kube_ok(g) && kube_error(g).http_status == 404;
  }));
  CHECK(must(k.remove(p)).is_null());  // already gone: fine when missing_ok
  KubeApiError gone = must_fail(k.remove(p, {}, /*missing_ok=*/false));
  CHECK(gone.http_status == 404);
  CHECK(gone.message == "DELETE /api/v1/namespaces/" + kNs + "/pods/graceful: 404 Not Found: pods \"graceful\" not found");

  must(k.apply(config_map("doomed", {{"x", "1"}}), kNs));
  KubeDeleteOptions bg;
  bg.propagation = "Background";
  bg.grace_period_s = 0;
  json status = must(k.remove(ref("v1", "ConfigMap", "doomed"), bg));
  CHECK(status["kind"] == "Status");
  CHECK(status["status"] == "Success");
  CHECK(kube_error(k.get(ref("v1", "ConfigMap", "doomed"))).http_status == 404);
  KubeDeleteOptions wrong;
  wrong.propagation = "Sideways";
  must(k.apply(config_map("doomed", {{"x", "1"}}), kNs));
  KubeApiError invalid = must_fail(k.remove(ref("v1", "ConfigMap", "doomed"), wrong));
  CHECK(invalid.http_status == 422);
  CHECK(contains(invalid.message, "propagationPolicy"));
}

TEST_CASE("the scale subresource of a Deployment and a StatefulSet") {
  KubeClient& k = admin();
  must(k.apply(deployment("scaled-web", 1), kNs));
  json sts{{"apiVersion", "apps/v1"},
           {"kind", "StatefulSet"},
           {"metadata", {{"name", "scaled-db"}}},
           {"spec",
            {{"replicas", 1},
             {"serviceName", "scaled-db"},
             {"podManagementPolicy", "Parallel"},
             {"selector", {{"matchLabels", {{"app", "scaled-db"}}}}},
             {"template", pod_template("scaled-db")}}}};
  must(k.apply(sts, kNs));
  const KubeObjectRef web = ref("apps/v1", "Deployment", "scaled-web");
  const KubeObjectRef db = ref("apps/v1", "StatefulSet", "scaled-db");
  CHECK(must(k.get_scale(web)) == 1);
  CHECK(must(k.get_scale(db)) == 1);

  json scale = must(k.set_scale(web, 3));
  CHECK(scale["kind"] == "Scale");
  CHECK(scale["apiVersion"] == "autoscaling/v1");
  CHECK(int_at(scale, "/spec/replicas"_json_pointer) == 3);
  must(k.set_scale(db, 2));
  CHECK(must(k.get_scale(web)) == 3);
  CHECK(must(k.get_scale(db)) == 2);
  CHECK(int_at(must(k.get(web)), "/spec/replicas"_json_pointer) == 3);
  CHECK_MESSAGE(eventually(45s, [&] { return ready_replicas(web) == 3; }), "Deployment ready replicas: ", ready_replicas(web));
  CHECK_MESSAGE(eventually(45s, [&] { return ready_replicas(db) == 2; }), "StatefulSet ready replicas: ", ready_replicas(db));

  KubeApiError missing = must_fail(k.get_scale(ref("apps/v1", "StatefulSet", "no-such-set")));
  CHECK(missing.http_status == 404);
  CHECK(contains(missing.message, "GET /apis/apps/v1/namespaces/" + kNs + "/statefulsets/no-such-set/scale: 404 Not Found"));
}

TEST_CASE("eviction honours a PodDisruptionBudget: refused (429, not retried), then allowed") {
  KubeClient& k = admin();
  must(k.apply(deployment("guarded", 2), kNs));
  json pdb{{"apiVersion", "policy/v1"},
           {"kind", "PodDisruptionBudget"},
           {"metadata", {{"name", "guarded"}}},
           {"spec", {{"minAvailable", 2}, {"selector", {{"matchLabels", {{"app", "guarded"}}}}}}}};
  must(k.apply(pdb, kNs));
  const KubeObjectRef deploy = ref("apps/v1", "Deployment", "guarded");
  const KubeObjectRef budget = ref("policy/v1", "PodDisruptionBudget", "guarded");
  REQUIRE(eventually(45s, [&] { return ready_replicas(deploy) == 2; }));
  // The disruption controller has counted the healthy pods.
  REQUIRE(eventually(30s, [&] {
    json b = must(k.get(budget));
    return int_at(b, "/status/currentHealthy"_json_pointer) == 2 &&
           int_at(b, "/status/observedGeneration"_json_pointer) == int_at(b, "/metadata/generation"_json_pointer);
  }));
  KubeListOptions sel;
  sel.label_selector = "app=guarded";
  auto pods = item_names(must(k.list(ref("v1", "Pod"), sel)));
  REQUIRE(pods.size() == 2);
  const std::string victim = pods[0];

  auto before = k.counters();
  KubeApiError refused = must_fail(k.evict(kNs, victim));
  CHECK(refused.http_status == 429);
  CHECK(refused.reason == "TooManyRequests");
  CHECK(contains(refused.message, "POST /api/v1/namespaces/" + kNs + "/pods/" + victim + "/eviction: 429 Too Many Requests: "));
  CHECK_MESSAGE(contains(refused.message, "disruption budget"), refused.message);
  CHECK_MESSAGE(contains(refused.message, "guarded"), refused.message);
  MESSAGE("refused: ", refused.message);
  auto after = k.counters();
  CHECK(after.requests - before.requests == 1);
  CHECK(after.retries == before.retries);
  CHECK(after.throttled - before.throttled == 1);

  must(k.patch(budget, json{{"spec", {{"minAvailable", 1}}}}));
  std::string last;
  bool evicted = eventually(30s, [&] {
    auto r = k.evict(kNs, victim, 1);
    if (kube_ok(r)) return true;
    last = kube_error(r).message;
    return false;
  });
  CHECK_MESSAGE(evicted, last);
  CHECK(eventually(30s, [&] {
    auto g = k.get(ref("v1", "Pod", victim));
    return !kube_ok(g) || !str_at(kube_value(g), "/metadata/deletionTimestamp"_json_pointer).empty();
  }));
}

TEST_CASE("watch sees ADDED, MODIFIED and DELETED, resumes across reconnects and stops on the flag") {
  KubeClient& k = admin();
  Recorder rec;
  std::atomic<bool> stop{false};
  Status result;
  KubeWatchOptions o;
  o.list.label_selector = "watch=me";
  o.timeout_s = 1;  // the server ends each watch after a second: it resumes from the last resourceVersion
  must(k.apply(config_map("watch-sentinel", {{"v", "1"}}, {{"watch", "me"}}), kNs));
  const auto requests_before = k.counters().requests;
  std::thread watcher([&] { result = k.watch(ref("v1", "ConfigMap"), o, [&](const KubeWatchEvent& e) { return rec.record(e); }, stop); });
  // The initial list is done once it has handed over what it found: what
  // changes from here on comes through the watch itself.
  CHECK(eventually(15s, [&] { return rec.types_of("watch-sentinel") == std::vector<std::string>{"ADDED"}; }));

  must(k.apply(config_map("watched", {{"v", "1"}}, {{"watch", "me"}}), kNs));
  must(k.patch(ref("v1", "ConfigMap", "watched"), json{{"data", {{"v", "2"}}}}));
  std::this_thread::sleep_for(1500ms);  // past a reconnect
  must(k.create(ref("v1", "ConfigMap"), config_map("watched-later", {{"v", "1"}}, {{"watch", "me"}})));
  must(k.apply(config_map("ignored", {{"v", "1"}}), kNs));  // not selected
  std::this_thread::sleep_for(1200ms);
  must(k.remove(ref("v1", "ConfigMap", "watched")));
  must(k.remove(ref("v1", "ConfigMap", "watched-later")));
  CHECK(eventually(15s, [&] { return rec.types_of("watched-later").size() >= 2; }));

  const auto stop_at = std::chrono::steady_clock::now();
  stop = true;
  watcher.join();
  const auto stopping = std::chrono::steady_clock::now() - stop_at;
  CHECK_MESSAGE(stopping < 1500ms, "the watch took ", std::chrono::duration_cast<std::chrono::milliseconds>(stopping).count(),
                " ms to stop");
  CHECK_MESSAGE(!result.has_value(), (result ? result->message : std::string()));
  CHECK(joined(rec.types_of("watched")) == "ADDED MODIFIED DELETED");
  CHECK(joined(rec.types_of("watched-later")) == "ADDED DELETED");
  CHECK(joined(rec.types_of("watch-sentinel")) == "ADDED");
  CHECK(rec.types_of("ignored").empty());
  CHECK(rec.count("RELISTED") == 0);
  CHECK(k.counters().requests - requests_before >= 4);  // a list and several watch connections
}

TEST_CASE("a callback returning false ends the watch; the initial list comes as ADDED") {
  KubeClient& k = admin();
  must(k.apply(config_map("listed-first", {{"v", "1"}}, {{"initial", "yes"}}), kNs));
  std::atomic<bool> stop{false};
  KubeWatchOptions o;
  o.list.label_selector = "initial=yes";
  std::vector<KubeWatchEvent> seen;
  Status result = k.watch(ref("v1", "ConfigMap"), o, [&](const KubeWatchEvent& e) {
    seen.push_back(e);
    return false;
  }, stop);
  CHECK_FALSE(result.has_value());
  REQUIRE(seen.size() == 1);
  CHECK(seen[0].type == "ADDED");
  CHECK(str_at(seen[0].object, "/metadata/name"_json_pointer) == "listed-first");
}

TEST_CASE("a 403 names the missing permission, for a ServiceAccount token from the TokenRequest API") {
  KubeClient& k = admin();
  must(k.apply(json{{"apiVersion", "v1"}, {"kind", "ServiceAccount"}, {"metadata", {{"name", "limited"}}}}, kNs));
  must(k.apply(json{{"apiVersion", "rbac.authorization.k8s.io/v1"},
                    {"kind", "Role"},
                    {"metadata", {{"name", "pod-reader"}}},
                    {"rules", json::array({{{"apiGroups", {""}}, {"resources", {"pods"}}, {"verbs", {"get", "list", "watch"}}}})}},
               kNs));
  must(k.apply(json{{"apiVersion", "rbac.authorization.k8s.io/v1"},
                    {"kind", "RoleBinding"},
                    {"metadata", {{"name", "limited"}}},
                    {"roleRef", {{"apiGroup", "rbac.authorization.k8s.io"}, {"kind", "Role"}, {"name", "pod-reader"}}},
                    {"subjects", json::array({{{"kind", "ServiceAccount"}, {"name", "limited"}, {"namespace", kNs}}})}},
               kNs));
  json tr{{"apiVersion", "authentication.k8s.io/v1"}, {"kind", "TokenRequest"}, {"spec", {{"expirationSeconds", 600}}}};
  json answer = must(k.request("POST", "/api/v1/namespaces/" + kNs + "/serviceaccounts/limited/token", tr.dump()));
  const std::string token = str_at(answer, "/status/token"_json_pointer);
  REQUIRE_FALSE(token.empty());

  CredentialSpec spec;
  spec.user = "limited";
  spec.token = token;
  KubeAccess access{k.endpoint(), std::make_shared<KubeCredentials>(spec)};
  auto limited = must(KubeClient::create(access));
  // RBAC takes effect when the authorizer's informers have seen the binding.
  REQUIRE(eventually(15s, [&] { return kube_ok(limited->list(ref("v1", "Pod"))); }));

  const auto before = limited->counters();
  KubeApiError denied = must_fail(limited->remove(ref("v1", "Pod", "someone"), {}, false));
  MESSAGE("denied: ", denied.message);
  CHECK(denied.http_status == 403);
  CHECK(denied.reason == "Forbidden");
  CHECK(denied.message == "DELETE /api/v1/namespaces/" + kNs + "/pods/someone: 403 Forbidden: pods \"someone\" is forbidden: User "
                          "\"system:serviceaccount:" + kNs + ":limited\" cannot delete resource \"pods\" in API group \"\" in the "
                          "namespace \"" + kNs + "\" (needs verb \"delete\" on \"pods\" in API group \"\" in namespace \"" + kNs + "\")");
  CHECK_FALSE(contains(denied.message, token));
  CHECK(limited->counters().requests - before.requests == 1);  // not retried

  KubeApiError cm = must_fail(limited->list(ref("v1", "ConfigMap")));
  CHECK(contains(cm.message, "(needs verb \"list\" on \"configmaps\" in API group \"\" in namespace \"" + kNs + "\")"));
  KubeApiError nodes = must_fail(limited->get(KubeObjectRef{*builtin_resource_type("v1", "Node"), "", "kwok-node-0"}));
  CHECK(contains(nodes.message, "(needs verb \"get\" on \"nodes\" in API group \"\" at cluster scope)"));

  // A token the API server does not know: 401, fetched again once, then the error.
  CredentialSpec wrong;
  wrong.token = "not-a-valid-token";
  auto stranger = must(KubeClient::create(KubeAccess{k.endpoint(), std::make_shared<KubeCredentials>(wrong)}));
  KubeApiError unauthorized = must_fail(stranger->get(ref("v1", "Pod", "x")));
  CHECK(unauthorized.http_status == 401);
  CHECK(contains(unauthorized.message, "GET /api/v1/namespaces/" + kNs + "/pods/x: 401 Unauthorized"));
  CHECK_FALSE(contains(unauthorized.message, "not-a-valid-token"));
  CHECK(stranger->counters().requests == 2);
}

TEST_CASE("an unreachable server: cannot connect, naming the endpoint, after the retries") {
  KubeAccess access = cluster().access;
  const int port = closed_port();
  access.endpoint.server = "https://127.0.0.1:" + std::to_string(port);
  KubeClientOptions o;
  o.retry.max_attempts = 3;
  o.retry.initial = 10ms;
  o.retry.cap = 50ms;
  auto client = must(KubeClient::create(access, o));
  KubeApiError e = must_fail(client->get(ref("v1", "ConfigMap", "x")));
  MESSAGE("unreachable: ", e.message);
  CHECK(e.http_status == 0);
  CHECK(contains(e.message, "GET https://127.0.0.1:" + std::to_string(port) + "/api/v1/namespaces/" + kNs + "/configmaps/x: cannot connect: "));
  CHECK(contains(e.message, "(after 3 attempts)"));
  CHECK(client->counters().requests == 3);
  CHECK(client->counters().retries == 2);
  // A refused connection never reached the server: a create is retried too.
  KubeApiError c = must_fail(client->create(ref("v1", "ConfigMap"), config_map("x", json::object())));
  CHECK(contains(c.message, "POST https://127.0.0.1:" + std::to_string(port)));
  CHECK(client->counters().requests == 6);
  // And a watch gives up the same way.
  std::atomic<bool> stop{false};
  Status w = client->watch(ref("v1", "ConfigMap"), {}, [](const KubeWatchEvent&) { return true; }, stop);
  REQUIRE(w.has_value());
  CHECK(contains(w->message, "cannot connect"));
}

TEST_CASE("discovery: a CRD's custom resource, kinds outside the builtin table, unknown kinds") {
  KubeClient& k = admin();
  const KubeObjectRef crd_ref{*builtin_resource_type("apiextensions.k8s.io/v1", "CustomResourceDefinition"), "", "widgets.kapture.test"};
  if (!kube_ok(k.get(crd_ref))) {  // a fresh cluster (not a second run on a kept one)
    // Asked before the CRD exists: not served (and not cached as such).
    KubeApiError early = must_fail(k.resource_type("kapture.test/v1", "Widget"));
    CHECK(early.http_status == 404);
    CHECK(contains(early.message, "does not serve kapture.test/v1"));
  }
  const std::optional<KubeResourceType> widget = widget_type();
  CHECK(widget->resource == "widgets");
  CHECK(widget->group == "kapture.test");
  CHECK(widget->version == "v1");
  CHECK(widget->namespaced);

  json applied = must(k.apply(json{{"apiVersion", "kapture.test/v1"}, {"kind", "Widget"}, {"metadata", {{"name", "w1"}}}, {"spec", {{"size", 3}}}}, kNs));
  CHECK(int_at(applied, "/spec/size"_json_pointer) == 3);
  CHECK(int_at(must(k.get(KubeObjectRef{*widget, kNs, "w1"})), "/spec/size"_json_pointer) == 3);

  for (const char* name : {"widgets.kapture.test", "widgets", "widget", "wdg", "widgets.v1.kapture.test"}) {
    std::string kind, error;
    // The group list (/apis) may name a new CRD's group a moment after its
    // endpoint serves it.
    bool found = eventually(10s, [&] {
      auto t = k.resource_by_name(name);
      if (kube_ok(t)) kind = kube_value(t).kind;
      else error = kube_error(t).message;
      return kube_ok(t);
    });
    CHECK_MESSAGE(found, name, ": ", error);
    CHECK(kind == "Widget");
  }
  auto pc = must(k.resource_type("scheduling.k8s.io/v1", "PriorityClass"));
  CHECK(pc.resource == "priorityclasses");
  CHECK_FALSE(pc.namespaced);
  CHECK(must(k.resource_by_name("priorityclasses")).kind == "PriorityClass");
  CHECK(must(k.resource_by_name("sts")).resource == "statefulsets");

  KubeApiError gadget = must_fail(k.resource_type("kapture.test/v1", "Gadget"));
  CHECK(gadget.http_status == 404);
  CHECK(gadget.message == "no kind \"Gadget\" in kapture.test/v1: the API server serves Widget");
  KubeApiError nothing = must_fail(k.resource_by_name("gizmos"));
  CHECK(nothing.http_status == 404);
}

TEST_CASE("watch from a stale resourceVersion relists after 410 Gone, then goes on") {
  // A custom resource's watch cache starts when its CRD does, long after
  // resourceVersion 1: a watch from there gets an ERROR event with a 410
  // Status ("too old resource version"), and the client lists again.
  KubeClient& k = admin();
  const KubeResourceType widget = widget_type();
  auto make = [&](const std::string& name) {
    must(k.apply(json{{"apiVersion", "kapture.test/v1"}, {"kind", "Widget"},
                      {"metadata", {{"name", name}, {"labels", {{"relist", "yes"}}}}}, {"spec", {{"size", 1}}}}, kNs));
  };
  make("before-relist");
  Recorder rec;
  std::atomic<bool> stop{false};
  Status result;
  KubeWatchOptions o;
  o.list.label_selector = "relist=yes";
  o.resource_version = "1";
  std::thread watcher([&] { result = k.watch(KubeObjectRef{widget, kNs, ""}, o, [&](const KubeWatchEvent& e) { return rec.record(e); }, stop); });
  CHECK(eventually(15s, [&] { return rec.count("RELISTED") == 1; }));
  make("after-relist");
  CHECK(eventually(15s, [&] { return rec.types_of("after-relist").size() == 1; }));
  stop = true;
  watcher.join();
  CHECK_MESSAGE(!result.has_value(), (result ? result->message : std::string()));
  std::lock_guard<std::mutex> lock(rec.mu);
  REQUIRE_FALSE(rec.events.empty());
  const KubeWatchEvent& relisted = rec.events.front();
  CHECK(relisted.type == "RELISTED");
  CHECK(relisted.object["kind"] == "WidgetList");
  CHECK(joined(item_names(relisted.object)) == "before-relist");
  CHECK(rec.events.back().type == "ADDED");
  CHECK(str_at(rec.events.back().object, "/metadata/name"_json_pointer) == "after-relist");
  // No ADDED for what the list already had.
  for (const auto& e : rec.events) CHECK(str_at(e.object, "/metadata/name"_json_pointer) != "before-relist");
}

TEST_CASE("several threads share one client") {
  KubeClient& k = admin();
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 10; ++i) {
        const std::string name = "thread-" + std::to_string(t) + "-" + std::to_string(i % 3);
        if (!kube_ok(k.apply(config_map(name, {{"i", std::to_string(i)}}, {{"threads", "yes"}}), kNs))) ++failures;
        if (!kube_ok(k.get(ref("v1", "ConfigMap", name)))) ++failures;
      }
    });
  }
  for (auto& th : threads) th.join();
  CHECK(failures == 0);
  KubeListOptions o;
  o.label_selector = "threads=yes";
  CHECK(must(k.list(ref("v1", "ConfigMap"), o))["items"].size() == 12);
}

TEST_CASE("TLS: tls_server_name, insecure, and an untrusted server (not retried)") {
  const KubeAccess admin_access = cluster().access;
  const KubeObjectRef cm = ref("v1", "ConfigMap", "applied");
  const std::string server = admin_access.endpoint.server;
  REQUIRE(server.rfind("https://127.0.0.1:", 0) == 0);

  // The API server's certificate names kubernetes.default.svc, not the
  // address dialled: verified against that name, connected to the address.
  KubeAccess named = admin_access;
  named.endpoint.tls_server_name = "kubernetes.default.svc";
  auto by_name = must(KubeClient::create(named));
  CHECK(must(by_name->get(ref("v1", "Namespace", kNs)))["metadata"]["name"] == kNs);
  CHECK(by_name->endpoint().server == server);

  KubeAccess wrong_name = admin_access;
  wrong_name.endpoint.tls_server_name = "not-the-apiserver.example";
  auto mismatch = must(KubeClient::create(wrong_name));
  KubeApiError e = must_fail(mismatch->get(cm));
  MESSAGE("wrong name: ", e.message);
  CHECK(e.http_status == 0);
  CHECK(contains(e.message, "GET " + server + "/api/v1/namespaces/" + kNs + "/configmaps/applied: cannot connect: "));
  CHECK(mismatch->counters().requests == 1);  // a TLS failure is not retried

  KubeAccess untrusted = admin_access;
  untrusted.endpoint.ca_pem.clear();  // the system's trust store does not know the test CA
  auto strange = must(KubeClient::create(untrusted));
  KubeApiError u = must_fail(strange->get(cm));
  CHECK(contains(u.message, "cannot connect: "));
  CHECK(strange->counters().requests == 1);

  untrusted.endpoint.insecure = true;
  auto insecure = must(KubeClient::create(untrusted));
  CHECK(kube_ok(insecure->get(ref("v1", "Namespace", kNs))));
}
