#include "timeline/BenchmarkPhase.h"

#include <algorithm>

#include "slo/Verdict.h"

namespace kapture {

BenchmarkStep measure_benchmark_step(const BenchmarkSpec& spec, int k, int64_t phase_start_us, const MetricsStore& metrics,
                                     const std::vector<ExpectationSpec>& expectations) {
  int64_t every_s = spec.every_us / 1000000, start_s = phase_start_us / 1000000;
  BenchmarkStep st;
  double level = spec.from + k * spec.step;
  if (spec.by_threads) st.threads = static_cast<int>(level);
  else st.target = level;
  st.from_s = start_s + k * every_s + 1;
  st.to_s = start_s + (k + 1) * every_s;
  SecondWindow w{st.from_s, st.to_s};
  st.achieved = static_cast<double>(metrics.counter_sum("produce.acked", w)) / static_cast<double>(w.length());
  Histogram lat = metrics.histogram("produce.latency", w);
  st.p50_us = static_cast<double>(lat.percentile(50));
  st.p99_us = static_cast<double>(lat.percentile(99));
  st.failed = metrics.counter_sum("produce.failed", w);
  SloContext ctx;
  ctx.run = w;
  for (const auto& e : expectations) {
    if (e.lua || e.prometheus || e.expr.has_during() || e.expr.over_us > 0 || !e.expr.recovery.empty()) continue;
    bool ledger = false;
    for (const auto& [m, off] : e.expr.metrics_named()) ledger = ledger || m.rfind("ledger.", 0) == 0;
    if (ledger) continue;
    ExpectationResult r = check_expectation(e, metrics, ctx);
    if (!r.no_data && !r.pass) {
      st.broken = r.text + " (measured " + format_slo_value(r.measured, r.dim) + ")";
      break;
    }
  }
  return st;
}

bool benchmark_continues(const BenchmarkSpec& spec, BenchmarkRecord& b, const BenchmarkStep& st) {
  int k = static_cast<int>(b.steps.size());
  b.steps.push_back(st);
  if (!st.broken.empty()) {
    b.knee = k - 1;
    b.stopped_because = "expectation broke: " + st.broken;
    return false;
  }
  // What the step added: its rate increase, or the new threads at the
  // previous step's rate per thread.
  const BenchmarkStep* prev = k > 0 ? &b.steps[k - 1] : nullptr;
  double added = !prev ? 0 : spec.by_threads ? prev->achieved / std::max(1, prev->threads) * spec.step : spec.step;
  if (prev && st.achieved - prev->achieved < spec.rise * added) {
    b.knee = k - 1;
    b.stopped_because = "throughput stopped rising";
    return false;
  }
  b.knee = k;
  if (k + 1 >= spec.steps()) {
    b.stopped_because = "reached max without a knee";
    return false;
  }
  return true;
}

}  // namespace kapture
