// The pure parts of the Kubernetes API load workloads: the objects they send
// (names, labels, the send-time annotation, payload placement and size,
// merged fields), the churn's delete schedule, the kube-ops csv lines, the
// labelled latency series, and the metrics recorder's seconds.
#include <doctest/doctest.h>

#include <cstdio>
#include <fstream>
#include <set>
#include <sstream>
#include <unistd.h>
#include <string>

#include "metrics/MetricCatalog.h"
#include "metrics/MetricsStore.h"
#include "workloads/KubeChurnWorkload.h"
#include "workloads/KubeMetrics.h"
#include "workloads/KubeObjectFactory.h"
#include "workloads/KubeOpsCsv.h"
#include "workloads/KubeWatchWorkload.h"

using namespace kapture;
using json = nlohmann::json;

namespace {

KubeResourceType core(const std::string& resource, const std::string& kind) {
  KubeResourceType t;
  t.version = "v1";
  t.resource = resource;
  t.kind = kind;
  return t;
}

KubeResourceType widget(bool namespaced = true) {
  KubeResourceType t;
  t.group = "example.com";
  t.version = "v1";
  t.resource = "widgets";
  t.kind = "Widget";
  t.namespaced = namespaced;
  return t;
}

KubeObjectShape shape(int64_t size = 0, int name_length = 0, json fields = json::object()) {
  KubeObjectShape s;
  s.size_bytes = size;
  s.name_length = name_length;
  s.fields = std::move(fields);
  return s;
}

LoadSpec rate(double per_s) {
  LoadSpec l;
  l.kind = LoadSpec::Kind::Rate;
  l.rate = per_s;
  return l;
}

}  // namespace

TEST_CASE("kube objects: names as short as they come, or padded to name_length") {
  CHECK(kube_object_name("churn", 7, 0) == "churn-7");
  CHECK(kube_object_name("churn", 1234, 0) == "churn-1234");
  // Zeros between the dash and the number fill the length.
  CHECK(kube_object_name("churn", 7, 12) == "churn-000007");
  CHECK(kube_object_name("churn", 7, 12).size() == 12);
  CHECK(kube_object_name("churn", 7, 253).size() == 253);
  CHECK(kube_object_name("churn", 7, 7) == "churn-7");
  // Too long: the prefix is cut, the number kept whole.
  CHECK(kube_object_name("churn", 12345, 8) == "ch-12345");
  // Not even the number and a one-letter prefix: the number alone, then letters.
  CHECK(kube_object_name("churn", 12345, 5) == "12345");
  CHECK(kube_object_name("churn", 42, 4) == "c-42");
  CHECK(kube_object_name("churn", 423, 4) == "0423");
  CHECK(kube_object_name("churn", 123456, 4) == "haqi");  // 123456 = 7*26^3 + 0*26^2 + 16*26 + 8
  // Names are DNS subdomains: lower case, letters, digits and dashes.
  CHECK(kube_object_name("My_Churn.A", 3, 0) == "my-churn-a-3");
  CHECK(kube_object_name("__", 3, 0) == "k-3");
  CHECK(kube_name_prefix("-Big-") == "big");
}

TEST_CASE("kube objects: different seqs never give the same name, whatever the length") {
  for (int len : {0, 3, 5, 8, 12, 40}) {
    std::set<std::string> names;
    for (int64_t seq : {0, 1, 9, 10, 11, 99, 100, 101, 999, 1000, 9999, 10000, 12345, 99999, 100000, 123456, 1000000})
      CHECK_MESSAGE(names.insert(kube_object_name("abc-de", seq, len)).second, "length ", len, " seq ", seq);
  }
}

