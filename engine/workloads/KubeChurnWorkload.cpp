#include "workloads/KubeChurnWorkload.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <deque>
#include <functional>
#include <queue>
#include <thread>

#include "workloads/ArrivalSchedule.h"
#include "workloads/KubeLoadCommon.h"

namespace kapture {

std::optional<double> kube_load_rate_at(const LoadSpec& load, int64_t start_us, int64_t duration_us, int64_t t_us) {
  switch (load.kind) {
    case LoadSpec::Kind::Max: return std::nullopt;
    case LoadSpec::Kind::Rate: return load.rate;
    case LoadSpec::Kind::Ramp: {
      if (duration_us <= 0) return load.from;
      double f = static_cast<double>(t_us - start_us) / static_cast<double>(duration_us);
      f = std::clamp(f, 0.0, 1.0);
      return load.from + (load.to - load.from) * f;
    }
  }
  return std::nullopt;
}

std::optional<int64_t> kube_churn_lifetime_us(int64_t lifetime_us, int64_t population, const LoadSpec& load, int64_t start_us,
                                              int64_t duration_us, int64_t intended_us) {
  if (population <= 0) return lifetime_us;
  auto rate = kube_load_rate_at(load, start_us, duration_us, intended_us);
  if (!rate || *rate <= 0) return std::nullopt;
  return static_cast<int64_t>(std::llround(static_cast<double>(population) / *rate * 1e6));
}

struct KubeChurnWorkload::Worker {
  int index = 0;
  std::vector<std::unique_ptr<KubeClient>> clients;  // one per API server
  size_t next_client = 0;
  std::thread thread;

