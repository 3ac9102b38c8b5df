#include "distributed/KubeWorkerLauncher.h"

#include <charconv>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <spdlog/spdlog.h>

#include "report/RunReport.h"

namespace kapture {

namespace fs = std::filesystem;

namespace {

Result<std::string> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return usage_error(path + ": cannot read it for the workers' ConfigMap");
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

nlohmann::json field(const nlohmann::json& j, const char* key) { return j.is_object() ? j.value(key, nlohmann::json::object()) : nlohmann::json::object(); }
std::string text(const nlohmann::json& j, const char* key, const std::string& otherwise) {
  return j.is_object() && j.contains(key) && j[key].is_string() ? j[key].get<std::string>() : otherwise;
}

KubeResourceType pod_type() { return *builtin_resource_type("v1", "Pod"); }

// "Failed (Error, exit code 3)", "Pending (ImagePullBackOff: ...)".
std::string pod_state(const nlohmann::json& pod) {
  const nlohmann::json status = field(pod, "status");
  std::string out = text(status, "phase", "Unknown");
  const nlohmann::json statuses = status.value("containerStatuses", nlohmann::json::array());
  if (statuses.is_array() && !statuses.empty()) {
    const nlohmann::json st = field(statuses[0], "state");
    if (st.contains("terminated")) {
      const nlohmann::json t = field(st, "terminated");
      out += " (" + text(t, "reason", "terminated") + ", exit code " + std::to_string(t.value("exitCode", -1)) + ")";
    } else if (st.contains("waiting")) {
      const nlohmann::json w = field(st, "waiting");
      out += " (" + text(w, "reason", "waiting");
      std::string msg = text(w, "message", "");
      if (!msg.empty()) out += ": " + msg.substr(0, 200);
      out += ")";
    }
  }
  return out;
}

std::string pod_name(const nlohmann::json& pod) { return text(field(pod, "metadata"), "name", "?"); }

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
  auto scenario_text = read_file(scenario_.file);
  if (!scenario_text) return scenario_text.error();
  spec.scenario_text = *scenario_text;
  // Each generator goes into the ConfigMap at the path the scenario names,
  // beside the scenario, where the worker looks first: that path must stay
  // inside the mounted directory.
  for (const auto& w : scenario_.workloads) {
    if (!w.generator) continue;
    const std::string& path = w.generator->display_path;
    if (path.empty() || path[0] == '/' || path.find("..") != std::string::npos)
      return usage_error("workers on Kubernetes: generator '" + path +
                         "' must be a relative path below the scenario's directory (it is mounted into the worker pods beside the scenario)",
                         w.where);
    auto content = read_file(w.generator->lua_path);
    if (!content) return content.error();
    spec.lua_files.emplace_back(path, *content);
  }
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
    std::string index = text(field(field(pod, "metadata"), "annotations"), "batch.kubernetes.io/job-completion-index", "");
    int i = -1;
    auto [end, ec] = std::from_chars(index.data(), index.data() + index.size(), i);
    if (ec != std::errc() || end != index.data() + index.size() || i < 0) continue;
    out[i] = pod;
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
    std::string phase = text(field(pod, "status"), "phase", "");
    if ((phase != "Failed" && phase != "Succeeded") || reported_.count(index)) continue;
    reported_.insert(index);
    out.push_back({index, "pod " + pod_name(pod) + " ended: " + pod_state(pod)});
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
  return "pod " + pod_name(it->second) + " " + pod_state(it->second) + " (kubectl -n " + ns_ + " logs " + pod_name(it->second) + ")";
}

}  // namespace kapture
