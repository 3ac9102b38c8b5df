// The Kubernetes pieces that need no cluster: the scenario's kubernetes
// topology and steps, which pods a pod-kill picks, the namespace safety
// rule, the manifests as the engine applies them, and the undo journal read
// back for `recover`.
#include <doctest/doctest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "chaos/PodPicker.h"
#include "drivers/kube/KubeUndo.h"
#include "loader_cases.h"
#include "plan/Plan.h"
#include "targets/KubeManifests.h"
#include "timeline/UndoJournal.h"

using namespace kapture;
using loader_test::all_errors;
using loader_test::expect_error;
using loader_test::load;

namespace {

const std::string kKube = R"(name: k
target: kubernetes
topology:
  kubernetes:
    deploy: [kafka, rbac, redis]
    replicas: {redis: 2}
    images: {redis: "redis:7.4"}
    resources: {kafka: {requests: {cpu: 250m}}}
  kafka:
    brokers: 3
timeline:
  - phase: p
    duration: 60s
    steps:
      - { at: 1s, chaos: pod-kill, pods: { selector: app=kafka, min_age: 5s, one_per_owner: true }, count: 2, grace_period: 0s }
      - { at: 2s, chaos: pod-evict, pods: { leader_of: { topic: t, partition: 3 } }, for: 5s }
      - { at: 3s, scale: statefulset/kafka, replicas: 4 }
      - { at: 4s, scale: deploy/redis, replicas: 0, for: 10s }
      - { at: 20s, chaos: node-drain, node: { selector: type=kwok }, for: 10s }
      - { at: 40s, chaos: node-cordon, node: kwok-node-1, for: 10s }
)";

std::string with(const std::string& from, const std::string& to) { return loader_test::with(from, to, kKube); }

nlohmann::json pod(const std::string& name, const std::string& owner, const std::string& created, bool running = true, bool deleting = false) {
  nlohmann::json p = {{"metadata", {{"name", name}, {"namespace", "ns"}, {"uid", name + "-uid"}, {"creationTimestamp", created}}},
                      {"spec", {{"nodeName", "n1"}}},
                      {"status", {{"phase", running ? "Running" : "Pending"}, {"conditions", {{{"type", "Ready"}, {"status", "True"}}}}}}};
  if (!owner.empty()) p["metadata"]["ownerReferences"] = {{{"kind", "StatefulSet"}, {"name", owner}, {"controller", true}}};
  if (deleting) p["metadata"]["deletionTimestamp"] = created;
  return p;
}

}  // namespace

TEST_CASE("kube steps: the loader reads the kubernetes topology and steps") {
  LoadOutcome o = load(kKube);
  INFO(all_errors(o));
  REQUIRE(o.scenario.has_value());
  const Scenario& s = *o.scenario;
  CHECK(s.kubernetes.declared);
  CHECK(s.kubernetes.deploy == std::vector<std::string>{"kafka", "rbac", "redis"});
  CHECK(std::filesystem::path(s.kubernetes.manifests).filename() == "manifests");
  CHECK(s.kubernetes.replicas.at("redis") == 2);
  CHECK(s.kubernetes.images.at("redis") == "redis:7.4");
  const auto& st = s.phases[0].steps;
  REQUIRE(st.size() == 6);
  CHECK(st[0].verb == ChaosVerb::PodKill);
  CHECK(st[0].pods.selector == "app=kafka");
  CHECK(st[0].pods.min_age_us == 5'000'000);
  CHECK(st[0].pods.one_per_owner);
  CHECK(st[0].count == 2);
  CHECK(st[0].grace_period_us == 0);
  CHECK(st[0].for_us == 0);
  CHECK(st[1].verb == ChaosVerb::PodEvict);
  CHECK(st[1].pods.leader_topic == "t");
  CHECK(st[1].pods.leader_partition == 3);
  CHECK(st[2].verb == ChaosVerb::ScaleStatefulSet);
  CHECK(st[2].kube_name == "kafka");
  CHECK(st[2].replicas == 4);
  CHECK(st[3].verb == ChaosVerb::ScaleDeployment);
  CHECK(st[3].replicas == 0);
  CHECK(st[3].for_us == 10'000'000);
  CHECK(st[4].node.selector == "type=kwok");
  CHECK(st[5].node.name == "kwok-node-1");
}