  struct Due {
    int64_t at;
    std::string name;
    bool operator>(const Due& o) const { return at > o.at; }
  };
  std::priority_queue<Due, std::vector<Due>, std::greater<Due>> deletes;  // by due time
  std::deque<std::string> undated;  // alive without a due time (oldest first)
  std::vector<std::string> failed;  // deletes that failed: tried again at stop
};

KubeChurnWorkload::KubeChurnWorkload(const KubeChurnWorkloadSpec& spec, KubeWorkloadContext ctx)
    : spec_(spec), ctx_(std::move(ctx)) {}

KubeChurnWorkload::~KubeChurnWorkload() { stop(0); }

Status KubeChurnWorkload::start() {
  if (factory_) return std::nullopt;
  const std::string what = "kube-churn workload '" + spec_.name + "'";
  const std::string ns = spec_.object.namespace_.empty() ? ctx_.namespace_ : spec_.object.namespace_;
  std::vector<KubeAccess> servers{ctx_.access};
  for (const auto& s : spec_.servers) servers.push_back(kube_access_for(ctx_.access, s));

  std::optional<KubeResourceType> type;
  for (const auto& access : servers) {
    auto c = KubeClient::create(access, kube_client_options(ctx_));
    if (!c) return usage_error(what + ": " + c.error().message, spec_.where);
    if (!type) {
      auto t = kube_resolve_resource(**c, what, spec_.object.resource);
      if (!t) return t.error();
      type = *t;
    }
    if (auto err = kube_probe(**c, what, *type, ns)) return err;
  }
  factory_ = std::make_unique<KubeObjectFactory>(spec_.object, *type, ns, spec_.name, ctx_.run_label);
  metrics_ = std::make_unique<KubeMetrics>(*ctx_.clock, *ctx_.metrics, factory_->resource_label(), kube_load_counters(), true);
  if (spec_.csv) {
    auto csv = KubeOpsCsv::open(ctx_.results_dir + "/kube-ops-" + spec_.name + ".csv");
    if (!csv) return csv.error();
    metrics_->set_csv(std::move(*csv));
  }
  for (int i = 0; i < spec_.connections; ++i) {
    auto w = std::make_unique<Worker>();
    w->index = i;
    w->next_client = static_cast<size_t>(i) % servers.size();
    for (const auto& access : servers) {
      auto c = KubeClient::create(access, kube_client_options(ctx_));
      if (!c) return usage_error(what + ": " + c.error().message, spec_.where);
      metrics_->add_client(c->get());
      w->clients.push_back(std::move(*c));
    }
    workers_.push_back(std::move(w));
  }
  metrics_->start();
  for (auto& w : workers_) {
    Worker* wp = w.get();
    w->thread = std::thread([this, wp] { run(*wp); });
  }
  spdlog::info("workload {}: churn of {} in {} over {} connection(s) to {} API server(s)", spec_.name, factory_->resource_label(),
               ns.empty() ? "(cluster)" : ns, spec_.connections, servers.size());
  return std::nullopt;
}

void KubeChurnWorkload::set_load(const LoadSpec& load, int64_t start_us, int64_t duration_us) { load_.set(load, start_us, duration_us); }

std::vector<std::string> KubeChurnWorkload::created_objects() const { return created_.sorted(); }

KubeClient& KubeChurnWorkload::client(Worker& w) {
  KubeClient& c = *w.clients[w.next_client % w.clients.size()];
  ++w.next_client;
  return c;
}

void KubeChurnWorkload::stop(int drain_ms) {
  (void)drain_ms;  // every object is deleted, however long that takes
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

void KubeChurnWorkload::run(Worker& w) {
  const RunClock& clock = *ctx_.clock;
  KubeMetrics& m = *metrics_;
  const KubeObjectRef collection = factory_->collection();

  // An arrival: when the create is due and how long its object lives.
  struct Arrival {
    int64_t due;
    std::optional<int64_t> lifetime;
  };
  ArrivalSchedule schedule;
  std::optional<int64_t> next;
  LoadSpec load;
  int64_t load_start = 0, load_duration = 0;
  uint64_t seen_version = 0;
  std::deque<Arrival> backlog;  // arrivals of an earlier load still to send
  // At max with a population: each worker keeps its share alive.
  const size_t share = static_cast<size_t>((spec_.population + spec_.connections - 1) / std::max(1, spec_.connections));
  int64_t free_since = clock.now_us();
  auto lifetime_of = [&](int64_t due) {
    return kube_churn_lifetime_us(spec_.lifetime_us, spec_.population, load, load_start, load_duration, due);
  };

  auto create = [&](const Arrival& a) {
    const int64_t seq = next_seq_.fetch_add(1, std::memory_order_relaxed);
    const std::string name = factory_->name(seq);
    nlohmann::json obj = factory_->object(name);
    KubeClient& c = client(w);
    const int64_t start = clock.now_us();
    KubeObjectFactory::stamp(obj, clock.wall_us(start));
    const int64_t due = std::min(a.due, start);
    m.with([&](KubeRecorder& r) { r.observe("kube.schedule_lag", start - due); });
    m.count_at(due, "kube.intended");
    if (start - std::max(due, free_since) > kKubeEngineLateUs) m.count_at(due, "kube.engine_late");
    auto res = kube_call(m, spec_.name, logged_, "create", name, start, 201, [&] { return c.create(collection, obj); });
    free_since = res.end_us;
    if (!res.ok) return;
    m.population.fetch_add(1, std::memory_order_relaxed);
    m.with([&](KubeRecorder& r) {
      r.count("kube.created");
      r.count("kube.writes");
    });
    {
      created_.add(name);
    }
    if (a.lifetime) w.deletes.push(Worker::Due{kube_churn_delete_due_us(a.due, *a.lifetime), name});
    else w.undated.push_back(name);
  };
  // Returns the final answer's status (0: none).
  auto remove = [&](const std::string& name) -> long {
    KubeClient& c = client(w);
    const int64_t start = clock.now_us();
    auto res = kube_call(
        m, spec_.name, logged_, "delete", name, start, 200, [&] { return c.remove(factory_->ref(name), {}, false); }, true);
    free_since = res.end_us;
    if (!res.ok) {
      w.failed.push_back(name);
      return res.status;
    }
    m.population.fetch_sub(1, std::memory_order_relaxed);
    m.with([&](KubeRecorder& r) {
      r.count("kube.deleted");
      if (res.status >= 200 && res.status < 300) r.count("kube.writes");
    });
    return res.status;
  };

  while (!load_.stopped()) {
    if (load_.changed_since(seen_version)) {
      PhaseLoad::Current cur = load_.current();
      seen_version = cur.version;
      // Open loop: what the previous load asked for before the new one
      // starts is still sent (late); what it would have asked for after
      // belongs to a load that was replaced.
      while (next && *next < cur.start_us) {
        backlog.push_back(Arrival{*next, lifetime_of(*next)});
        next = schedule.next();
      }
      load = cur.load;
      load_start = cur.start_us;
      load_duration = cur.duration_us;
      schedule = ArrivalSchedule(load, load_start, load_duration, w.index, spec_.connections,
                                 ctx_.seed ^ 0x6b636875726eULL ^ (static_cast<uint64_t>(seen_version) << 32));
      next = schedule.next();
    }
    const int64_t now = clock.now_us();
    std::optional<int64_t> create_due;
    if (!backlog.empty()) create_due = backlog.front().due;
    else if (schedule.is_max()) create_due = now;
    else if (next) create_due = *next;
    std::optional<int64_t> delete_due;
    if (!w.deletes.empty()) delete_due = w.deletes.top().at;
    const bool over_share = spec_.population > 0 && w.undated.size() > share && schedule.is_max();

    if (over_share) {
      // Max with a population: the oldest object goes first.
      std::string name = std::move(w.undated.front());
      w.undated.pop_front();
      remove(name);
      continue;
    }
    // A create due at the same time as a delete goes first: the arrival
    // schedule is what the run is measured against.
    if (delete_due && *delete_due <= now && (!create_due || *delete_due < *create_due || *create_due > now)) {
      std::string name = w.deletes.top().name;
      w.deletes.pop();
      remove(name);
      continue;
    }
    if (create_due && *create_due <= now) {
      Arrival a{now, std::nullopt};
      if (!backlog.empty()) {
        a = backlog.front();
        backlog.pop_front();
      } else if (schedule.is_max()) {
        a = Arrival{now, spec_.population > 0 ? std::nullopt : std::optional<int64_t>(spec_.lifetime_us)};
      } else {
        a = Arrival{*next, lifetime_of(*next)};
        next = schedule.next();
      }
      create(a);
      continue;
    }
    // Nothing due: sleep until the next operation (a new load or stop wakes it).
    int64_t until = now + 100000;
    if (create_due) until = std::min(until, *create_due);
    if (delete_due) until = std::min(until, *delete_due);
    if (until > now) load_.sleep_until(clock, seen_version, until);
  }

  // Stop: what the schedule asked for and was never sent still counts as
  // intended (the achieved rate shows the shortfall) ...
  const int64_t end = clock.now_us();
  for (const auto& a : backlog) m.count_at(a.due, "kube.intended");
  while (next && *next < end) {
    m.count_at(*next, "kube.intended");
    next = schedule.next();
  }
  // ... and every object still alive is deleted now.
  std::vector<std::string> alive;
  while (!w.deletes.empty()) {
    alive.push_back(w.deletes.top().name);
    w.deletes.pop();
  }
  alive.insert(alive.end(), w.undated.begin(), w.undated.end());
  alive.insert(alive.end(), w.failed.begin(), w.failed.end());
  w.undated.clear();
  w.failed.clear();
  int unanswered = 0;  // in a row: the API server is gone, stop trying
  for (const auto& name : alive) {
    unanswered = remove(name) == 0 ? unanswered + 1 : 0;
    if (unanswered >= 3) {
      spdlog::warn("workload {}: the API server does not answer deletes; giving up on the objects left", spec_.name);
      break;
    }
  }
}

}  // namespace kapture
