#include "workloads/KubeWatchWorkload.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <random>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include "workloads/KubeLoadCommon.h"
#include "workloads/KubeObjectFactory.h"

namespace kapture {

namespace {

using json = nlohmann::json;

const std::string& str_at(const json& j, const char* key) {
  static const std::string empty;
  if (!j.is_object()) return empty;
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get_ref<const std::string&>() : empty;
}

const json& obj_at(const json& j, const char* key) {
  static const json empty = json::object();
  if (!j.is_object()) return empty;
  auto it = j.find(key);
  return it != j.end() && it->is_object() ? *it : empty;
}

int64_t parse_int(const std::string& s) {
  int64_t v = -1;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || v < 0) return -1;
  return v;
}

}  // namespace

int64_t kube_resource_version_number(const std::string& rv) { return parse_int(rv); }

struct KubeWatchWorkload::Observer {
  int index = 0;
  std::unique_ptr<KubeClient> client;
  std::thread thread;
  std::atomic<bool> watch_stop{false};     // ends the current watch() call
  std::atomic<int64_t> restart_at_us{0};   // when the current watch is to end (0: never)
  std::atomic<bool> restart_due{false};    // it ended because of `restart`
  std::mt19937_64 rng;

  // The observer thread's own.
  std::string last_rv;       // the last resourceVersion seen: where a restarted watch resumes
  int64_t initial_rv = -1;   // the first list's: notifications come after it
  struct Seen {
    int64_t rv = -1;    // the latest resourceVersion of the object seen
    int64_t sent = 0;   // the kapture.io/sent-us a latency was recorded for
  };
  std::unordered_map<std::string, Seen> objects;  // by uid

  // Names seen (any event, or a list), for stop()'s check against what the
  // observed workloads created.
  std::mutex mu;
  std::unordered_set<std::string> names;

  bool failed = false;  // the first list failed (under ready_mu_)
  std::string error;
};

KubeWatchWorkload::KubeWatchWorkload(const KubeWatchWorkloadSpec& spec, KubeWorkloadContext ctx,
                                     std::vector<const KubeObjectSource*> observes)
    : spec_(spec), ctx_(std::move(ctx)), observes_(std::move(observes)) {}

KubeWatchWorkload::~KubeWatchWorkload() { stop(0); }

Status KubeWatchWorkload::start() {
  if (started_ || metrics_) return std::nullopt;
  const std::string what = "kube-watch workload '" + spec_.name + "'";
  namespace_ = spec_.namespace_.empty() ? ctx_.namespace_ : spec_.namespace_;
  selector_ = spec_.selector.empty() ? std::string(kKubeRunLabel) + "=" + kube_label_value(ctx_.run_label) : spec_.selector;
  {
    auto probe = KubeClient::create(ctx_.access, kube_client_options(ctx_));
    if (!probe) return usage_error(what + ": " + probe.error().message, spec_.where);
    auto t = kube_resolve_resource(**probe, what, spec_.resource);
    if (!t) return t.error();
    type_ = *t;
  }
  metrics_ = std::make_unique<KubeMetrics>(
      *ctx_.clock, *ctx_.metrics, kube_resource_label(type_),
      std::vector<std::string>{"kube.requests", "kube.status_2xx", "kube.status_4xx", "kube.status_5xx", "kube.forbidden",
                               "kube.throttled", "kube.retries", "kube.errors", "kube.watch_events", "kube.watch_duplicates",
                               "kube.watch_missed", "kube.watch_restarts", "kube.watch_relists"},
      false);
  const void* none = nullptr;
  ctx_.resource_version->reporter.compare_exchange_strong(none, this);
  for (int i = 0; i < spec_.observers; ++i) {
    auto o = std::make_unique<Observer>();
    o->index = i;
    o->rng.seed(ctx_.seed + static_cast<uint64_t>(i));
    auto c = KubeClient::create(ctx_.access, kube_client_options(ctx_));
    if (!c) return usage_error(what + ": " + c.error().message, spec_.where);
    o->client = std::move(*c);
    metrics_->add_client(o->client.get());
    observers_.push_back(std::move(o));
  }
  metrics_->start([this](int64_t now) { tick(now); });
  for (auto& o : observers_) {
    Observer* op = o.get();
    o->thread = std::thread([this, op] { run(*op); });
  }
  // Every observer has listed before the load starts.
  std::string error;
  {
    std::unique_lock lock(ready_mu_);
    ready_cv_.wait(lock, [this] { return ready_ == static_cast<int>(observers_.size()); });
    for (const auto& o : observers_)
      if (o->failed && error.empty()) error = o->error;
  }
  if (!error.empty()) {
    halt();
    return unreachable_error(what + ": " + error);
  }
  started_ = true;
  spdlog::info("workload {}: {} observer(s) watching {} in {} ({})", spec_.name, spec_.observers, kube_resource_label(type_),
               namespace_.empty() ? "(cluster)" : namespace_, selector_);
  return std::nullopt;
}

