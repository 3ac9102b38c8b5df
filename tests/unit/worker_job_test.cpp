// The kubernetes target's worker Job (engine/distributed/WorkerJobManifest):
// what each pod runs and where it finds the scenario; the strict
// server-side dry-run of the same objects is in kube_target.sh.
#include <doctest/doctest.h>

#include "distributed/WorkerJobManifest.h"

using namespace kapture;

namespace {

WorkerJobSpec spec() {
  WorkerJobSpec s;
  s.launch.workers = 4;
  s.launch.sets = {"timeline.steady.duration=10s"};
  s.launch.seed = 9;
  s.launch.bootstrap = "127.0.0.1:9092";
  s.launch.worker_bootstrap = "kafka.ns1.svc:9092";
  s.launch.topic = "kapture-run-x";
  s.ns = "ns1";
  s.run_label = "x";
  s.name = worker_job_name("Chaos_Kafka-20261126T101010Z");
  s.scenario_file = "chaos.yaml";
  s.scenario_text = "name: x\n";
  s.lua_files = {{"lua/gen.lua", "function generate() end"}, {"/abs/other.lua", "x"}, {"../up.lua", "y"}};
  return s;
}

const nlohmann::json& kind(const std::vector<nlohmann::json>& objects, const std::string& k) {
  for (const auto& o : objects)
    if (o["kind"] == k) return o;
  FAIL("no " << k);
  static nlohmann::json none;
  return none;
}

}  // namespace

TEST_CASE("worker Job: an Indexed Job of N pods, no retries, each running its index") {
  auto objects = worker_job_objects(spec());
  REQUIRE(objects.size() == 2);  // no Kafka properties: no Secret
  const auto& job = kind(objects, "Job");
  CHECK(job["metadata"]["name"] == "kapture-workers-chaos-kafka-20261126t101010z");
  CHECK(job["metadata"]["namespace"] == "ns1");
  CHECK(job["metadata"]["labels"]["kapture.io/run"] == "x");
  CHECK(job["spec"]["completionMode"] == "Indexed");
  CHECK(job["spec"]["completions"] == 4);
  CHECK(job["spec"]["parallelism"] == 4);
  CHECK(job["spec"]["backoffLimit"] == 0);
  const auto& pod = job["spec"]["template"]["spec"];
  CHECK(pod["restartPolicy"] == "Never");
  const auto& c = pod["containers"][0];
  CHECK(c["image"] == "kapture-engine:latest");
  std::vector<std::string> args = c["args"];
  std::vector<std::string> want = {"worker", "/usr/share/kapture/run/chaos.yaml", "--index", "$(JOB_COMPLETION_INDEX)", "--workers", "4",
                                   "--bootstrap", "kafka.ns1.svc:9092", "--topic", "kapture-run-x", "--seed", "9",
                                   "--set", "timeline.steady.duration=10s"};
  CHECK(args == want);
  CHECK(c["securityContext"]["runAsNonRoot"] == true);
  CHECK_FALSE(c.contains("resources"));
}

TEST_CASE("worker Job: the scenario and its relative Lua files in the ConfigMap, where the worker looks") {
  auto objects = worker_job_objects(spec());
  const auto& cm = kind(objects, "ConfigMap");
  CHECK(cm["data"]["scenario"] == "name: x\n");
  CHECK(cm["data"]["lua-0"] == "function generate() end");
  CHECK_FALSE(cm["data"].contains("lua-1"));  // absolute: not mountable
  CHECK_FALSE(cm["data"].contains("lua-2"));  // outside the volume
  const auto& job = kind(objects, "Job");
  const auto& items = job["spec"]["template"]["spec"]["volumes"][0]["configMap"]["items"];
  REQUIRE(items.size() == 2);
  CHECK(items[0]["path"] == "chaos.yaml");
  CHECK(items[1]["key"] == "lua-0");
  CHECK(items[1]["path"] == "lua/gen.lua");
  CHECK(job["spec"]["template"]["spec"]["containers"][0]["volumeMounts"][0]["mountPath"] == "/usr/share/kapture/run");
}

TEST_CASE("worker Job: Kafka client properties go in a Secret, never on the command line") {
  WorkerJobSpec s = spec();
  s.launch.kafka_properties = {{"security.protocol", "SASL_SSL"}, {"sasl.password", "hunter2"}};
  s.resources = {{"requests", {{"cpu", "1"}}}};
  auto objects = worker_job_objects(s);
  REQUIRE(objects.size() == 3);
  const auto& secret = kind(objects, "Secret");
  CHECK(secret["metadata"]["name"] == s.name + "-kafka");
  CHECK(secret["stringData"]["kafka-properties.json"].get<std::string>().find("hunter2") != std::string::npos);
  const auto& c = kind(objects, "Job")["spec"]["template"]["spec"]["containers"][0];
  CHECK(c["args"].dump().find("hunter2") == std::string::npos);
  std::vector<std::string> args = c["args"];
  CHECK(args[args.size() - 2] == "--kafka-properties-file");
  CHECK(args.back() == "/var/run/kapture/kafka-properties.json");
  CHECK(c["resources"]["requests"]["cpu"] == "1");
}

TEST_CASE("worker Job: names fit Kubernetes' limits") {
  std::string n = worker_job_name(std::string(200, 'a') + "-20261126T101010Z");
  CHECK(n.size() <= 52);
  CHECK(n.back() != '-');
  CHECK(n.rfind("kapture-workers-", 0) == 0);
}
