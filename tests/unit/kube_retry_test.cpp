// The Kubernetes client's pure logic: when it retries and how long it waits
// (client-go's rules), the messages it builds from the API's Status (the
// missing permission of a 403), URL paths, the builtin resource types and
// the watch stream parser. The client against a real API server is tested
// by tests/kube (tests/integration/kube_client.sh).
#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <string>
#include <vector>

#include "drivers/kube/KubeApiErrors.h"
#include "drivers/kube/KubeClient.h"
#include "drivers/kube/KubeResources.h"
#include "drivers/kube/KubeRetry.h"
#include "drivers/kube/KubeWatchStream.h"

using namespace kapture;
using std::chrono::milliseconds;
using json = nlohmann::json;

namespace {
bool contains(const std::string& haystack, const std::string& needle) { return haystack.find(needle) != std::string::npos; }
}  // namespace

TEST_CASE("kube retry: Retry-After is delta-seconds") {
  CHECK(parse_retry_after("3") == 3);
  CHECK(parse_retry_after(" 10\r\n") == 10);
  CHECK(parse_retry_after("0") == 0);
  CHECK_FALSE(parse_retry_after("").has_value());
  CHECK_FALSE(parse_retry_after("-1").has_value());
  CHECK_FALSE(parse_retry_after("1.5").has_value());
  CHECK_FALSE(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT").has_value());
  CHECK_FALSE(parse_retry_after("99999999999999999999").has_value());
}

TEST_CASE("kube retry: the delay honours Retry-After, capped") {
  KubeRetryPolicy p;  // 200 ms initial, 5 s cap, +-20%
  CHECK(kube_retry_delay(p, 1, 3, 0.9) == milliseconds(3000));
  CHECK(kube_retry_delay(p, 4, 1, 0.0) == milliseconds(1000));
  CHECK(kube_retry_delay(p, 1, 60, 0.5) == milliseconds(5000));
  // Retry-After: 0 (or none) leaves it to the backoff.
  CHECK(kube_retry_delay(p, 1, 0, 0.5) == milliseconds(200));
  CHECK(kube_retry_delay(p, 1, std::nullopt, 0.5) == milliseconds(200));
}

TEST_CASE("kube retry: exponential backoff with jitter bounds and a cap") {
  KubeRetryPolicy p;
  CHECK(kube_retry_delay(p, 1, {}, 0.5) == milliseconds(200));
  CHECK(kube_retry_delay(p, 2, {}, 0.5) == milliseconds(400));
  CHECK(kube_retry_delay(p, 3, {}, 0.5) == milliseconds(800));
  CHECK(kube_retry_delay(p, 1, {}, 0.0) == milliseconds(160));
  CHECK(kube_retry_delay(p, 1, {}, 0.999999) == milliseconds(240));
  for (int retry = 1; retry <= 50; ++retry) {
    const double base = std::min(5000.0, 200.0 * std::pow(2.0, std::min(retry - 1, 39)));
    for (double u : {0.0, 0.1, 0.37, 0.5, 0.73, 0.999}) {
      auto d = kube_retry_delay(p, retry, {}, u).count();
      CHECK(d >= static_cast<int64_t>(base * 0.8) - 1);
      CHECK(d <= static_cast<int64_t>(base * 1.2) + 1);
      CHECK(d <= 5000);  // never past the cap, jitter included
    }
  }
  KubeRetryPolicy exact;
  exact.jitter = 0;
  exact.initial = milliseconds(10);
  exact.cap = milliseconds(50);
  CHECK(kube_retry_delay(exact, 1, {}, 0.9) == milliseconds(10));
  CHECK(kube_retry_delay(exact, 3, {}, 0.1) == milliseconds(40));
  CHECK(kube_retry_delay(exact, 4, {}, 0.1) == milliseconds(50));
}

TEST_CASE("kube retry: what is retried") {
  using T = KubeAttemptOutcome::Transport;
  auto answer = [](long s) { return KubeAttemptOutcome{s, T::None}; };
  CHECK(kube_should_retry(answer(429), false));
  CHECK_FALSE(kube_should_retry(answer(429), true, /*retry_throttled=*/false));  // a PDB refusing an eviction
  CHECK(kube_should_retry(answer(500), false));
  CHECK(kube_should_retry(answer(503), true));
  CHECK(kube_should_retry(answer(504), true));
  CHECK_FALSE(kube_should_retry(answer(501), true));
  for (long s : {400, 401, 403, 404, 409, 410, 422}) CHECK_FALSE(kube_should_retry(answer(s), true));
  // Refused connections: the request never went out, any verb.
  CHECK(kube_should_retry({0, T::ConnectFailed}, false));
  CHECK(kube_should_retry({0, T::Broken}, true));
  CHECK_FALSE(kube_should_retry({0, T::Broken}, false));
  CHECK_FALSE(kube_should_retry({0, T::Tls}, true));

  CHECK(kube_idempotent("GET", ""));
  CHECK(kube_idempotent("DELETE", "application/json"));
  CHECK(kube_idempotent("PUT", "application/json"));
  CHECK(kube_idempotent("PATCH", "application/apply-patch+yaml"));
  CHECK(kube_idempotent("PATCH", "application/merge-patch+json"));
  CHECK_FALSE(kube_idempotent("PATCH", "application/json-patch+json"));
  CHECK_FALSE(kube_idempotent("POST", "application/json"));
}

TEST_CASE("kube errors: a 403 names the missing permission") {
  const std::string body = R"({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",
    "message":"pods \"kafka-0\" is forbidden: User \"system:serviceaccount:ns:kapture\" cannot delete resource \"pods\" in API group \"\" in the namespace \"ns\"",
    "reason":"Forbidden","details":{"name":"kafka-0","kind":"pods"},"code":403})";
  KubeApiError e = kube_api_error("DELETE", "/api/v1/namespaces/ns/pods/kafka-0", 403, body);
  CHECK(e.http_status == 403);
  CHECK(e.reason == "Forbidden");
  CHECK(e.message ==
        "DELETE /api/v1/namespaces/ns/pods/kafka-0: 403 Forbidden: pods \"kafka-0\" is forbidden: User "
        "\"system:serviceaccount:ns:kapture\" cannot delete resource \"pods\" in API group \"\" in the namespace \"ns\" "
        "(needs verb \"delete\" on \"pods\" in API group \"\" in namespace \"ns\")");

  SUBCASE("cluster scope") {
    json s{{"message", "nodes is forbidden: User \"u\" cannot list resource \"nodes\" in API group \"\" at the cluster scope"}};
    CHECK(forbidden_hint(s, "GET", "/api/v1/nodes") == " (needs verb \"list\" on \"nodes\" in API group \"\" at cluster scope)");
  }
  SUBCASE("a subresource, with the authorizer's reason after it") {
    json s{{"message",
            "pods \"p\" is forbidden: User \"u\" cannot create resource \"pods/eviction\" in API group \"\" in the namespace \"x\": "
            "RBAC: role.rbac.authorization.k8s.io \"r\" not found"}};
    CHECK(forbidden_hint(s, "POST", "/api/v1/namespaces/x/pods/p/eviction") ==
          " (needs verb \"create\" on \"pods/eviction\" in API group \"\" in namespace \"x\")");
  }
  SUBCASE("a group's resource") {
    json s{{"message",
            "statefulsets.apps \"db\" is forbidden: User \"u\" cannot patch resource \"statefulsets/scale\" in API group \"apps\" in the namespace \"x\""}};
    CHECK(forbidden_hint(s, "PATCH", "/apis/apps/v1/namespaces/x/statefulsets/db/scale") ==
          " (needs verb \"patch\" on \"statefulsets/scale\" in API group \"apps\" in namespace \"x\")");
  }
  SUBCASE("a non-resource URL") {
    json s{{"message", "forbidden: User \"u\" cannot get path \"/metrics\""}};
    CHECK(forbidden_hint(s, "GET", "/metrics") == " (needs verb \"get\" on path \"/metrics\")");
  }
  SUBCASE("no words to parse: from the details and the request") {
    json s{{"message", ""}, {"details", {{"group", "apps"}, {"kind", "deployments"}, {"name", "web"}}}};
    CHECK(forbidden_hint(s, "DELETE", "/apis/apps/v1/namespaces/x/deployments/web") ==
          " (needs verb \"delete\" on \"deployments\" in API group \"apps\" in namespace \"x\")");
    CHECK(forbidden_hint(json::object(), "GET", "/api/v1/namespaces/x/configmaps?watch=true") ==
          " (needs verb \"watch\" on \"configmaps\" in API group \"\" in namespace \"x\")");
    CHECK(forbidden_hint(json::object(), "GET", "/api/v1/namespaces/x/configmaps?limit=2") ==
          " (needs verb \"list\" on \"configmaps\" in API group \"\" in namespace \"x\")");
    CHECK(forbidden_hint(json::object(), "POST", "/api/v1/namespaces") ==
          " (needs verb \"create\" on \"namespaces\" in API group \"\" at cluster scope)");
  }
  SUBCASE("an admission plugin's 403 names no permission") {
    json s{{"message", "pods \"p\" is forbidden: unable to create new content in namespace x because it is being terminated"}};
    CHECK(forbidden_hint(s, "POST", "/api/v1/namespaces/x/pods") == "");
  }
}