TEST_CASE("kube steps: bad steps name the file, line and column") {
  expect_error(with("pods: { leader_of: { topic: t, partition: 3 } }, ", ""), "bad.yaml:16:9: ", "pod-evict needs 'pods'");
  expect_error(with("pods: { selector: app=kafka, min_age", "pods: { selector: app=kafka, name: x, min_age"), "bad.yaml:15:42: ",
               "one way: selector, name or leader_of");
  expect_error(with("scale: statefulset/kafka, replicas: 4", "scale: statefulset/kafka"), "bad.yaml:17:9: ", "needs 'replicas'");
  expect_error(with("scale: statefulset/kafka", "scale: statefulset"), "bad.yaml:17:26: ", "scale: statefulset/NAME");
  expect_error(with("node: kwok-node-1, for: 10s", "node: kwok-node-1"), "bad.yaml:20:9: ", "needs 'for'");
  expect_error(with("deploy: [kafka, rbac, redis]", "deploy: [kafka, zookeeper]"), "bad.yaml:5:21: ", "zookeeper");
  expect_error(with("replicas: {redis: 2}", "replicas: {kafka: 2}"), "bad.yaml:6:16: ", "topology.kafka.brokers");
  expect_error(with("    deploy:", "    manifests: nowhere\n    deploy:"), "bad.yaml:5:16: ", "manifests directory 'nowhere' not found");
  expect_error(with("grace_period: 0s }", "grace_period: 0s }\n      - { at: 9s, chaos: broker-down, for: 1s, pods: {name: x} }"), "bad.yaml:16:54: ",
               "'pods' only goes with pod-kill and pod-evict");
}

TEST_CASE("kube steps: the plan carries each step's selection and a seed per hit") {
  LoadOutcome o = load(kKube);
  REQUIRE(o.scenario.has_value());
  Plan plan = resolve_plan(*o.scenario, "kubernetes");
  const auto& inj = plan.phases[0].injections;
  REQUIRE(inj.size() == 6);
  CHECK(inj[0].action.pods.selector == "app=kafka");
  CHECK(inj[0].action.seed != inj[1].action.seed);
  CHECK(inj[2].action.kube_name == "kafka");
  std::string text = format_plan(plan);
  CHECK(text.find("scale statefulset/kafka to 4, restored at the end of the run") != std::string::npos);
  CHECK(text.find("chaos pod-kill pods app=kafka (2 per hit), grace 0s") != std::string::npos);
  CHECK(text.find("chaos node-cordon node kwok-node-1 for 10s") != std::string::npos);
  Plan again = resolve_plan(*o.scenario, "kubernetes");
  CHECK(again.phases[0].injections[0].action.seed == inj[0].action.seed);  // same seed, same picks
}

TEST_CASE("pod picker: running, old enough, one per owner, seeded") {
  auto now = *parse_kube_time("2026-11-26T10:00:00Z");
  nlohmann::json list = {{"items",
                          {pod("kafka-0", "kafka", "2026-11-26T09:00:00Z"), pod("kafka-1", "kafka", "2026-11-26T09:59:58.250Z"),
                           pod("kafka-2", "kafka", "2026-11-26T09:00:00Z", true, true), pod("redis-x", "", "2026-11-26T09:00:00Z"),
                           pod("pending", "kafka", "2026-11-26T09:00:00Z", false)}}};
  auto running = running_pods(list, now);
  REQUIRE(running.size() == 3);  // not the one being deleted, not the pending one
  CHECK(running[1].age_us == 2'000'000);  // the API writes whole seconds; a fraction is read and dropped
  CHECK(running[0].owner == "StatefulSet/kafka");
  PodSelection sel;
  sel.min_age_us = 5'000'000;
  auto picked = pick_pods(running, sel, 5, 1);
  CHECK(picked.size() == 2);  // kafka-1 is too young
  sel.one_per_owner = true;
  picked = pick_pods(running, sel, 5, 1);
  REQUIRE(picked.size() == 2);  // kafka-0 and the bare redis pod
  sel = PodSelection{};
  std::set<std::string> seen;
  for (uint64_t seed = 0; seed < 40; ++seed) seen.insert(pick_pods(running, sel, 1, seed)[0].name);
  CHECK(seen.size() == 3);  // every candidate can be picked
  auto reversed = running;
  std::reverse(reversed.begin(), reversed.end());
  CHECK(pick_pods(reversed, sel, 2, 9)[0].name == pick_pods(running, sel, 2, 9)[0].name);  // listing order does not matter
  CHECK_FALSE(parse_kube_time("2026-11-26 10:00:00").has_value());
}