void KubeWatchWorkload::tick(int64_t now_us) {
  for (auto& o : observers_) {
    int64_t at = o->restart_at_us.load();
    if (at > 0 && now_us >= at && o->restart_at_us.compare_exchange_strong(at, 0)) {
      o->restart_due = true;
      o->watch_stop = true;
    }
  }
  if (ctx_.resource_version->reporter.load() == this) {
    int64_t rv = ctx_.resource_version->max_rv.load();
    if (rv >= 0) metrics_->gauge("kube.watch_resource_version", static_cast<double>(rv));
  }
}

void KubeWatchWorkload::saw_list(Observer& o, const json& list) {
  const std::string& rv = str_at(obj_at(list, "metadata"), "resourceVersion");
  if (!rv.empty()) {
    o.last_rv = rv;
    ctx_.resource_version->note(parse_int(rv));
  }
  if (!list.is_object() || !list.contains("items") || !list["items"].is_array()) return;
  std::lock_guard lock(o.mu);
  for (const auto& item : list["items"]) {
    const json& meta = obj_at(item, "metadata");
    const std::string& name = str_at(meta, "name");
    if (!name.empty()) o.names.insert(name);
    const std::string& uid = str_at(meta, "uid");
    if (uid.empty()) continue;
    Observer::Seen& s = o.objects[uid];
    s.rv = std::max(s.rv, parse_int(str_at(meta, "resourceVersion")));
    // A listed object's send time is not a notification's: none later for it.
    s.sent = parse_int(str_at(obj_at(meta, "annotations"), kKubeSentAnnotation));
  }
}

void KubeWatchWorkload::on_event(Observer& o, const KubeWatchEvent& ev) {
  const int64_t arrival_wall_us = ctx_.clock->wall_us(ctx_.clock->now_us());
  if (ev.type == "RELISTED") {
    // The watch could not resume (410 Gone): the client listed again.
    metrics_->count("kube.watch_relists");
    saw_list(o, ev.object);
    return;
  }
  const json& meta = obj_at(ev.object, "metadata");
  const std::string& rv_text = str_at(meta, "resourceVersion");
  const int64_t rv = parse_int(rv_text);
  if (!rv_text.empty()) o.last_rv = rv_text;
  ctx_.resource_version->note(rv);
  const std::string typed = "kube.watch_events{type=\"" + ev.type + "\"}";
  if (ev.type == "BOOKMARK") {
    metrics_->with([&](KubeRecorder& r) {
      r.count("kube.watch_events");
      r.count(typed);
    });
    return;
  }
  const std::string& name = str_at(meta, "name");
  if (!name.empty()) {
    std::lock_guard lock(o.mu);
    o.names.insert(name);
  }
  bool duplicate = false;
  int64_t latency = -1;
  const std::string& uid = str_at(meta, "uid");
  if (!uid.empty()) {
    Observer::Seen& s = o.objects[uid];
    if (rv >= 0 && s.rv >= rv) {
      duplicate = true;
    } else {
      if (rv >= 0) s.rv = rv;
      if (ev.type == "ADDED" || ev.type == "MODIFIED") {
        // A notification: newer than the first list; once per send time
        // (a change the server made itself repeats the last one's).
        const int64_t sent = parse_int(str_at(obj_at(meta, "annotations"), kKubeSentAnnotation));
        const bool after_list = rv < 0 || o.initial_rv < 0 || rv > o.initial_rv;
        if (sent > 0 && sent != s.sent && after_list) {
          latency = std::max<int64_t>(0, arrival_wall_us - sent);
          s.sent = sent;
        }
      }
    }
  }
  metrics_->with([&](KubeRecorder& r) {
    r.count("kube.watch_events");
    r.count(typed);
    if (duplicate) r.count("kube.watch_duplicates");
    if (latency >= 0) r.observe("kube.watch_latency", latency);
  });
}