TEST_CASE("kube errors: the Status's message, causes, plain text and no answer") {
  KubeApiError nf = kube_api_error(
      "GET", "/api/v1/namespaces/ns/configmaps/nope?x=1", 404,
      R"({"kind":"Status","status":"Failure","message":"configmaps \"nope\" not found","reason":"NotFound","code":404})");
  CHECK(nf.reason == "NotFound");
  CHECK(nf.message == "GET /api/v1/namespaces/ns/configmaps/nope: 404 Not Found: configmaps \"nope\" not found");

  KubeApiError pdb = kube_api_error(
      "POST", "/api/v1/namespaces/ns/pods/web-1/eviction", 429,
      R"({"kind":"Status","status":"Failure","message":"Cannot evict pod as it would violate the pod's disruption budget.",
          "reason":"TooManyRequests","details":{"causes":[{"reason":"DisruptionBudget",
          "message":"The disruption budget web needs 2 healthy pods and has 2 currently"}]},"code":429})");
  CHECK(pdb.reason == "TooManyRequests");
  CHECK(pdb.message ==
        "POST /api/v1/namespaces/ns/pods/web-1/eviction: 429 Too Many Requests: Cannot evict pod as it would violate the pod's "
        "disruption budget. (The disruption budget web needs 2 healthy pods and has 2 currently)");

  KubeApiError busy = kube_api_error("GET", "/api/v1/pods", 503,
                                     R"({"kind":"Status","message":"too busy","reason":"ServiceUnavailable","details":{"retryAfterSeconds":2}})");
  CHECK(busy.retry_after_s == 2);
  CHECK(kube_api_error("GET", "/api/v1/pods", 503, "{}", 7).retry_after_s == 7);

  KubeApiError text = kube_api_error("GET", "/healthz/x", 500, "internal error\nmore lines\n");
  CHECK(text.reason == "InternalError");
  CHECK(text.message == "GET /healthz/x: 500 Internal Server Error: internal error");
  CHECK(kube_api_error("GET", "/x", 418, "").message == "GET /x: 418");

  KubeApiError down = kube_transport_error("GET", "https://127.0.0.1:1", "/api/v1/pods?limit=5", true,
                                           "Failed to connect to 127.0.0.1 port 1: Connection refused");
  CHECK(down.http_status == 0);
  CHECK(down.message == "GET https://127.0.0.1:1/api/v1/pods: cannot connect: Failed to connect to 127.0.0.1 port 1: Connection refused");
  CHECK(contains(kube_transport_error("PUT", "https://h", "/a", false, "timeout").message, "PUT https://h/a: no answer: timeout"));
  CHECK(to_error(down).message == down.message);
}

