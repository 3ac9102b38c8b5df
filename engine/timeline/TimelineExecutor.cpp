#include "timeline/TimelineExecutor.h"

#include <cstdio>

#include <spdlog/spdlog.h>

#include "common/Units.h"
#include "slo/MetricsSloData.h"
#include "slo/Verdict.h"
#include "timeline/BenchmarkPhase.h"

namespace kapture {

TimelineExecutor::TimelineExecutor(const Plan& plan, ChaosInjector& chaos, std::vector<Workload*> workloads, MetricsStore& metrics,
                                   EventLog& events, UndoJournal& undo, const RunClock& clock, ExecutorOptions options)
    : plan_(plan), chaos_(chaos), workloads_(std::move(workloads)), metrics_(metrics), events_(events), undo_(undo), clock_(clock),
      options_(options), console_(options.quiet) {}

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

namespace {

// The rate a load asks for `elapsed` into its phase; 0 for max rate.
double current_rate(const LoadSpec& l, int64_t elapsed_us, int64_t duration_us) {
  switch (l.kind) {
    case LoadSpec::Kind::Rate: return l.rate;
    case LoadSpec::Kind::Ramp:
      return duration_us > 0 ? l.from + (l.to - l.from) * static_cast<double>(std::min(elapsed_us, duration_us)) / static_cast<double>(duration_us)
                             : l.to;
    default: return 0;
  }
}

}  // namespace

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

std::optional<RunRecord::Abort> TimelineExecutor::check_expectations(const RunRecord& so_far) {
  const auto& expectations = plan_.scenario->expectations;
  violated_.resize(expectations.size(), false);
  SloContext ctx = slo_context(so_far, false);
  failing_ = 0;
  for (size_t i = 0; i < expectations.size(); ++i) {
    const auto& e = expectations[i];
    if (e.lua || e.prometheus) continue;  // they run once, after the drain
    ExpectationResult r = check_expectation(e, metrics_, ctx);
    if (r.no_data || r.pass) continue;  // nothing yet is not a violation yet
    ++failing_;
    int64_t second = ctx.run.to;
    if (!violated_[i]) {
      violated_[i] = true;
      events_.write("expectation_violated", {{"expect", r.text}, {"second", second}, {"measured", format_slo_value(r.measured, r.dim)},
                                             {"threshold", r.cmp + " " + format_slo_value(r.threshold, r.dim)}, {"abort", e.abort}});
    }
    if (e.abort) {
      console_.say("[" + std::to_string(second) + "s] abort: '" + r.text + "' violated (measured " + format_slo_value(r.measured, r.dim) +
          ", threshold " + r.cmp + " " + format_slo_value(r.threshold, r.dim) + ")");
      return RunRecord::Abort{i, second * 1000000, r.measured, r.threshold, r.message};
    }
  }
  return std::nullopt;
}

bool TimelineExecutor::benchmark_step(const PlannedPhase& phase, BenchmarkRecord& b, int64_t phase_start, int64_t now_us) {
  const BenchmarkSpec& spec = *phase.benchmark;
  int k = static_cast<int>(b.steps.size());
  BenchmarkStep st = measure_benchmark_step(spec, k, phase_start, metrics_, plan_.scenario->expectations);
  events_.write("benchmark_step", {{"phase", phase.name}, {"target", st.target}, {"threads", st.threads}, {"achieved", st.achieved},
                                   {"p50_ms", st.p50_us / 1000}, {"p99_ms", st.p99_us / 1000}, {"failed", st.failed}, {"broken", st.broken}});
  char line[256];
  std::string level = spec.by_threads ? std::to_string(st.threads) + " threads" : "target " + std::to_string(static_cast<long long>(st.target)) + "/s";
  std::snprintf(line, sizeof line, "[%llds] benchmark: %s, achieved %.0f/s, p99 %.2fms%s%s", static_cast<long long>(now_us / 1000000),
                level.c_str(), st.achieved, st.p99_us / 1000, st.broken.empty() ? "" : ", broke: ", st.broken.c_str());
  console_.say(line);
  if (!benchmark_continues(spec, b, st)) return false;
  benchmark_load(spec, k + 1, now_us);
  return true;
}

void TimelineExecutor::benchmark_load(const BenchmarkSpec& spec, int k, int64_t now_us) {
  double level = spec.from + k * spec.step;
  if (spec.by_threads) {
    // The producer's own scale verb: it returns at once at max rate.
    ChaosAction scale;
    scale.verb = ChaosVerb::ScaleProducer;
    scale.workload = spec.workload;
    scale.threads = static_cast<int>(level);
    if (auto r = chaos_.inject(scale); !r) console_.say("benchmark: scaling " + spec.workload + " failed: " + r.error().message);
    return;
  }
  LoadSpec next;
  next.rate = level;
  for (Workload* wl : workloads_)
    if (wl->name() == spec.workload) wl->set_load(next, now_us, spec.every_us);
}

void TimelineExecutor::sample_process(int64_t second) {
  // Gauges of one second add up over recorders: a second is sampled once.
  if (second <= last_sampled_second_) return;
  last_sampled_second_ = second;
  auto s = process_.sample(clock_.now_us());
  if (!s) return;
  SecondSample sample;
  sample.gauges["engine.cpu_percent"] = s->cpu_percent;
  sample.gauges["engine.rss_bytes"] = s->rss_bytes;
  metrics_.add(second, sample);
}

RunRecord TimelineExecutor::run() {
  RunRecord record;
  record.start_wall_ms = clock_.start_wall_ms();
  int64_t timeline_start = 0;
  events_.write("run_start", {{"scenario", plan_.scenario->name}, {"seed", plan_.seed}, {"target", plan_.target}});
  // The timeline starts on the next whole second after set-up (consumers
  // joining their group), so per-second metrics split cleanly at phases.
  int64_t phase_start = (clock_.now_us() + 999999) / 1000000 * 1000000;
  process_.sample(clock_.now_us());  // the CPU baseline, so second 0 has a sample too
  bool stop = !wait_until(phase_start);
  if (stop) record.interrupted = true;
  timeline_start = phase_start;
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
    std::optional<BenchmarkRecord> bench;
    if (phase.benchmark) {
      bench = BenchmarkRecord{phase.name, phase.benchmark->workload, {}, -1, ""};
      if (phase.benchmark->by_threads) benchmark_load(*phase.benchmark, 0, phase_start);
    }
    bool bench_done = false;
    for (;;) {
      std::sort(actions.begin(), actions.end(), [](const Action& a, const Action& b) { return a.at < b.at || (a.at == b.at && a.undo > b.undo); });
      int64_t next = phase_end;
      if (bench && !bench_done) next = std::max(next, next_tick + options_.check_delay_us);  // wait for the last step's tick
      if (!actions.empty()) next = std::min(next, actions.front().at);
      // Checks run a little after each whole second (check_delay_us), once
      // every worker has handed over the second that just ended.
      next = std::min(next, next_tick + options_.check_delay_us);
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
          ir.step = inj.step_name;
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
            console_.say("[" + std::to_string(now / 1000000) + "s] scale: " + ir.description);
            record.injections.push_back(ir);
            continue;
          }
          undo_ids[a.injection] = result->journal_id ? undo_.attach(result->journal_id, result->undo)
                                                     : undo_.push(result->description, result->undo);
          metrics_.add_counter(now / 1000000, "chaos.injected", 1);
          events_.write("chaos_inject", {{"phase", phase.name}, {"verb", ir.verb}, {"description", ir.description}, {"details", ir.details}});
          console_.say("[" + std::to_string(now / 1000000) + "s] chaos: " + ir.description);
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
          console_.say("[" + std::to_string(now / 1000000) + "s] chaos undone: " + ir.description);
        }
        continue;
      }
      if (now >= next_tick + options_.check_delay_us) {
        if (auto err = check_workloads()) {
          record.error = err;
          ended_by = "error";
          stop = true;
          break;
        }
        int64_t tick_second = next_tick / 1000000;
        next_tick += 1000000;
        sample_process(tick_second - 1);
        // Expectations over every whole second so far, this phase included.
        RunRecord so_far = record;
        so_far.phases.push_back(PhaseRecord{phase.name, phase_start, tick_second * 1000000, ""});
        so_far.end_us = tick_second * 1000000;
        if (auto abort = check_expectations(so_far)) {
          record.aborted = abort;
          ended_by = "abort";
          stop = true;
          break;
        }
        if (bench && !bench_done &&
            tick_second * 1000000 >= phase_start + static_cast<int64_t>(bench->steps.size() + 1) * phase.benchmark->every_us) {
          if (!benchmark_step(phase, *bench, phase_start, clock_.now_us())) {
            bench_done = true;
            if (tick_second * 1000000 < phase_end) ended_by = "knee";
            phase_end = std::min(phase_end, tick_second * 1000000);
          }
        }
        LiveSnapshot live;
        live.phase = phase.name;
        live.phase_index = static_cast<int>(&phase - plan_.phases.data());
        live.elapsed_us = tick_second * 1000000 - timeline_start;
        live.planned_us = plan_.total_us;
        live.phase_elapsed_us = tick_second * 1000000 - phase_start;
        live.phase_planned_us = phase.duration_us;
        for (const auto& [name, load] : phase.loads) live.target_rates[name] = current_rate(load, live.phase_elapsed_us, phase.duration_us);
        live.expectations_failing = failing_;
        for (const auto& a : actions) {
          if (a.undo) continue;
          const auto& act = phase.injections[a.injection].action;
          std::string what = chaos_verb_name(act.verb);
          if (chaos_verb_takes_broker(act.verb)) what += " " + act.broker.describe();
          live.next_step = what + " in " + std::to_string(std::max<int64_t>(0, (a.at - tick_second * 1000000) / 1000000)) + "s";
          break;
        }
        if (options_.live) options_.live->set(live);
        console_.show(live, tick_second, metrics_);
        bool all_hold = !phase.until.empty() && tick_second > phase_start / 1000000;
        for (const auto* u : phase.until) all_hold = all_hold && condition_holds(*u, tick_second);
        if (all_hold) {
          // Phases end on whole seconds so per-second metrics split cleanly.
          phase_end = std::min(phase_end, tick_second * 1000000 + 1000000);
          ended_by = "condition";
        }
        continue;
      }
      // A benchmark's last step is measured on the tick after it ends.
      if (now >= phase_end && !(bench && !bench_done)) {
        if (!phase.until.empty() && ended_by != "condition") ended_by = "timeout";
        // The phase's last second would be sampled at the next tick, which
        // belongs to the next phase (or to no phase, after the last one).
        sample_process(phase_end / 1000000 - 1);
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
    if (bench) record.benchmarks.push_back(*bench);
    pr.end_us = stop ? clock_.now_us() : phase_end;
    pr.ended_by = ended_by;
    events_.write("phase_end", {{"phase", phase.name}, {"offset_s", pr.end_us / 1e6}, {"ended_by", ended_by}});
    console_.say("[" + std::to_string(pr.end_us / 1000000) + "s] phase " + phase.name + " ended (" + ended_by + ")");
    record.phases.push_back(pr);
    phase_start = pr.end_us;
  }
  console_.end_line();
  if (options_.live) {
    LiveSnapshot end = options_.live->get();
    end.phase.clear();
    end.phase_index = -1;
    end.next_step.clear();
    end.target_rates.clear();
    end.aborted = record.aborted.has_value();
    options_.live->set(end);
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
  events_.write("run_end", {{"interrupted", record.interrupted}, {"aborted", record.aborted.has_value()},
                            {"error", record.error ? record.error->describe() : ""}});
  return record;
}

}  // namespace kapture
