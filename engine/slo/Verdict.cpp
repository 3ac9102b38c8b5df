#include "slo/Verdict.h"


namespace kapture {

std::map<std::string, SecondWindow> phase_windows(const RunRecord& run) {
  std::map<std::string, SecondWindow> out;
  for (const auto& p : run.phases) {
    if (!p.ran()) continue;
    out[p.name] = SecondWindow{p.start_us / 1000000, (p.end_us + 999999) / 1000000};
  }
  return out;
}

SecondWindow run_window(const RunRecord& run) { return SecondWindow{0, (run.end_us + 999999) / 1000000 + 1}; }

SloContext slo_context(const RunRecord& run, bool final) {
  SloContext ctx;
  ctx.phases = phase_windows(run);
  ctx.run = final ? run_window(run) : SecondWindow{0, run.end_us / 1000000};
  ctx.final = final;
  for (const auto& i : run.injections) {
    if (!i.error.empty() && i.end_us < 0) continue;  // never took effect
    // One step hitting several brokers at once is one injection to recover
    // from; "NAME ends" keys its undos.
    auto note = [&](const std::string& key, int64_t at) {
      auto& times = ctx.steps[key];
      if (times.empty() || times.back() / 1000000 != at / 1000000) times.push_back(at);
    };
    for (const std::string& key : {i.step, i.verb}) {
      if (key.empty()) continue;
      note(key, i.start_us);
      if (i.end_us >= 0) note(key + " ends", i.end_us);
    }
  }
  return ctx;
}

ExpectationResult check_expectation(const ExpectationSpec& e, const MetricsStore& metrics, const SloContext& ctx) {
  SloOutcome o = evaluate_on_store(e.expr, metrics, ctx);
  ExpectationResult r;
  r.text = e.expr.text;
  r.where = e.where;
  r.pass = o.pass;
  r.no_data = o.no_data;
  r.measured = o.lhs;
  r.threshold = o.rhs;
  r.dim = o.dim;
  r.cmp = e.expr.cmp;
  r.abort = e.abort;
  r.message = o.note;
  return r;
}

Verdict judge(const Plan& plan, const RunRecord& run, const MetricsStore& metrics, const std::map<size_t, LuaOutcome>& lua,
              const std::map<size_t, ExpectationResult>& prometheus) {
  Verdict v;
  auto windows = phase_windows(run);
  SloContext ctx = slo_context(run);
  int failed = 0;
  for (size_t i = 0; i < plan.scenario->expectations.size(); ++i) {
    const auto& e = plan.scenario->expectations[i];
    if (e.lua) {
      ExpectationResult r;
      r.text = e.text();
      r.where = e.where;
      r.lua = true;
      auto it = lua.find(i);
      r.no_data = it == lua.end();
      r.pass = !r.no_data && it->second.pass;
      r.message = r.no_data ? "not run" : it->second.message;
      if (!r.pass) ++failed;
      v.expectations.push_back(r);
      continue;
    }
    ExpectationResult r;
    if (e.prometheus) {
      auto it = prometheus.find(i);
      if (it != prometheus.end()) {
        r = it->second;
      } else {
        r.text = e.text();
        r.where = e.where;
        r.no_data = true;
        r.message = "not queried";
      }
      r.prometheus = true;
    } else if (run.aborted && run.aborted->expectation == i) {
      // Judged as it stood when it stopped the run, not over the drain after.
      r = check_expectation(e, metrics, ctx);
      r.pass = false;
      r.no_data = false;
      r.measured = run.aborted->measured;
      r.threshold = run.aborted->threshold;
      r.message = "aborted the run at " + std::to_string(run.aborted->at_us / 1000000) + "s" +
                  (run.aborted->note.empty() ? "" : "; " + run.aborted->note);
    } else {
      r = check_expectation(e, metrics, ctx);
    }
    if (!r.pass) ++failed;
    v.expectations.push_back(r);
  }
  int behind = 0;
  for (const auto& p : run.phases) {
    if (!p.ran()) continue;
    const PlannedPhase* planned = nullptr;
    for (const auto& pp : plan.phases)
      if (pp.name == p.name) planned = &pp;
    bool max_rate = false;
    if (planned)
      for (const auto& [name, l] : planned->loads) max_rate = max_rate || l.kind == LoadSpec::Kind::Max;
    // A benchmark phase pushes until something gives: falling behind is its result, not an invalid run.
    if (planned && planned->benchmark) max_rate = true;
    SecondWindow w = windows[p.name];
    RateCheck rc;
    rc.phase = p.name;
    rc.intended = metrics.counter_sum("produce.intended", w);
    rc.sent = metrics.counter_sum("produce.sent", w);
    rc.dropped = metrics.counter_sum("produce.dropped", w);
    rc.seconds = static_cast<double>(p.end_us - p.start_us) / 1e6;
    rc.backpressured = metrics.counter_sum("produce.queue_full", w) > 0;
    bool kube = false;
    if (rc.intended == 0) {
      kube = true;
      // Kubernetes API load: behind when the engine, not the API server,
      // was late (a free worker starting an operation >10 ms after its time).
      rc.intended = metrics.counter_sum("kube.intended", w);
      rc.sent = metrics.counter_sum("kube.requests", w);
      rc.dropped = metrics.counter_sum("kube.engine_late", w);
    }
    // Only whole phases are judged: an interrupted one was cut short on purpose.
    // Kubernetes API load counts late starts, not drops: a handful in a short
    // phase is a scheduler hiccup, not an engine that cannot keep up.
    int64_t floor = kube ? 10 : 0;
    rc.behind = !max_rate && p.ended_by != "interrupt" && p.ended_by != "error" && !rc.backpressured && rc.intended > 0 &&
                rc.dropped > floor && static_cast<double>(rc.dropped) > 0.01 * static_cast<double>(rc.intended);
    if (rc.behind) ++behind;
    v.rates.push_back(rc);
  }
  if (run.interrupted) {
    v.exit_code = kExitInterrupted;
    v.headline = "INTERRUPTED: partial results written";
  } else if (run.error) {
    v.exit_code = run.error->kind == ErrorKind::Usage ? kExitUsage : kExitUnreachable;
    v.headline = "ERROR: " + run.error->describe();
  } else if (behind) {
    v.exit_code = kExitInvalidRun;
    v.headline = "INVALID: the load generator fell behind its declared rate in " + std::to_string(behind) +
                 " phase(s); the run measured the engine, not the system";
  } else if (run.aborted) {
    const ExpectationResult& r = v.expectations[run.aborted->expectation];
    v.exit_code = kExitFailed;
    v.headline = "FAIL: aborted at " + std::to_string(run.aborted->at_us / 1000000) + "s by '" + r.text + "' (measured " +
                 format_slo_value(r.measured, r.dim) + ", threshold " + format_slo_value(r.threshold, r.dim) + "); " +
                 std::to_string(failed) + " of " + std::to_string(v.expectations.size()) + " expectations failed";
  } else if (failed) {
    v.exit_code = kExitFailed;
    v.headline = "FAIL: " + std::to_string(failed) + " of " + std::to_string(v.expectations.size()) + " expectations failed";
  } else {
    v.exit_code = kExitPass;
    v.headline = "PASS: all " + std::to_string(v.expectations.size()) + " expectations held";
  }
  return v;
}

}  // namespace kapture