TEST_CASE("kube objects: a ConfigMap carries labels, the send time and its payload in data") {
  KubeObjectFactory f(shape(1024), core("configmaps", "ConfigMap"), "ns1", "churn", "run-abc");
  CHECK(f.payload_place() == KubeObjectFactory::PayloadPlace::ConfigMapData);
  CHECK(f.resource_label() == "configmaps");
  CHECK(f.selector() == "kapture.io/run=run-abc,kapture.io/workload=churn");
  CHECK(f.collection().path() == "/api/v1/namespaces/ns1/configmaps");
  CHECK(f.ref("churn-1").path() == "/api/v1/namespaces/ns1/configmaps/churn-1");
  CHECK(f.name(5) == "churn-5");
  json o = f.object("churn-5");
  KubeObjectFactory::stamp(o, 1700000000123456);
  CHECK(o["apiVersion"] == "v1");
  CHECK(o["kind"] == "ConfigMap");
  CHECK(o["metadata"]["name"] == "churn-5");
  CHECK(o["metadata"]["namespace"] == "ns1");
  CHECK(o["metadata"]["labels"]["kapture.io/run"] == "run-abc");
  CHECK(o["metadata"]["labels"]["kapture.io/workload"] == "churn");
  CHECK(o["metadata"]["annotations"]["kapture.io/sent-us"] == "1700000000123456");
  CHECK(o["data"]["payload"].get<std::string>().size() == 1024);
  CHECK_FALSE(o.contains("stringData"));
  CHECK_FALSE(o["metadata"]["annotations"].contains("kapture.io/padding"));
  // The template is not changed by a stamp or a name.
  json o2 = f.object("churn-6");
  CHECK(o2["metadata"]["name"] == "churn-6");
  CHECK_FALSE(o2["metadata"]["annotations"].contains("kapture.io/sent-us"));
}

TEST_CASE("kube objects: Secrets in stringData, other resources in an annotation; no payload without size") {
  KubeObjectFactory s(shape(100), core("secrets", "Secret"), "ns1", "w", "r");
  CHECK(s.payload_place() == KubeObjectFactory::PayloadPlace::SecretStringData);
  json so = s.object("w-0");
  CHECK(so["stringData"]["payload"].get<std::string>().size() == 100);
  CHECK_FALSE(so.contains("data"));

  KubeObjectFactory c(shape(300), widget(), "ns1", "w", "r");
  CHECK(c.payload_place() == KubeObjectFactory::PayloadPlace::Annotation);
  CHECK(c.resource_label() == "widgets.example.com");
  json co = c.object("w-0");
  CHECK(co["apiVersion"] == "example.com/v1");
  CHECK(co["kind"] == "Widget");
  CHECK(co["metadata"]["annotations"]["kapture.io/padding"].get<std::string>().size() == 300);
  CHECK(c.collection().path() == "/apis/example.com/v1/namespaces/ns1/widgets");

  KubeObjectFactory none(shape(0), core("configmaps", "ConfigMap"), "ns1", "w", "r");
  json no = none.object("w-0");
  CHECK_FALSE(no.contains("data"));
  CHECK(no["metadata"]["annotations"].empty());

  // Cluster-scoped: no namespace in the object or the path.
  KubeObjectFactory cluster(shape(0), widget(false), "ns1", "w", "r");
  CHECK_FALSE(cluster.object("w-0")["metadata"].contains("namespace"));
  CHECK(cluster.collection().path() == "/apis/example.com/v1/widgets");
}

TEST_CASE("kube objects: fields are merged in; the identity and run labels win") {
  json fields = json::parse(R"({"spec": {"size": 3, "tier": "gold"},
                                "metadata": {"labels": {"team": "a", "kapture.io/run": "other"}, "name": "fixed",
                                             "annotations": {"note": "x"}},
                                "data": {"extra": "1"}})");
  KubeObjectFactory f(shape(10, 0, fields), core("configmaps", "ConfigMap"), "ns1", "w", "run1");
  json o = f.object("w-1");
  CHECK(o["spec"]["size"] == 3);
  CHECK(o["spec"]["tier"] == "gold");
  CHECK(o["metadata"]["labels"]["team"] == "a");
  CHECK(o["metadata"]["labels"]["kapture.io/run"] == "run1");
  CHECK(o["metadata"]["name"] == "w-1");
  CHECK(o["metadata"]["annotations"]["note"] == "x");
  CHECK(o["data"]["extra"] == "1");
  CHECK(o["data"]["payload"].get<std::string>().size() == 10);
}

TEST_CASE("kube objects: updates change an annotation and the send time") {
  KubeObjectFactory f(shape(5), core("configmaps", "ConfigMap"), "ns1", "w", "r");
  json p = KubeObjectFactory::update_patch(3);
  KubeObjectFactory::stamp(p, 42);
  CHECK(p == json::parse(R"({"metadata": {"annotations": {"kapture.io/update": "3", "kapture.io/sent-us": "42"}}})"));
  json a = f.apply_object("w-1", 2);
  CHECK(a["metadata"]["annotations"]["kapture.io/update"] == "2");
  CHECK(a["metadata"]["name"] == "w-1");
  CHECK(a["data"]["payload"] == "xxxxx");
}