TEST_CASE("kube paths: KubeObjectRef::path and describe") {
  KubeResourceType pods{"", "v1", "pods", "Pod", true};
  KubeResourceType sts{"apps", "v1", "statefulsets", "StatefulSet", true};
  KubeResourceType nodes{"", "v1", "nodes", "Node", false};
  CHECK(KubeObjectRef{pods, "ns", "kafka-0"}.path() == "/api/v1/namespaces/ns/pods/kafka-0");
  CHECK(KubeObjectRef{pods, "ns", "kafka-0"}.path("eviction") == "/api/v1/namespaces/ns/pods/kafka-0/eviction");
  CHECK(KubeObjectRef{pods, "ns", ""}.path() == "/api/v1/namespaces/ns/pods");
  CHECK(KubeObjectRef{pods, "", ""}.path() == "/api/v1/pods");
  CHECK(KubeObjectRef{sts, "ns", "db"}.path("scale") == "/apis/apps/v1/namespaces/ns/statefulsets/db/scale");
  CHECK(KubeObjectRef{nodes, "ignored", "kwok-node-0"}.path() == "/api/v1/nodes/kwok-node-0");
  CHECK(KubeObjectRef{pods, "ns", "a b/c"}.path() == "/api/v1/namespaces/ns/pods/a%20b%2Fc");
  CHECK(KubeObjectRef{pods, "ns", "kafka-0"}.describe() == "pods/kafka-0 in ns");
  CHECK(KubeObjectRef{sts, "ns", "db"}.describe() == "statefulsets.apps/db in ns");
  CHECK(KubeObjectRef{nodes, "", "n"}.describe() == "nodes/n");
  CHECK(KubeObjectRef{pods, "", ""}.describe() == "pods in all namespaces");
  CHECK(sts.api_version() == "apps/v1");
  CHECK(pods.api_version() == "v1");
  CHECK(url_query({{"labelSelector", "app=web,tier!=x"}, {"continue", ""}, {"limit", "2"}}) ==
        "?labelSelector=app%3Dweb%2Ctier%21%3Dx&limit=2");
  CHECK(url_query({{"a", ""}}) == "");
}

