#include "slo/Verdict.h"

#include "slo/MetricsSloData.h"

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

Verdict judge(const Plan& plan, const RunRecord& run, const MetricsStore& metrics, const std::map<size_t, LuaOutcome>& lua) {
  Verdict v;
  auto windows = phase_windows(run);
  MetricsSloData data(metrics, windows, run_window(run));
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
    SloOutcome o = evaluate_slo(e.expr, data);
    ExpectationResult r;
    r.text = e.expr.text;
    r.where = e.where;
    r.pass = o.pass;
    r.no_data = o.no_data;
    r.measured = o.lhs;
    r.threshold = o.rhs;
    r.dim = o.dim;
    r.cmp = e.expr.cmp;
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
    SecondWindow w = windows[p.name];
    RateCheck rc;
    rc.phase = p.name;
    rc.intended = metrics.counter_sum("produce.intended", w);
    rc.sent = metrics.counter_sum("produce.sent", w);
    rc.dropped = metrics.counter_sum("produce.dropped", w);
    rc.seconds = static_cast<double>(p.end_us - p.start_us) / 1e6;
    rc.backpressured = metrics.counter_sum("produce.queue_full", w) > 0;
    // Only whole phases are judged: an interrupted one was cut short on purpose.
    rc.behind = !max_rate && p.ended_by != "interrupt" && p.ended_by != "error" && !rc.backpressured && rc.intended > 0 &&
                static_cast<double>(rc.dropped) > 0.01 * static_cast<double>(rc.intended);
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