TEST_CASE("kube objects: label values are made valid") {
  CHECK(kube_label_value("run-abc_1.x") == "run-abc_1.x");
  CHECK(kube_label_value("-a b-") == "a-b");
  CHECK(kube_label_value(std::string(80, 'a')).size() == 63);
}

TEST_CASE("kube churn: each object is deleted lifetime after its create was due") {
  const int64_t s = 1000000;
  // lifetime given: whatever the rate.
  CHECK(kube_churn_lifetime_us(5 * s, 0, rate(20), 0, 60 * s, 3 * s) == 5 * s);
  CHECK(kube_churn_delete_due_us(3 * s + 250, 5 * s) == 8 * s + 250);
  // population: lifetime = population / rate.
  CHECK(kube_churn_lifetime_us(0, 1000, rate(50), 0, 60 * s, 0) == 20 * s);
  CHECK(kube_churn_lifetime_us(0, 100, rate(40), 0, 60 * s, 0) == 2500000);
  // A ramp: the rate at the create's due time.
  LoadSpec r;
  r.kind = LoadSpec::Kind::Ramp;
  r.from = 10;
  r.to = 50;
  CHECK(*kube_load_rate_at(r, 10 * s, 10 * s, 10 * s) == doctest::Approx(10));
  CHECK(*kube_load_rate_at(r, 10 * s, 10 * s, 15 * s) == doctest::Approx(30));
  CHECK(*kube_load_rate_at(r, 10 * s, 10 * s, 20 * s) == doctest::Approx(50));
  CHECK(kube_churn_lifetime_us(0, 300, r, 10 * s, 10 * s, 15 * s) == 10 * s);
  // No rate: the object lives until the end (or the population limit at max).
  CHECK_FALSE(kube_churn_lifetime_us(0, 300, rate(0), 0, 10 * s, 0).has_value());
  LoadSpec max;
  max.kind = LoadSpec::Kind::Max;
  CHECK_FALSE(kube_load_rate_at(max, 0, 10 * s, 0).has_value());
  CHECK_FALSE(kube_churn_lifetime_us(0, 300, max, 0, 10 * s, 0).has_value());
  CHECK(kube_churn_lifetime_us(2 * s, 0, max, 0, 10 * s, 0) == 2 * s);
}

TEST_CASE("kube ops csv: one line per request, fields quoted when they must be") {
  CHECK(std::string(KubeOpsCsv::header()) == "start_us,end_us,verb,resource,object,status,error\n");
  CHECK(KubeOpsCsv::line(1700000000000001, 1700000000004001, "create", "configmaps", "churn-1", 201, "") ==
        "1700000000000001,1700000000004001,create,configmaps,churn-1,201,\n");
  CHECK(KubeOpsCsv::line(1, 2, "delete", "widgets.example.com", "w-1", 403,
                         "DELETE /apis/x: 403 Forbidden: \"w-1\" is forbidden, says RBAC\nline two") ==
        "1,2,delete,widgets.example.com,w-1,403,\"DELETE /apis/x: 403 Forbidden: \"\"w-1\"\" is forbidden, says RBAC\nline two\"\n");
  CHECK(KubeOpsCsv::field("plain") == "plain");
  CHECK(KubeOpsCsv::field("a,b") == "\"a,b\"");

  // Written lines are all there after close(), writes after it ignored.
  std::string path = "/tmp/kapture-kube-ops-test-" + std::to_string(::getpid()) + ".csv";
  {
    auto csv = KubeOpsCsv::open(path);
    REQUIRE(csv.ok());
    for (int i = 0; i < 1000; ++i) (*csv)->write(i, i + 1, "get", "configmaps", "o-" + std::to_string(i), 200, "");
    CHECK_FALSE((*csv)->close().has_value());
    (*csv)->write(0, 0, "get", "configmaps", "late", 200, "");
  }
  std::ifstream in(path);
  std::string line;
  int lines = 0;
  while (std::getline(in, line)) ++lines;
  CHECK(lines == 1001);
  std::remove(path.c_str());
}

