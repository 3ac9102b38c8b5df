#include "slo/MetricsSloData.h"

#include <cmath>
#include <cstdio>

#include "metrics/MetricCatalog.h"

namespace kapture {

bool MetricsSloData::aggregate(const SloNode& node, const std::string& window, double& out) const {
  SecondWindow w = ctx_.run;
  if (!window.empty()) {
    auto it = ctx_.phases.find(window);
    if (it == ctx_.phases.end()) return false;  // the phase never ran
    w = it->second;
  }
  auto info = find_metric(metric_base_name(node.metric));
  if (!info) return false;
  out = 0;
  if (info->kind == MetricKind::Gauge) {
    std::optional<double> v;
    if (node.agg == SloNode::Agg::Last) v = store_.gauge_last(node.metric, w);
    else if (node.agg == SloNode::Agg::Max) v = store_.gauge_max(node.metric, w);
    else if (node.agg == SloNode::Agg::Min) v = store_.gauge_min(node.metric, w);
    if (!v) return false;
    out = *v;
    return true;
  }
  if (info->kind == MetricKind::Counter) {
    // The ledger's counters exist only when the ledger was checked: a
    // skipped check is no data (a failed expectation), never a zero.
    if (node.metric.rfind("ledger.", 0) == 0 && !store_.counter_recorded(node.metric, w)) return false;
    double sum = static_cast<double>(store_.counter_sum(node.metric, w));
    if (node.agg == SloNode::Agg::Rate) {
      if (w.length() == 0) return false;
      out = sum / static_cast<double>(w.length());
    } else {
      out = sum;
    }
    return true;
  }
  Histogram h = store_.histogram(node.metric, w);
  switch (node.agg) {
    case SloNode::Agg::Count: out = static_cast<double>(h.count()); return true;
    case SloNode::Agg::Rate:
      if (w.length() == 0) return false;
      out = static_cast<double>(h.count()) / static_cast<double>(w.length());
      return true;
    default: break;
  }
  if (h.count() == 0) return false;
  switch (node.agg) {
    case SloNode::Agg::Percentile: out = static_cast<double>(h.percentile(node.percentile)); break;
    case SloNode::Agg::Avg: out = h.mean(); break;
    case SloNode::Agg::Min: out = static_cast<double>(h.min()); break;
    case SloNode::Agg::Max: out = static_cast<double>(h.max()); break;
    default: break;
  }
  return true;
}

bool MetricsSloData::recovery(const SloExpression& e, double& out) const {
  auto it = ctx_.steps.find(e.after_key());
  if (it == ctx_.steps.end() || it->second.empty() || e.recovery.empty()) return false;
  const SloExpression& cond = e.recovery.front();
  out = 0;
  for (int64_t at : it->second) {
    // Whole seconds from the one the injection fell in; a second with no data
    // (nothing acknowledged during an outage) has not recovered.
    int64_t streak = 0;
    double took = -1;
    for (int64_t s = at / 1000000; s < ctx_.run.to; ++s) {
      MetricsSloData second(store_, SloContext{ctx_.phases, SecondWindow{s, s + 1}, {}, true});
      streak = evaluate_slo(cond, second).pass ? streak + 1 : 0;
      if (streak == kRecoveryStableSeconds) {
        took = std::max(0.0, static_cast<double>((s + 1 - streak) * 1000000 - at));
        break;
      }
    }
    if (took < 0) {
      // Not recovered: infinite once the run is over; while it runs, at
      // least as long as it has been so far.
      took = ctx_.final ? INFINITY : std::max(0.0, static_cast<double>((ctx_.run.to - streak) * 1000000 - at));
    }
    out = std::max(out, took);
  }
  return true;
}

namespace {

// How far a window's outcome is from passing: larger is worse.
double badness(const SloOutcome& o, const std::string& cmp) {
  if (cmp == "<" || cmp == "<=") return o.lhs - o.rhs;
  if (cmp == ">" || cmp == ">=") return o.rhs - o.lhs;
  if (cmp == "==") return std::fabs(o.lhs - o.rhs);
  return -std::fabs(o.lhs - o.rhs);
}

std::string seconds_text(SecondWindow w) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%llds-%llds", static_cast<long long>(w.from), static_cast<long long>(w.to));
  return buf;
}

}  // namespace

SloOutcome evaluate_on_store(const SloExpression& e, const MetricsStore& store, const SloContext& ctx) {
  if (!e.recovery.empty()) {
    SloOutcome o = evaluate_slo(e, MetricsSloData(store, ctx));
    auto it = ctx.steps.find(e.after_key());
    size_t n = it == ctx.steps.end() ? 0 : it->second.size();
    std::string what = e.after_end ? " undo(s) of " : " injection(s) of ";
    o.note = n == 0 ? e.after + (e.after_end ? " was never undone" : " never ran")
                    : "slowest of " + std::to_string(n) + what + e.after + (std::isinf(o.lhs) ? ": never recovered" : "");
    return o;
  }
  if (e.over_us == 0) return evaluate_slo(e, MetricsSloData(store, ctx));
  SecondWindow range = ctx.run;
  if (!e.range_phase.empty()) {
    auto it = ctx.phases.find(e.range_phase);
    if (it == ctx.phases.end()) {
      SloOutcome none;
      none.no_data = true;
      none.dim = e.nodes[e.lhs].dim;
      none.note = "phase " + e.range_phase + " never ran";
      return none;
    }
    range = it->second;
  }
  int64_t len = e.over_us / 1000000;
  std::vector<SecondWindow> windows;
  if (range.length() <= len) windows.push_back(range);
  else
    for (int64_t s = range.from; s + len <= range.to; ++s) windows.push_back(SecondWindow{s, s + len});
  // While the run goes, checks come every second: each window is judged
  // once, as the newest (the verdict at the end judges them all again).
  if (!ctx.final && windows.size() > 1) windows.erase(windows.begin(), windows.end() - 1);
  std::optional<SloOutcome> worst;
  SecondWindow worst_window;
  int with_data = 0, failing = 0, streak = 0, best_streak = 0;
  SecondWindow streak_start, best_start;
  for (const auto& w : windows) {
    SloContext c = ctx;
    c.run = w;
    SloOutcome o = evaluate_slo(e, MetricsSloData(store, c));
    if (o.no_data) {
      streak = 0;
      continue;
    }
    ++with_data;
    if (!o.pass) ++failing;
    if (o.pass) {
      if (streak++ == 0) streak_start = w;
      if (streak > best_streak) {
        best_streak = streak;
        best_start = streak_start;
      }
    } else {
      streak = 0;
    }
    if (!worst || badness(o, e.cmp) > badness(*worst, e.cmp)) {
      worst = o;
      worst_window = w;
    }
  }
  if (!worst) {
    SloOutcome none;
    none.no_data = true;
    none.dim = e.nodes[e.lhs].dim;
    none.note = "no window had data";
    return none;
  }
  SloOutcome out = *worst;
  if (e.consecutive > 0) {
    out.pass = best_streak >= e.consecutive;
    // While the run goes, too few good windows yet is not a violation yet.
    if (!ctx.final && !out.pass) out.no_data = true;
    out.note = "held in " + std::to_string(best_streak) + " consecutive window(s)" +
               (best_streak > 0 ? " from " + std::to_string(best_start.from) + "s" : "") + ", needed " + std::to_string(e.consecutive) +
               "; worst window " + seconds_text(worst_window);
  } else {
    out.pass = failing == 0;
    out.note = std::to_string(failing) + " of " + std::to_string(with_data) + " window(s) failed; worst " + seconds_text(worst_window);
  }
  return out;
}

}  // namespace kapture
