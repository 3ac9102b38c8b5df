#include "report/RunComparison.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <sstream>

#include "report/JsonPath.h"

namespace kapture {
namespace {

bool truthy(const nlohmann::json* j) {
  if (!j) return false;
  if (j->is_boolean()) return j->get<bool>();
  if (j->is_number()) return j->get<double>() != 0;
  if (j->is_object() || j->is_array()) return !j->empty();
  return !j->is_null();
}

std::string format_change(const MetricComparison& m) {
  if (m.change == Change::Missing) return "-";
  if (!m.change_pct) return m.now && *m.now > 0 ? "from 0" : "0%";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%+.1f%%", *m.change_pct);
  return buf;
}

const char* change_word(Change c) {
  switch (c) {
    case Change::Same: return "";
    case Change::Better: return "better";
    case Change::Worse: return "WORSE";
    case Change::Missing: return "not in both";
  }
  return "";
}

}  // namespace

// A key metric counts only when its guard holds: latencies when something
// was measured, ETL counters when the run had an ETL, the ledger when it was
// checked (an unchecked ledger's zeros are not measurements).
const std::vector<KeyMetric>& key_metrics() {
  static const std::vector<KeyMetric> all = {
      {"throughput (acked)", "/s", Better::Higher, {}, {}},  // timeline_throughput
      {"produce.acked", "", Better::Higher, {"run", "counters", "produce.acked"}, {}},
      {"produce.latency p50", "ms", Better::Lower, {"run", "latency", "p50_ms"}, {"run", "latency", "count"}},
      {"produce.latency p99", "ms", Better::Lower, {"run", "latency", "p99_ms"}, {"run", "latency", "count"}},
      {"produce.latency p99.9", "ms", Better::Lower, {"run", "latency", "p99_9_ms"}, {"run", "latency", "count"}},
      {"produce.failed", "", Better::Lower, {"run", "counters", "produce.failed"}, {}},
      {"produce.dropped", "", Better::Lower, {"run", "counters", "produce.dropped"}, {}},
      {"etl.latency p99", "ms", Better::Lower, {"run", "histograms", "etl.latency", "p99_ms"}, {}},
      {"etl.sink_errors", "", Better::Lower, {"run", "counters", "etl.sink_errors"}, {"etl"}},
      {"etl.dead_letter", "", Better::Lower, {"run", "counters", "etl.dead_letter"}, {"etl"}},
      {"ledger.lost", "", Better::Lower, {"ledger", "lost"}, {"ledger", "checked"}},
      {"ledger.duplicates", "", Better::Lower, {"ledger", "duplicates"}, {"ledger", "checked"}},
  };
  return all;
}

int RunComparison::regressions() const {
  return static_cast<int>(std::count_if(metrics.begin(), metrics.end(), [](const MetricComparison& m) { return m.change == Change::Worse; }));
}

std::optional<double> timeline_throughput(const nlohmann::json& summary) {
  const nlohmann::json* phases = json_at(summary, {"phases"});
  auto acked = json_number(summary, {"run", "counters", "produce.acked"});
  if (!phases || !phases->is_array() || !acked) return std::nullopt;
  std::optional<double> start, end;
  for (const auto& p : *phases) {
    if (!json_at(p, {"metrics"})) continue;  // never ran
    auto s = json_number(p, {"start_s"}), e = json_number(p, {"end_s"});
    if (!s || !e) continue;
    if (!start) start = *s;
    end = *e;
  }
  if (!start || !end || *end <= *start) return std::nullopt;
  return *acked / (*end - *start);
}

RunMetrics extract_key_metrics(const nlohmann::json& summary) {
  RunMetrics out;
  if (auto t = timeline_throughput(summary)) out["throughput (acked)"] = *t;
  for (const auto& k : key_metrics()) {
    if (k.path.empty()) continue;
    if (!k.guard.empty() && !truthy(json_at(summary, k.guard))) continue;
    const nlohmann::json* v = json_at(summary, k.path);
    if (v && v->is_number()) out[k.name] = v->get<double>();
  }
  return out;
}

RunComparison compare_runs(const RunMetrics& base, const RunMetrics& now, double tolerance_pct) {
  RunComparison c;
  c.tolerance_pct = tolerance_pct;
  for (const auto& metric : key_metrics()) {
    MetricComparison m;
    m.metric = metric;
    if (auto it = base.find(metric.name); it != base.end()) m.base = it->second;
    if (auto it = now.find(metric.name); it != now.end()) m.now = it->second;
    if (!m.base && !m.now) continue;  // neither run measured it: nothing to show
    if (!m.base || !m.now) {
      m.change = Change::Missing;
      c.metrics.push_back(m);
      continue;
    }
    double delta = *m.now - *m.base;
    // Positive when the metric moved the bad way.
    double worse = metric.better == Better::Lower ? delta : -delta;
    if (*m.base != 0) {
      m.change_pct = delta / std::fabs(*m.base) * 100.0;
      double worse_pct = worse / std::fabs(*m.base) * 100.0;
      m.change = worse_pct > tolerance_pct ? Change::Worse : -worse_pct > tolerance_pct ? Change::Better : Change::Same;
    } else {
      // From zero no percentage exists: any move counts.
      m.change = worse > 0 ? Change::Worse : worse < 0 ? Change::Better : Change::Same;
    }
    c.metrics.push_back(m);
  }
  return c;
}

std::string format_value(std::optional<double> v, const std::string& unit) {
  if (!v) return "-";
  char buf[64];
  if (unit == "ms") std::snprintf(buf, sizeof buf, "%.2fms", *v);
  else if (unit == "/s") std::snprintf(buf, sizeof buf, "%.1f/s", *v);
  else std::snprintf(buf, sizeof buf, "%.0f", *v);
  return buf;
}

Result<double> parse_tolerance(const std::string& text) {
  std::string t = text;
  if (!t.empty() && t.back() == '%') t.pop_back();
  char* end = nullptr;
  double v = t.empty() ? 0 : std::strtod(t.c_str(), &end);
  if (t.empty() || end != t.c_str() + t.size() || !std::isfinite(v) || v < 0)
    return usage_error("bad tolerance '" + text + "' (use a percentage: 10%, 2.5%)");
  return v;
}

std::string format_comparison(const RunComparison& c, const std::string& base_label, const std::string& now_label) {
  std::ostringstream o;
  char buf[512];
  o << "base: " << base_label << "\nnew:  " << now_label << "\n\n";
  std::snprintf(buf, sizeof buf, "  %-24s %14s %14s %9s\n", "metric", "base", "new", "change");
  o << buf;
  for (const auto& m : c.metrics) {
    std::snprintf(buf, sizeof buf, "  %-24s %14s %14s %9s", m.metric.name.c_str(), format_value(m.base, m.metric.unit).c_str(),
                  format_value(m.now, m.metric.unit).c_str(), format_change(m).c_str());
    o << buf;
    if (*change_word(m.change)) o << "  " << change_word(m.change);
    o << "\n";
  }
  std::snprintf(buf, sizeof buf, "%.4g%%", c.tolerance_pct);
  if (c.regressed())
    o << "\nREGRESSED: " << c.regressions() << " key metric(s) worse by more than " << buf << "  (exit 1)\n";
  else
    o << "\nOK: no key metric worse by more than " << buf << "  (exit 0)\n";
  return o.str();
}

}  // namespace kapture