TEST_CASE("namespace safety: system namespaces and unlabelled ones are refused") {
  nlohmann::json none = nlohmann::json::object();
  nlohmann::json allowed = {{"kapture.io/chaos", "allowed"}};
  CHECK(chaos_namespace_refusal("kube-system", allowed, {}).value().find("system or shared") != std::string::npos);
  CHECK(chaos_namespace_refusal("default", allowed, {}).has_value());
  CHECK(chaos_namespace_refusal("team-a", none, {}).value().find("kapture.io/chaos=allowed") != std::string::npos);
  CHECK_FALSE(chaos_namespace_refusal("team-a", allowed, {}).has_value());
  CHECK_FALSE(chaos_namespace_refusal("team-a", none, {"team-a"}).has_value());
  CHECK_FALSE(chaos_namespace_refusal("default", none, {"default"}).has_value());
}

TEST_CASE("manifests: each component's objects with the run's overrides") {
  LoadOutcome o = load(kKube);
  REQUIRE(o.scenario.has_value());
  auto comps = load_component_objects(*o.scenario, "run-ns", "k");
  REQUIRE_MESSAGE(comps, (comps ? "" : comps.error().describe()));
  REQUIRE(comps->size() == 3);
  CHECK((*comps)[0].component == "rbac");  // deployment order, not the scenario's
  CHECK((*comps)[1].component == "kafka");
  bool sts = false, binding = false, redis = false;
  for (const auto& c : *comps)
    for (const auto& obj : c.objects) {
      CHECK(obj["metadata"]["labels"]["kapture.io/run"] == "k");
      if (obj["kind"] == "StatefulSet") {
        sts = true;
        CHECK(obj["spec"]["replicas"] == 3);
        CHECK(obj["spec"]["template"]["spec"]["containers"][0]["resources"]["requests"]["cpu"] == "250m");
      }
      if (obj["kind"] == "RoleBinding") {
        binding = true;
        CHECK(obj["subjects"][0]["namespace"] == "run-ns");
      }
      if (obj["kind"] == "Deployment" && c.component == "redis") {
        redis = true;
        CHECK(obj["spec"]["replicas"] == 2);
        CHECK(obj["spec"]["template"]["spec"]["containers"][0]["image"] == "redis:7.4");
      }
    }
  CHECK(sts);
  CHECK(binding);
  CHECK(redis);
}

TEST_CASE("undo journal: what a crashed run left pending, newest first, with its replay") {
  auto path = (std::filesystem::temp_directory_path() / "kapture-undo-test.jsonl").string();
  {
    UndoJournal j(path);
    j.push("delete namespace ns", [] { return Status{}; }, delete_namespace_undo("ns"));
    int scale = j.push("scale back", [] { return Status{}; }, nlohmann::json{{"op", "scale"}, {"name", "kafka"}, {"replicas", 3}});
    int done = j.push("uncordon", [] { return Status{}; }, uncordon_undo("n1"));
    j.run(done);
    j.attach(scale, [] { return Status{runtime_error("boom")}; });
    CHECK(j.run(scale).has_value());  // failed: still owed
    // The process "dies" here: the destructor would run the rest, so read the file first.
    auto pending = UndoJournal::read_pending(path);
    REQUIRE(pending);
    REQUIRE(pending->size() == 2);
    CHECK((*pending)[0].description == "scale back");
    CHECK((*pending)[0].replay["replicas"] == 3);
    CHECK((*pending)[1].replay["op"] == "delete-namespace");
    CHECK(is_kube_undo((*pending)[1].replay));
    UndoJournal::append_outcome(path, (*pending)[0], std::nullopt);
    auto after = UndoJournal::read_pending(path);
    REQUIRE(after);
    CHECK(after->size() == 1);
  }
  std::filesystem::remove(path);
  CHECK_FALSE(UndoJournal::read_pending(path));
}
