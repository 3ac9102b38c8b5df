#include "timeline/TimelineExecutor.h"

#include <cstdio>

#include <spdlog/spdlog.h>

#include "common/Units.h"
#include "slo/MetricsSloData.h"

namespace kapture {

TimelineExecutor::TimelineExecutor(const Plan& plan, ChaosInjector& chaos, std::vector<Workload*> workloads, MetricsStore& metrics,
                                   EventLog& events, UndoJournal& undo, const RunClock& clock, ExecutorOptions options)
    : plan_(plan), chaos_(chaos), workloads_(std::move(workloads)), metrics_(metrics), events_(events), undo_(undo), clock_(clock),
      options_(options) {}

void TimelineExecutor::interrupt() {
  interrupted_ = true;
  std::lock_guard lock(mu_);
  cv_.notify_all();
}

bool TimelineExecutor::wait_until(int64_t us) {
  std::unique_lock lock(mu_);
  cv_.wait_until(lock, clock_.at(us), [&] { return interrupted_.load() || clock_.now_us() >= us; });
  return !interrupted_.load();
}

bool TimelineExecutor::condition_holds(const SloExpression& e, int64_t to_second) const {
  // An `until` looks at the whole run so far: "in flight is zero now".
  MetricsSloData data(metrics_, {}, SecondWindow{0, to_second});
  return evaluate_slo(e, data).pass;
}

std::optional<Error> TimelineExecutor::check_workloads() {
  for (Workload* w : workloads_) {
    if (auto f = w->failure()) return f;
    int64_t stuck = w->stuck_in_lua_ms();
    if (stuck > options_.lua_stuck_limit_ms)
      return runtime_error("workload '" + w->name() + "': a Lua call has been running for " + std::to_string(stuck / 1000) +
                           "s (runaway script?); the run was stopped");
  }
  return std::nullopt;
}

void TimelineExecutor::progress(const PlannedPhase& phase, int64_t now_us) {
  if (options_.quiet) return;
  int64_t s = now_us / 1000000;
  SecondWindow last{s - 1, s};
  int64_t sent = metrics_.counter_sum("produce.sent", last);
  int64_t acked = metrics_.counter_sum("produce.acked", last);
  int64_t failed = metrics_.counter_sum("produce.failed", SecondWindow{0, s});
  Histogram lat = metrics_.histogram("produce.latency", last);
  auto inflight = metrics_.gauge_last("produce.in_flight", last);
  std::fprintf(stderr, "[%4llds] %-10s sent %6lld/s  acked %6lld/s  p99 %8.2fms  in-flight %6.0f  failed %lld\n",
               static_cast<long long>(s), phase.name.c_str(), static_cast<long long>(sent), static_cast<long long>(acked),
               static_cast<double>(lat.percentile(99)) / 1000.0, inflight.value_or(0), static_cast<long long>(failed));
}

RunRecord TimelineExecutor::run() {
  RunRecord record;
  record.start_wall_ms = clock_.start_wall_ms();
  events_.write("run_start", {{"scenario", plan_.scenario->name}, {"seed", plan_.seed}, {"target", plan_.target}});
  // The timeline starts on the next whole second after set-up (consumers
  // joining their group), so per-second metrics split cleanly at phases.
  int64_t phase_start = (clock_.now_us() + 999999) / 1000000 * 1000000;
  bool stop = !wait_until(phase_start);
  if (stop) record.interrupted = true;
  for (const auto& phase : plan_.phases) {
    if (stop) break;
    PhaseRecord pr;
    pr.name = phase.name;
    pr.start_us = phase_start;
    int64_t phase_end = phase_start + phase.duration_us;
    events_.write("phase_start", {{"phase", phase.name}, {"offset_s", phase_start / 1e6}});
    for (Workload* w : workloads_) {
      auto it = phase.loads.find(w->name());
      if (it != phase.loads.end()) w->set_load(it->second, phase_start, phase.duration_us);
    }
    // Pending timeline actions of this phase, by time.
    struct Action {
      int64_t at;
      size_t injection;
      bool undo;
    };
    std::vector<Action> actions;
    for (size_t i = 0; i < phase.injections.size(); ++i) actions.push_back({phase_start + phase.injections[i].offset_us, i, false});
    std::vector<int> undo_ids(phase.injections.size(), 0);
    std::vector<size_t> record_index(phase.injections.size(), 0);
    std::string ended_by = "duration";
    int64_t next_tick = phase_start + 1000000;
    for (;;) {
      std::sort(actions.begin(), actions.end(), [](const Action& a, const Action& b) { return a.at < b.at || (a.at == b.at && a.undo > b.undo); });
      int64_t next = phase_end;
      if (!actions.empty()) next = std::min(next, actions.front().at);
      // Checks run 100 ms after each whole second, once every worker has
      // handed over the second that just ended.
      next = std::min(next, next_tick + 100000);
      if (!wait_until(next)) {
        ended_by = "interrupt";
        record.interrupted = true;
        stop = true;
        break;
      }
      int64_t now = clock_.now_us();
      if (!actions.empty() && actions.front().at <= now) {
        Action a = actions.front();
        actions.erase(actions.begin());
        const PlannedInjection& inj = phase.injections[a.injection];
        if (!a.undo) {
          InjectionRecord ir;
          ir.phase = phase.name;
          ir.verb = chaos_verb_name(inj.action.verb);
          ir.start_us = now;
          auto result = chaos_.inject(inj.action);
          if (!result) {
            ir.error = result.error().message;
            ir.description = chaos_verb_name(inj.action.verb);
            if (chaos_verb_takes_broker(inj.action.verb)) ir.description += " " + inj.action.broker.describe();
            events_.write("chaos_failed", {{"phase", phase.name}, {"verb", ir.verb}, {"error", ir.error}});
            record.injections.push_back(ir);
            record.error = runtime_error("chaos " + ir.description + " failed: " + ir.error);
            ended_by = "error";
            stop = true;
            break;
          }
          ir.description = result->description;
          ir.details = result->details;
          if (!result->undo) {
            // A scale step: done (and waited for) once inject returns.
            ir.end_us = clock_.now_us();
            ir.details["took_ms"] = (ir.end_us - now) / 1000;
            metrics_.add_counter(now / 1000000, "scale.steps", 1);
            events_.write("scale", {{"phase", phase.name}, {"verb", ir.verb}, {"description", ir.description}, {"details", ir.details}});
            if (!options_.quiet) std::fprintf(stderr, "[%4llds] scale: %s\n", static_cast<long long>(now / 1000000), ir.description.c_str());
            record.injections.push_back(ir);
            continue;
          }
          undo_ids[a.injection] = undo_.push(result->description, result->undo);
          metrics_.add_counter(now / 1000000, "chaos.injected", 1);
          events_.write("chaos_inject", {{"phase", phase.name}, {"verb", ir.verb}, {"description", ir.description}, {"details", ir.details}});
          if (!options_.quiet) std::fprintf(stderr, "[%4llds] chaos: %s\n", static_cast<long long>(now / 1000000), ir.description.c_str());
          record_index[a.injection] = record.injections.size();
          record.injections.push_back(ir);
          actions.push_back({phase_start + inj.offset_us + inj.for_us, a.injection, true});
        } else {
          InjectionRecord& ir = record.injections[record_index[a.injection]];
          Status st = undo_.run(undo_ids[a.injection]);
          ir.end_us = now;
          if (st) ir.error = "undo failed: " + st->message;
          metrics_.add_counter(now / 1000000, "chaos.undone", 1);
          events_.write("chaos_undo", {{"phase", phase.name}, {"verb", ir.verb}, {"description", ir.description},
                                       {"ok", !st}, {"error", st ? st->message : ""}});
          if (!options_.quiet) std::fprintf(stderr, "[%4llds] chaos undone: %s\n", static_cast<long long>(now / 1000000), ir.description.c_str());
        }
        continue;
      }
      if (now >= next_tick + 100000) {
        if (auto err = check_workloads()) {
          record.error = err;
          ended_by = "error";
          stop = true;
          break;
        }
        if ((next_tick / 1000000) % 5 == 0) progress(phase, next_tick);
        int64_t tick_second = next_tick / 1000000;
        next_tick += 1000000;
        bool all_hold = !phase.until.empty() && tick_second > phase_start / 1000000;
        for (const auto* u : phase.until) all_hold = all_hold && condition_holds(*u, tick_second);
        if (all_hold) {
          // Phases end on whole seconds so per-second metrics split cleanly.
          phase_end = std::min(phase_end, tick_second * 1000000 + 1000000);
          ended_by = "condition";
        }
        continue;
      }
      if (now >= phase_end) {
        if (!phase.until.empty() && ended_by != "condition") ended_by = "timeout";
        break;
      }
    }
    // Injections of this phase never outlive it (validation ensures their
    // `for` fits; an early end undoes them here).
    for (size_t i = 0; i < undo_ids.size(); ++i) {
      if (undo_ids[i] == 0) continue;
      InjectionRecord& ir = record.injections[record_index[i]];
      if (ir.end_us >= 0) continue;
      Status st = undo_.run(undo_ids[i]);
      ir.end_us = clock_.now_us();
      if (st) ir.error = "undo failed: " + st->message;
      metrics_.add_counter(ir.end_us / 1000000, "chaos.undone", 1);
      events_.write("chaos_undo", {{"phase", phase.name}, {"verb", ir.verb}, {"description", ir.description}, {"ok", !st}, {"early", true}});
    }
    pr.end_us = stop ? clock_.now_us() : phase_end;
    pr.ended_by = ended_by;
    events_.write("phase_end", {{"phase", phase.name}, {"offset_s", pr.end_us / 1e6}, {"ended_by", ended_by}});
    if (!options_.quiet)
      std::fprintf(stderr, "[%4llds] phase %s ended (%s)\n", static_cast<long long>(pr.end_us / 1000000), phase.name.c_str(), ended_by.c_str());
    record.phases.push_back(pr);
    phase_start = pr.end_us;
  }
  // Stop the load: an interrupted run waits less for outstanding deliveries.
  LoadSpec idle;
  for (Workload* w : workloads_) w->set_load(idle, clock_.now_us(), 0);
  for (Workload* w : workloads_) w->stop(record.interrupted ? std::min(options_.drain_ms, 2000) : options_.drain_ms);
  for (const auto& e : undo_.run_all()) spdlog::error("undo failed: {}", e.message);
  if (!record.error) {
    for (Workload* w : workloads_)
      if (auto f = w->failure()) record.error = f;
  }
  record.end_us = clock_.now_us();
  events_.write("run_end", {{"interrupted", record.interrupted}, {"error", record.error ? record.error->describe() : ""}});
  return record;
}

}  // namespace kapture
