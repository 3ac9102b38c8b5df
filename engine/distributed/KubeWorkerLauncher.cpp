#include "distributed/KubeWorkerLauncher.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include <spdlog/spdlog.h>

#include "report/RunReport.h"

namespace kapture {

namespace fs = std::filesystem;

namespace {

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

KubeResourceType pod_type() { return *builtin_resource_type("v1", "Pod"); }

// "Failed (Error, exit code 3)", "Pending (ImagePullBackOff: ...)".
std::string pod_state(const nlohmann::json& pod) {
  std::string out = pod["status"].value("phase", std::string("Unknown"));
  const auto& statuses = pod["status"].value("containerStatuses", nlohmann::json::array());
  if (!statuses.empty()) {
    const auto& st = statuses[0]["state"];
    if (st.contains("terminated")) {
      out += " (" + st["terminated"].value("reason", std::string("terminated")) + ", exit code " +
             std::to_string(st["terminated"].value("exitCode", -1)) + ")";
    } else if (st.contains("waiting")) {
      out += " (" + st["waiting"].value("reason", std::string("waiting"));
      std::string msg = st["waiting"].value("message", std::string());
      if (!msg.empty()) out += ": " + msg.substr(0, 200);
      out += ")";
    }
  }
  return out;
}

}  // namespace

KubeWorkerLauncher::KubeWorkerLauncher(KubernetesTarget& target, const Scenario& scenario, KubeWorkerSettings settings)
    : target_(target), scenario_(scenario), settings_(std::move(settings)) {}

Status KubeWorkerLauncher::launch(const WorkerLaunch& l) {
  auto client = KubeClient::create(target_.access());
  if (!client) return client.error();
  client_ = std::move(*client);
  ns_ = target_.namespace_name();
  name_ = worker_job_name(fs::path(l.results_dir).filename().string());

  WorkerJobSpec spec;
  spec.launch = l;
  spec.launch.worker_bootstrap = target_.in_cluster_kafka_bootstrap();
  spec.ns = ns_;
  spec.run_label = target_.run_label();
  spec.name = name_;
  spec.image = settings_.image;
  spec.resources = settings_.resources;
  spec.scenario_file = fs::path(scenario_.file).filename().string();
  spec.scenario_text = read_file(scenario_.file);
  for (const auto& w : scenario_.workloads)
    if (w.generator) spec.lua_files.emplace_back(w.generator->display_path, read_file(w.generator->lua_path));
  auto objects = worker_job_objects(spec);

  // What was created, for the user (credentials left out).
  nlohmann::json shown = nlohmann::json::array();
  for (auto o : objects) {
    if (o["kind"] == "Secret") o["stringData"] = {{"kafka-properties.json", "(not shown)"}};
    shown.push_back(o);
  }
  std::error_code ec;
  fs::create_directories(fs::path(l.results_dir) / "workers", ec);
  nlohmann::json list = {{"apiVersion", "v1"}, {"kind", "List"}, {"items", shown}};
  if (auto err = write_text_file((fs::path(l.results_dir) / "workers" / "job.json").string(), list.dump(2) + "\n"))
    spdlog::warn("{}", err->message);

  if (auto err = target_.add_objects(objects)) return runtime_error("workers: creating Job " + name_ + " in " + ns_ + ": " + err->message);
  launched_ = true;
  spdlog::info("kubernetes: Job {} in {}: {} workers, image {}", name_, ns_, l.workers, settings_.image);
  return std::nullopt;
}

std::map<int, nlohmann::json> KubeWorkerLauncher::pods() {
  std::map<int, nlohmann::json> out;
  if (!client_) return out;
  KubeListOptions o;
  o.label_selector = "batch.kubernetes.io/job-name=" + name_;
  auto list = client_->list(KubeObjectRef{pod_type(), ns_, ""}, o);
  if (!kube_ok(list)) return out;
  for (const auto& pod : kube_value(list).value("items", nlohmann::json::array())) {
    const auto& ann = pod["metadata"].value("annotations", nlohmann::json::object());
    std::string index = ann.value("batch.kubernetes.io/job-completion-index", std::string());
    if (index.empty()) continue;
    out[std::stoi(index)] = pod;
  }
  return out;
}

std::vector<EndedWorker> KubeWorkerLauncher::ended() {
  std::vector<EndedWorker> out;
  // The executor asks every second, the fleet's stop more often: one list a second is enough.
  auto now = std::chrono::steady_clock::now();
  if (!launched_ || now - last_look_ < std::chrono::seconds(1)) return out;
  last_look_ = now;
  for (const auto& [index, pod] : pods()) {
    std::string phase = pod["status"].value("phase", std::string());
    if ((phase != "Failed" && phase != "Succeeded") || reported_.count(index)) continue;
    reported_.insert(index);
    out.push_back({index, "pod " + pod["metadata"].value("name", std::string("?")) + " ended: " + pod_state(pod)});
  }
  return out;
}

void KubeWorkerLauncher::stop(int) {
  if (!launched_) return;
  launched_ = false;
  // Deleted now rather than with the namespace: a Job left running would
  // start its workers again for nothing.
  KubeDeleteOptions del;
  del.propagation = "Background";
  auto job = client_->remove(KubeObjectRef{*builtin_resource_type("batch/v1", "Job"), ns_, name_}, del);
  if (!kube_ok(job)) spdlog::warn("workers: deleting Job {}: {}", name_, kube_error(job).message);
  client_->remove(KubeObjectRef{*builtin_resource_type("v1", "ConfigMap"), ns_, name_});
  client_->remove(KubeObjectRef{*builtin_resource_type("v1", "Secret"), ns_, name_ + "-kafka"});
}

std::string KubeWorkerLauncher::about(int index) {
  auto all = pods();
  auto it = all.find(index);
  if (it == all.end()) return "no pod yet for index " + std::to_string(index) + " of Job " + name_ + " in " + ns_;
  return "pod " + it->second["metadata"].value("name", std::string("?")) + " " + pod_state(it->second) + " (kubectl -n " + ns_ +
         " logs " + it->second["metadata"].value("name", std::string("?")) + ")";
}

}  // namespace kapture