TEST_CASE("kube types: builtin kinds and names") {
  auto deploy = builtin_resource_type("apps/v1", "Deployment");
  REQUIRE(deploy);
  CHECK(deploy->resource == "deployments");
  CHECK(deploy->group == "apps");
  CHECK(deploy->namespaced);
  auto ns = builtin_resource_type("v1", "Namespace");
  REQUIRE(ns);
  CHECK_FALSE(ns->namespaced);
  CHECK(builtin_resource_type("policy/v1", "PodDisruptionBudget")->resource == "poddisruptionbudgets");
  CHECK(builtin_resource_type("rbac.authorization.k8s.io/v1", "ClusterRole")->namespaced == false);
  CHECK(builtin_resource_type("coordination.k8s.io/v1", "Lease")->resource == "leases");
  CHECK_FALSE(builtin_resource_type("apps/v1beta1", "Deployment"));
  CHECK_FALSE(builtin_resource_type("v1", "Deployment"));
  CHECK_FALSE(builtin_resource_type("kapture.test/v1", "Widget"));
  for (const char* kind : {"Pod", "Service", "ConfigMap", "Secret", "Node", "ServiceAccount", "Event"})
    CHECK(builtin_resource_type("v1", kind));
  for (const char* kind : {"Deployment", "StatefulSet", "DaemonSet"}) CHECK(builtin_resource_type("apps/v1", kind));
  CHECK(builtin_resource_type("batch/v1", "Job"));

  CHECK(builtin_resource_by_name("pods")->kind == "Pod");
  CHECK(builtin_resource_by_name("po")->kind == "Pod");
  CHECK(builtin_resource_by_name("pod")->kind == "Pod");
  CHECK(builtin_resource_by_name("Pods")->kind == "Pod");
  CHECK(builtin_resource_by_name("statefulsets.apps")->kind == "StatefulSet");
  CHECK(builtin_resource_by_name("sts")->kind == "StatefulSet");
  CHECK(builtin_resource_by_name("deployments.v1.apps")->kind == "Deployment");
  CHECK(builtin_resource_by_name("events")->group == "");
  CHECK(builtin_resource_by_name("events.events.k8s.io")->group == "events.k8s.io");
  CHECK_FALSE(builtin_resource_by_name("deployments.batch"));
  CHECK_FALSE(builtin_resource_by_name("widgets"));
  auto names = parse_resource_name("widgets.v1.kapture.test");
  REQUIRE(names.size() == 2);
  CHECK(names[0].group == "v1.kapture.test");
  CHECK(names[1].version == "v1");
  CHECK(names[1].group == "kapture.test");
}