TEST_CASE("kube metrics: requests by verb and resource, the SLO groups and status classes") {
  CHECK(kube_request_series("create", "configmaps") ==
        std::vector<std::string>{"kube.request_latency", "kube.request_latency{resource=\"configmaps\",verb=\"create\"}",
                                 "kube.request_latency{resource=\"configmaps\"}", "kube.request_latency{verb=\"create\"}"});
  CHECK(std::string(kube_verb_latency_metric("patch")) == "kube.mutating_latency");
  CHECK(std::string(kube_verb_latency_metric("apply")) == "kube.mutating_latency");
  CHECK(std::string(kube_verb_latency_metric("delete")) == "kube.mutating_latency");
  CHECK(std::string(kube_verb_latency_metric("get")) == "kube.read_latency");
  CHECK(std::string(kube_verb_latency_metric("list")) == "kube.list_latency");

  RunClock clock;
  MetricsStore store;
  {
    KubeMetrics m(clock, store, "configmaps", {"kube.errors", "kube.created"}, true);
    m.start();
    m.population = 7;
    KubeRequestRecord ok;
    ok.verb = "create";
    ok.start_us = 0;
    ok.end_us = 1500;
    ok.status = 201;
    ok.ok = true;
    m.request(ok);
    KubeRequestRecord forbidden = ok;
    forbidden.status = 403;
    forbidden.ok = false;
    m.request(forbidden);
    KubeRequestRecord none = ok;  // no answer: no latency
    none.status = 0;
    none.ok = false;
    m.request(none);
    KubeRequestRecord gone = ok;  // a delete of an object already gone
    gone.verb = "delete";
    gone.status = 404;
    m.request(gone);
    m.count_at(-5, "kube.intended");
    m.finish();
  }
  SecondWindow all{0, 1000};
  CHECK(store.histogram("kube.request_latency", all).count() == 3);
  CHECK(store.histogram("kube.request_latency{resource=\"configmaps\",verb=\"create\"}", all).count() == 2);
  CHECK(store.histogram("kube.request_latency{verb=\"delete\"}", all).count() == 1);
  CHECK(store.histogram("kube.mutating_latency", all).count() == 3);
  CHECK(store.histogram("kube.mutating_latency", all).max() >= 1500);
  CHECK(store.counter_sum("kube.status_2xx", all) == 1);
  CHECK(store.counter_sum("kube.status_4xx", all) == 2);
  CHECK(store.counter_sum("kube.forbidden", all) == 1);
  CHECK(store.counter_sum("kube.errors", all) == 2);
  CHECK(store.counter_recorded("kube.created", all));
  CHECK(store.counter_sum("kube.intended", all) == 1);
  CHECK(store.gauge_last("kube.population", all) == 7);
  CHECK(store.gauge_last("kube.in_flight", all) == 0);
}

TEST_CASE("kube metrics: every kube metric is in the catalog; labelled ones say their labels") {
  for (const char* n : {"kube.request_latency", "kube.mutating_latency", "kube.read_latency", "kube.list_latency", "kube.watch_latency",
                        "kube.schedule_lag", "kube.intended", "kube.requests", "kube.status_2xx", "kube.status_4xx", "kube.status_5xx",
                        "kube.forbidden", "kube.throttled", "kube.retries", "kube.errors", "kube.created", "kube.updated",
                        "kube.deleted", "kube.writes", "kube.lifecycles", "kube.engine_late", "kube.watch_events",
                        "kube.watch_duplicates", "kube.watch_missed", "kube.watch_restarts", "kube.watch_relists", "kube.population",
                        "kube.in_flight", "kube.watch_resource_version"})
    CHECK_MESSAGE(find_metric(n).has_value(), n);
  CHECK(metric_label_names("kube.request_latency") == std::vector<std::string_view>{"resource", "verb"});
  CHECK(metric_label_names("kube.watch_events") == std::vector<std::string_view>{"type"});
  CHECK(find_metric("kube.population")->kind == MetricKind::Gauge);
  CHECK(find_metric("kube.watch_latency")->unit == MetricUnit::Microseconds);
}

TEST_CASE("kube watch: resourceVersions compare as numbers when they are") {
  CHECK(kube_resource_version_number("12345") == 12345);
  CHECK(kube_resource_version_number("") == -1);
  CHECK(kube_resource_version_number("abc") == -1);
  CHECK(kube_resource_version_number("12a") == -1);
}
