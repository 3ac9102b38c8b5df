#pragma once
// Where a Kubernetes API load workload's threads record: one KubeRecorder
// under a lock, handed to the MetricsStore each second by a ticker thread
// (which also samples the gauges and the clients' request, retry and 429
// counters), and the optional kube-ops csv.
//
// Every request is recorded in kube.request_latency (the total, and by
// verb, by resource and by both: {resource="configmaps",verb="create"}, as
// the labelled series expectations' filters name), in kube.mutating_latency
// (create, update, patch, apply, delete), kube.read_latency (get) or
// kube.list_latency (list), and by status class (kube.status_2xx/4xx/5xx,
// kube.forbidden for 403); one that did not do its job counts in kube.errors.
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "drivers/kube/KubeClient.h"
#include "metrics/MetricsStore.h"
#include "metrics/RunClock.h"
#include "workloads/KubeOpsCsv.h"
#include "workloads/KubeRecorder.h"

namespace kapture {

// The verbs of kube.request_latency{verb=...}.
inline constexpr const char* kKubeVerbs[] = {"create", "get", "list", "update", "patch", "apply", "delete"};

// The series names one request of `verb` on `resource` is recorded under
// (the unlabelled total first), in the canonical form (labels sorted) that
// expectations' label filters produce.
std::vector<std::string> kube_request_series(const std::string& verb, const std::string& resource);
// kube.mutating_latency, kube.read_latency, kube.list_latency or "" for a verb.
const char* kube_verb_latency_metric(const std::string& verb);

// One request as a workload saw it.
struct KubeRequestRecord {
  std::string verb;      // create, get, list, update, patch, apply, delete
  int64_t start_us = 0;  // run offsets: sent (the first attempt) and answered (the last)
  int64_t end_us = 0;
  long status = 0;       // the final answer's HTTP status; 0 when none came
  bool ok = false;       // did its job (2xx; a 404 on a delete: the object is gone)
  std::string object;    // the object's name; "" for a list
  std::string error;     // the API's message when not ok
};

class KubeMetrics {
 public:
  // `always`: counters handed over every second even when 0.
  KubeMetrics(const RunClock& clock, MetricsStore& store, std::string resource, const std::vector<std::string>& always,
              bool population_gauge);
  ~KubeMetrics();
  KubeMetrics(const KubeMetrics&) = delete;
  KubeMetrics& operator=(const KubeMetrics&) = delete;

  void set_csv(std::unique_ptr<KubeOpsCsv> csv) { csv_ = std::move(csv); }
  // Clients whose counters() deltas become kube.requests, kube.retries and
  // kube.throttled; counted from when start() runs.
  void add_client(const KubeClient* client);
  // Starts the ticker: every 50 ms it samples the gauges, calls on_tick (for
  // the workload's own timers; without the lock) and hands over a finished second.
  void start(std::function<void(int64_t now_us)> on_tick = {});
  // Stops the ticker, hands over the last second and closes the csv.
  void finish();

  void request(const KubeRequestRecord& r);
  void count(const std::string& name, int64_t n = 1);
  // A count belonging to the second of `at_us` (an operation's due time):
  // added to that second even when it is over.
  void count_at(int64_t at_us, const std::string& name, int64_t n = 1);
  void observe(const std::string& name, int64_t value);
  void gauge(const std::string& name, double value);
  // Several recordings under one lock (a watch event: its counts and latency).
  template <typename F>
  void with(F&& f) {
    std::lock_guard lock(mu_);
    recorder_.roll(clock_.now_us());
    f(recorder_);
  }

  const RunClock& clock() const { return clock_; }
  std::atomic<int64_t> in_flight{0};
  std::atomic<int64_t> population{0};

 private:
  void sample_locked(int64_t now_us);

  const RunClock& clock_;
  MetricsStore& store_;
  std::string resource_;
  bool population_gauge_;
  std::map<std::string, std::vector<std::string>> series_;  // by verb

  std::mutex mu_;
  KubeRecorder recorder_;
  std::vector<const KubeClient*> clients_;
  KubeClient::Counters last_{};

  std::unique_ptr<KubeOpsCsv> csv_;
  std::thread ticker_;
  std::mutex tick_mu_;
  std::condition_variable tick_cv_;
  bool stop_ticker_ = false;
  bool finished_ = false;
  bool started_ = false;  // under mu_
};

}  // namespace kapture