void KubeWatchWorkload::run(Observer& o) {
  const RunClock& clock = *ctx_.clock;
  const KubeObjectRef collection{type_, namespace_, ""};
  KubeListOptions lo;
  lo.label_selector = selector_;
  auto signal_ready = [&](const std::string& error) {
    std::lock_guard lock(ready_mu_);
    if (!error.empty()) {
      o.failed = true;
      o.error = error;
    }
    ++ready_;
    ready_cv_.notify_all();
  };

  // The first list: what exists already is not a notification.
  auto listed = kube_call(*metrics_, spec_.name, logged_, "list", "", clock.now_us(), 200, [&] { return o.client->list(collection, lo); });
  if (!listed.ok) {
    signal_ready("cannot list " + collection.describe() + " (selector " + selector_ + "): " + listed.error);
    return;
  }
  saw_list(o, listed.value);
  o.initial_rv = parse_int(o.last_rv);
  signal_ready("");

  while (!stopping_.load()) {
    o.watch_stop = false;
    if (stopping_.load()) break;
    if (spec_.restart_min_us > 0) {
      std::uniform_int_distribution<int64_t> d(spec_.restart_min_us, std::max(spec_.restart_min_us, spec_.restart_max_us));
      o.restart_at_us = clock.now_us() + d(o.rng);
    }
    KubeWatchOptions wo;
    wo.list = lo;
    wo.resource_version = o.last_rv;
    wo.send_initial_list = false;
    Status st = o.client->watch(
        collection, wo,
        [&](const KubeWatchEvent& ev) {
          on_event(o, ev);
          return !o.watch_stop.load();
        },
        o.watch_stop);
    o.restart_at_us = 0;
    if (stopping_.load()) break;
    if (o.restart_due.exchange(false)) {
      metrics_->count("kube.watch_restarts");
      continue;
    }
    if (st) {
      // Refused, or failing past the retries: counted, and tried again
      // (from the last resourceVersion; the client lists again if that is gone).
      metrics_->count("kube.errors");
      int n = logged_.fetch_add(1);
      if (n < 5) spdlog::warn("workload {}: observer {}: {}", spec_.name, o.index, st->message);
      else spdlog::debug("workload {}: observer {}: {}", spec_.name, o.index, st->message);
      for (int i = 0; i < 20 && !stopping_.load(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
}

void KubeWatchWorkload::halt() {
  stopping_ = true;
  for (auto& o : observers_) o->watch_stop = true;
  for (auto& o : observers_)
    if (o->thread.joinable()) o->thread.join();
  if (metrics_) {
    tick(ctx_.clock->now_us());
    metrics_->finish();
  }
  const void* me = this;
  ctx_.resource_version->reporter.compare_exchange_strong(me, nullptr);
}

void KubeWatchWorkload::stop(int drain_ms) {
  if (stopped_) return;
  stopped_ = true;
  if (!started_) {
    halt();
    return;
  }
  // What the observed workloads created (complete: they stopped first).
  std::vector<std::string> expected;
  for (const KubeObjectSource* s : observes_) {
    auto names = s->created_objects();
    expected.insert(expected.end(), names.begin(), names.end());
  }
  // Each observer's still unseen objects, until none are left or the drain ends.
  std::vector<std::vector<std::string>> missing(observers_.size(), expected);
  auto sweep = [&] {
    bool all = true;
    for (size_t i = 0; i < observers_.size(); ++i) {
      Observer& o = *observers_[i];
      std::lock_guard lock(o.mu);
      auto& m = missing[i];
      m.erase(std::remove_if(m.begin(), m.end(), [&](const std::string& n) { return o.names.count(n) > 0; }), m.end());
      all = all && m.empty();
    }
    return all;
  };
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(std::max(0, drain_ms));
  while (!sweep() && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  stopping_ = true;
  for (auto& o : observers_) o->watch_stop = true;
  for (auto& o : observers_)
    if (o->thread.joinable()) o->thread.join();
  sweep();
  int64_t missed = 0;
  for (size_t i = 0; i < missing.size(); ++i) {
    missed += static_cast<int64_t>(missing[i].size());
    if (!missing[i].empty())
      spdlog::warn("workload {}: observer {} never saw {} of the {} objects created (e.g. {})", spec_.name, i, missing[i].size(),
                   expected.size(), missing[i].front());
  }
  metrics_->count("kube.watch_missed", missed);
  halt();
}

}  // namespace kapture
