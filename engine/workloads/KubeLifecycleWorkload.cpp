#include "workloads/KubeLifecycleWorkload.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <thread>

#include "workloads/ArrivalSchedule.h"
#include "workloads/KubeLoadCommon.h"

namespace kapture {

struct KubeLifecycleWorkload::Worker {
  int index = 0;
  std::unique_ptr<KubeClient> client;
  std::thread thread;
  std::vector<std::string> alive;  // create_only objects, and those a delete failed for: deleted at stop
};

KubeLifecycleWorkload::KubeLifecycleWorkload(const KubeLifecycleWorkloadSpec& spec, KubeWorkloadContext ctx)
    : spec_(spec), ctx_(std::move(ctx)) {}

KubeLifecycleWorkload::~KubeLifecycleWorkload() { stop(0); }

Status KubeLifecycleWorkload::start() {
  if (factory_) return std::nullopt;
  const std::string what = "kube-lifecycle workload '" + spec_.name + "'";
  const std::string ns = spec_.object.namespace_.empty() ? ctx_.namespace_ : spec_.object.namespace_;
  auto probe = KubeClient::create(ctx_.access, kube_client_options(ctx_));
  if (!probe) return usage_error(what + ": " + probe.error().message, spec_.where);
  auto type = kube_resolve_resource(**probe, what, spec_.object.resource);
  if (!type) return type.error();
  if (auto err = kube_probe(**probe, what, *type, ns)) return err;

  factory_ = std::make_unique<KubeObjectFactory>(spec_.object, *type, ns, spec_.name, ctx_.run_label);
  std::vector<std::string> always = kube_load_counters();
  always.push_back("kube.lifecycles");
  metrics_ = std::make_unique<KubeMetrics>(*ctx_.clock, *ctx_.metrics, factory_->resource_label(), always, true);
  if (spec_.csv) {
    auto csv = KubeOpsCsv::open(ctx_.results_dir + "/kube-ops-" + spec_.name + ".csv");
    if (!csv) return csv.error();
    metrics_->set_csv(std::move(*csv));
  }
  for (int i = 0; i < spec_.threads; ++i) {
    auto w = std::make_unique<Worker>();
    w->index = i;
    auto c = KubeClient::create(ctx_.access, kube_client_options(ctx_));
    if (!c) return usage_error(what + ": " + c.error().message, spec_.where);
    w->client = std::move(*c);
    metrics_->add_client(w->client.get());
    workers_.push_back(std::move(w));
  }
  metrics_->start();
  for (auto& w : workers_) {
    Worker* wp = w.get();
    w->thread = std::thread([this, wp] { run(*wp); });
  }
  spdlog::info("workload {}: lifecycles of {} in {} on {} thread(s), {} {} update(s) each{}", spec_.name, factory_->resource_label(),
               ns.empty() ? "(cluster)" : ns, spec_.threads, spec_.updates, spec_.patch, spec_.create_only ? " (create only)" : "");
  return std::nullopt;
}

void KubeLifecycleWorkload::set_load(const LoadSpec& load, int64_t start_us, int64_t duration_us) { load_.set(load, start_us, duration_us); }

std::vector<std::string> KubeLifecycleWorkload::created_objects() const { return created_.sorted(); }

void KubeLifecycleWorkload::stop(int drain_ms) {
  (void)drain_ms;  // lifecycles in progress are cut short: their objects deleted at once
  if (stopped_) return;
  stopped_ = true;
  load_.stop();
  for (auto& w : workers_)
    if (w->thread.joinable()) w->thread.join();
  if (metrics_) {
    metrics_->finish();
    int64_t left = metrics_->population.load();
    if (left > 0)
      spdlog::warn("workload {}: {} object(s) could not be deleted and are left in {} (label {})", spec_.name, left,
                   factory_->namespace_name(), factory_->selector());
  }
}

long KubeLifecycleWorkload::remove(Worker& w, const std::string& name) {
  KubeMetrics& m = *metrics_;
  auto res = kube_call(
      m, spec_.name, logged_, "delete", name, ctx_.clock->now_us(), 200,
      [&] { return w.client->remove(factory_->ref(name), {}, false); }, true);
  if (!res.ok) {
    w.alive.push_back(name);
    return res.status;
  }
  m.population.fetch_sub(1, std::memory_order_relaxed);
  m.with([&](KubeRecorder& r) {
    r.count("kube.deleted");
    if (res.status >= 200 && res.status < 300) r.count("kube.writes");
  });
  return res.status;
}

void KubeLifecycleWorkload::lifecycle(Worker& w) {
  const RunClock& clock = *ctx_.clock;
  KubeMetrics& m = *metrics_;
  KubeClient& c = *w.client;
  const int64_t seq = next_seq_.fetch_add(1, std::memory_order_relaxed);
  const std::string name = factory_->name(seq);

  nlohmann::json obj = factory_->object(name);
  int64_t start = clock.now_us();
  KubeObjectFactory::stamp(obj, clock.wall_us(start));
  auto created = kube_call(m, spec_.name, logged_, "create", name, start, 201, [&] { return c.create(factory_->collection(), obj); });
  if (!created.ok) return;
  m.population.fetch_add(1, std::memory_order_relaxed);
  m.with([&](KubeRecorder& r) {
    r.count("kube.created");
    r.count("kube.writes");
  });
  {
    created_.add(name);
  }
  if (spec_.create_only) {
    w.alive.push_back(name);
    m.count("kube.lifecycles");
    return;
  }
  // A stop cuts the lifecycle short: straight to the delete.
  bool cut = load_.stopped();
  if (!cut) {
    const KubeObjectRef ref = factory_->ref(name);
    kube_call(m, spec_.name, logged_, "get", name, clock.now_us(), 200, [&] { return c.get(ref); });
    for (int u = 1; u <= spec_.updates; ++u) {
      if (load_.stopped()) {
        cut = true;
        break;
      }
      KubeCallResult res;
      if (spec_.patch == "apply") {
        nlohmann::json body = factory_->apply_object(name, u);
        start = clock.now_us();
        KubeObjectFactory::stamp(body, clock.wall_us(start));
        res = kube_call(m, spec_.name, logged_, "apply", name, start, 200, [&] { return c.apply(body, factory_->namespace_name()); });
      } else {
        nlohmann::json body = KubeObjectFactory::update_patch(u);
        start = clock.now_us();
        KubeObjectFactory::stamp(body, clock.wall_us(start));
        res = kube_call(m, spec_.name, logged_, "patch", name, start, 200, [&] { return c.patch(ref, body, spec_.patch); });
      }
      if (res.ok)
        m.with([&](KubeRecorder& r) {
          r.count("kube.updated");
          r.count("kube.writes");
        });
    }
  }
  const long status = remove(w, name);
  const bool deleted = (status >= 200 && status < 300) || status == 404;
  if (deleted && !cut) m.count("kube.lifecycles");
}

void KubeLifecycleWorkload::run(Worker& w) {
  const RunClock& clock = *ctx_.clock;
  KubeMetrics& m = *metrics_;
  ArrivalSchedule schedule;
  std::optional<int64_t> next;
  uint64_t seen_version = 0;
  int64_t free_since = clock.now_us();

  while (!load_.stopped()) {
    if (load_.changed_since(seen_version)) {
      PhaseLoad::Current cur = load_.current();
      seen_version = cur.version;
      // Closed loop: starts of the previous load this thread had no time
      // for are not made up (they were asked for: intended).
      while (next && *next < cur.start_us) {
        m.count_at(*next, "kube.intended");
        next = schedule.next();
      }
      schedule = ArrivalSchedule(cur.load, cur.start_us, cur.duration_us, w.index, spec_.threads,
                                 ctx_.seed ^ 0x6c6966656379ULL ^ (static_cast<uint64_t>(seen_version) << 32));
      next = schedule.next();
    }
    const int64_t now = clock.now_us();
    int64_t due = now;
    if (!schedule.is_max()) {
      if (!next || *next > now) {
        int64_t until = now + 100000;
        if (next) until = std::min(until, *next);
        load_.sleep_until(clock, seen_version, until);
        continue;
      }
      due = *next;
      next = schedule.next();
      // Starts that came due while this thread was busy are skipped.
      while (next && *next <= now) {
        m.count_at(*next, "kube.intended");
        next = schedule.next();
      }
    }
    const int64_t start = clock.now_us();
    m.count_at(due, "kube.intended");
    m.with([&](KubeRecorder& r) { r.observe("kube.schedule_lag", start - due); });
    if (start - std::max(due, free_since) > kKubeEngineLateUs) m.count_at(due, "kube.engine_late");
    lifecycle(w);
    free_since = clock.now_us();
  }
  // Stop: starts due and not made count as intended; objects still alive go.
  const int64_t end = clock.now_us();
  while (next && *next < end) {
    m.count_at(*next, "kube.intended");
    next = schedule.next();
  }
  std::vector<std::string> alive;
  alive.swap(w.alive);
  int unanswered = 0;
  for (const auto& name : alive) {
    // Three deletes in a row without an answer: the API server is gone.
    unanswered = remove(w, name) == 0 ? unanswered + 1 : 0;
    if (unanswered >= 3) {
      spdlog::warn("workload {}: the API server does not answer deletes; giving up on the objects left", spec_.name);
      break;
    }
  }
}

}  // namespace kapture
