#include "distributed/LocalWorkerLauncher.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

namespace kapture {

namespace fs = std::filesystem;

LocalWorkerLauncher::~LocalWorkerLauncher() { stop(0); }

Status LocalWorkerLauncher::launch(const WorkerLaunch& l) {
  std::error_code ec;
  char self[4096];
  ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
  if (n <= 0) return runtime_error("cannot find the engine's own binary (/proc/self/exe) to start workers");
  self[n] = 0;
  log_dir_ = (fs::path(l.results_dir) / "workers").string();
  fs::create_directories(log_dir_, ec);
  if (ec) return runtime_error(log_dir_ + ": cannot create: " + ec.message());
  // Kafka client properties may hold credentials: a file only we can read,
  // not the command line every `ps` shows. Removed when the workers stop.
  if (!l.kafka_properties.empty()) {
    properties_file_ = (fs::path(log_dir_) / ".kafka-properties.json").string();
    int fd = ::open(properties_file_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) return runtime_error(properties_file_ + ": cannot write");
    std::string text = nlohmann::json(l.kafka_properties).dump();
    bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
    ::close(fd);
    if (!ok) return runtime_error(properties_file_ + ": cannot write");
  }
  std::string scenario = fs::absolute(l.scenario_path, ec).string();
  if (ec) return runtime_error(l.scenario_path + ": " + ec.message());
  for (int i = 0; i < l.workers; ++i) {
    std::vector<std::string> argv = {self};
    for (auto& a : worker_arguments(l, scenario, std::to_string(i), properties_file_)) argv.push_back(a);
    auto child = std::make_unique<ChildProcess>();
    if (auto err = child->start(argv, log_of(i))) return err;
    children_.push_back(std::move(child));
    reported_.push_back(false);
  }
  return std::nullopt;
}

std::vector<EndedWorker> LocalWorkerLauncher::ended() {
  std::vector<EndedWorker> out;
  for (size_t i = 0; i < children_.size(); ++i) {
    if (reported_[i] || children_[i]->running()) continue;
    reported_[i] = true;
    auto status = children_[i]->wait_exit(0);
    out.push_back({static_cast<int>(i), status ? describe_wait_status(*status) : status.error().message});
  }
  return out;
}

void LocalWorkerLauncher::stop(int timeout_ms) {
  // One deadline for all: each worker exits by itself once it sent `done`.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  for (auto& c : children_) {
    if (!c->running()) continue;
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count();
    c->wait_exit(static_cast<int>(std::max<int64_t>(0, left)));  // killed after the deadline
  }
  children_.clear();
  reported_.clear();
  if (!properties_file_.empty()) {
    std::error_code ec;
    fs::remove(properties_file_, ec);
    properties_file_.clear();
  }
}

std::string LocalWorkerLauncher::about(int index) {
  std::string tail = tail_of_file(log_of(index), 3);
  bool running = index >= 0 && index < static_cast<int>(children_.size()) && children_[static_cast<size_t>(index)]->running();
  return std::string(running ? "still running, " : "not running, ") + "its log " + log_of(index) +
         (tail.empty() ? std::string(" is empty") : ": " + tail);
}

std::string LocalWorkerLauncher::log_of(int index) const { return (fs::path(log_dir_) / ("worker-" + std::to_string(index) + ".log")).string(); }

}  // namespace kapture