TEST_CASE("kube watch stream: events in pieces, bookmarks and the last resourceVersion") {
  KubeWatchStream s("100");
  std::vector<std::string> seen;
  auto on = [&](const KubeWatchEvent& e) {
    seen.push_back(e.type + ":" + e.object["metadata"].value("name", ""));
    return true;
  };
  const std::string a = R"({"type":"ADDED","object":{"kind":"ConfigMap","metadata":{"name":"a","resourceVersion":"101"}}})";
  const std::string m = R"({"type":"MODIFIED","object":{"kind":"ConfigMap","metadata":{"name":"a","resourceVersion":"105"}}})";
  const std::string b = R"({"type":"BOOKMARK","object":{"kind":"ConfigMap","metadata":{"resourceVersion":"120"}}})";
  const std::string all = a + "\n" + m + "\r\n\n" + b + "\n";
  // Byte by byte: lines complete across pieces.
  for (size_t i = 0; i < all.size(); ++i) CHECK(s.feed(std::string_view(all).substr(i, 1), on));
  CHECK(seen == std::vector<std::string>{"ADDED:a", "MODIFIED:a", "BOOKMARK:"});
  CHECK(s.resource_version() == "120");
  CHECK(s.events() == 3);
  CHECK(s.end() == KubeWatchStream::End::None);
  // A line without its newline yet is not delivered.
  CHECK(s.feed(R"({"type":"DELETED","object":{"metadata":{"name":"a","resourceVersion":"130"}}})", on));
  CHECK(seen.size() == 3);
  CHECK(s.feed("\n", on));
  CHECK(seen.back() == "DELETED:a");
  CHECK(s.resource_version() == "130");
}

TEST_CASE("kube watch stream: an ERROR event with 410 Gone means list again") {
  KubeWatchStream s("1");
  int delivered = 0;
  auto on = [&](const KubeWatchEvent&) { return ++delivered, true; };
  const std::string gone =
      R"({"type":"ERROR","object":{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",)"
      R"js("message":"too old resource version: 1 (2345)","reason":"Expired","code":410}})js";
  const std::string after = R"({"type":"ADDED","object":{"metadata":{"name":"x","resourceVersion":"3000"}}})";
  CHECK_FALSE(s.feed(gone + "\n" + after + "\n", on));
  CHECK(s.end() == KubeWatchStream::End::Gone);
  CHECK(delivered == 0);
  CHECK(s.resource_version() == "1");
  CHECK(s.error_status()["message"] == "too old resource version: 1 (2345)");
  CHECK_FALSE(s.feed(after + "\n", on));  // ended: ignored
  CHECK(delivered == 0);

  // Reason Expired without a code still means 410.
  CHECK(watch_status_code(json{{"reason", "Expired"}}) == 410);
  CHECK(watch_status_code(json{{"code", 500}}) == 500);
  CHECK(watch_status_code(json::array()) == 0);

  KubeWatchStream other("5");
  CHECK_FALSE(other.feed(R"({"type":"ERROR","object":{"kind":"Status","message":"internal error","code":500}})"
                         "\n",
                         on));
  CHECK(other.end() == KubeWatchStream::End::Error);
  CHECK(watch_status_code(other.error_status()) == 500);

  KubeWatchStream garbage("5");
  CHECK_FALSE(garbage.feed("<html>proxy error</html>\n", on));
  CHECK(garbage.end() == KubeWatchStream::End::Garbage);
  CHECK(garbage.garbage_line() == "<html>proxy error</html>");

  KubeWatchStream enough("5");
  auto stop_after_one = [&](const KubeWatchEvent&) { return false; };
  CHECK_FALSE(enough.feed(after + "\n" + after + "\n", stop_after_one));
  CHECK(enough.end() == KubeWatchStream::End::Callback);
  CHECK(enough.events() == 1);
}

TEST_CASE("kube client: create checks the server URL without connecting") {
  KubeAccess access;
  access.endpoint.server = "ftp://example";
  auto bad = KubeClient::create(access);
  REQUIRE_FALSE(bad.ok());
  CHECK(contains(bad.error().message, "not an http:// or https:// URL"));
  access.endpoint.server = "https://127.0.0.1:6443/";
  access.endpoint.tls_server_name = "kubernetes.default";
  auto ok = KubeClient::create(access);
  REQUIRE(ok.ok());
  CHECK((*ok)->endpoint().server == "https://127.0.0.1:6443");
  CHECK((*ok)->counters().requests == 0);
}
