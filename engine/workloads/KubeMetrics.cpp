#include "workloads/KubeMetrics.h"

#include <spdlog/spdlog.h>

#include <chrono>

namespace kapture {

namespace {

std::string label_value(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out;
}

}  // namespace

std::vector<std::string> kube_request_series(const std::string& verb, const std::string& resource) {
  const std::string base = "kube.request_latency";
  const std::string r = "resource=\"" + label_value(resource) + "\"", v = "verb=\"" + label_value(verb) + "\"";
  return {base, base + "{" + r + "," + v + "}", base + "{" + r + "}", base + "{" + v + "}"};
}

const char* kube_verb_latency_metric(const std::string& verb) {
  if (verb == "create" || verb == "update" || verb == "patch" || verb == "apply" || verb == "delete") return "kube.mutating_latency";
  if (verb == "get") return "kube.read_latency";
  if (verb == "list") return "kube.list_latency";
  return "";
}

KubeMetrics::KubeMetrics(const RunClock& clock, MetricsStore& store, std::string resource, const std::vector<std::string>& always,
                         bool population_gauge)
    : clock_(clock), store_(store), resource_(std::move(resource)), population_gauge_(population_gauge), recorder_(store, always) {
  for (const char* v : kKubeVerbs) series_[v] = kube_request_series(v, resource_);
}

KubeMetrics::~KubeMetrics() { finish(); }

void KubeMetrics::add_client(const KubeClient* client) {
  std::lock_guard lock(mu_);
  clients_.push_back(client);
}

void KubeMetrics::sample_locked(int64_t now_us) {
  KubeClient::Counters sum{};
  for (const KubeClient* c : clients_) {
    auto k = c->counters();
    sum.requests += k.requests;
    sum.retries += k.retries;
    sum.throttled += k.throttled;
  }
  // Attributed to the second that is ending: they happened during it.
  recorder_.count("kube.requests", static_cast<int64_t>(sum.requests - last_.requests));
  recorder_.count("kube.retries", static_cast<int64_t>(sum.retries - last_.retries));
  recorder_.count("kube.throttled", static_cast<int64_t>(sum.throttled - last_.throttled));
  last_ = sum;
  recorder_.gauge("kube.in_flight", static_cast<double>(in_flight.load()));
  if (population_gauge_) recorder_.gauge("kube.population", static_cast<double>(population.load()));
  recorder_.roll(now_us);
}

void KubeMetrics::start(std::function<void(int64_t)> on_tick) {
  {
    std::lock_guard lock(mu_);
    started_ = true;
    // Requests made before (discovery, the start-up probe) are not the load's.
    last_ = {};
    for (const KubeClient* c : clients_) {
      auto k = c->counters();
      last_.requests += k.requests;
      last_.retries += k.retries;
      last_.throttled += k.throttled;
    }
  }
  ticker_ = std::thread([this, on_tick = std::move(on_tick)] {
    std::unique_lock tl(tick_mu_);
    while (!stop_ticker_) {
      tl.unlock();
      int64_t now = clock_.now_us();
      if (on_tick) on_tick(now);
      {
        std::lock_guard lock(mu_);
        sample_locked(clock_.now_us());
      }
      tl.lock();
      tick_cv_.wait_for(tl, std::chrono::milliseconds(50), [this] { return stop_ticker_; });
    }
  });
}

void KubeMetrics::finish() {
  {
    std::lock_guard tl(tick_mu_);
    if (finished_) return;
    finished_ = true;
    stop_ticker_ = true;
  }
  tick_cv_.notify_all();
  if (ticker_.joinable()) ticker_.join();
  {
    std::lock_guard lock(mu_);
    if (started_) {
      sample_locked(clock_.now_us());
      recorder_.flush();
    }
  }
  if (csv_) {
    if (auto err = csv_->close()) spdlog::warn("{}", err->describe());
  }
}

void KubeMetrics::request(const KubeRequestRecord& r) {
  if (csv_)
    csv_->write(clock_.wall_us(r.start_us), clock_.wall_us(r.end_us), r.verb, resource_, r.object, r.status, r.ok ? "" : r.error);
  std::lock_guard lock(mu_);
  recorder_.roll(clock_.now_us());
  const int64_t latency = r.end_us - r.start_us;
  // A latency needs an answer: a request that never got one (connection
  // refused, timed out) has only its error.
  if (r.status > 0) {
    auto it = series_.find(r.verb);
    if (it == series_.end()) it = series_.emplace(r.verb, kube_request_series(r.verb, resource_)).first;
    for (const auto& n : it->second) recorder_.observe(n, latency);
    const char* kind = kube_verb_latency_metric(r.verb);
    if (*kind) recorder_.observe(kind, latency);
  }
  if (r.status >= 200 && r.status < 300) recorder_.count("kube.status_2xx");
  else if (r.status >= 400 && r.status < 500) recorder_.count("kube.status_4xx");
  else if (r.status >= 500 && r.status < 600) recorder_.count("kube.status_5xx");
  if (r.status == 403) recorder_.count("kube.forbidden");
  if (!r.ok) recorder_.count("kube.errors");
}

void KubeMetrics::count(const std::string& name, int64_t n) {
  std::lock_guard lock(mu_);
  recorder_.roll(clock_.now_us());
  recorder_.count(name, n);
}

void KubeMetrics::count_at(int64_t at_us, const std::string& name, int64_t n) {
  std::lock_guard lock(mu_);
  const int64_t now = clock_.now_us();
  recorder_.roll(now);
  if (at_us / 1000000 >= now / 1000000) recorder_.count(name, n);
  else store_.add_counter(at_us < 0 ? 0 : at_us / 1000000, name, n);
}

void KubeMetrics::observe(const std::string& name, int64_t value) {
  std::lock_guard lock(mu_);
  recorder_.roll(clock_.now_us());
  recorder_.observe(name, value);
}

void KubeMetrics::gauge(const std::string& name, double value) {
  std::lock_guard lock(mu_);
  recorder_.gauge(name, value);
}

}  // namespace kapture
