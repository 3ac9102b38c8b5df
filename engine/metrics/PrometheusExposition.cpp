#include "metrics/PrometheusExposition.h"

#include <charconv>
#include <cmath>
#include <map>

#include "metrics/Histogram.h"
#include "metrics/MetricCatalog.h"

namespace kapture {

namespace {

// Histograms are exposed as summaries: quantiles over the last completed
// seconds are what users graph, and they come straight from our exact
// log-linear histograms. A native Prometheus histogram would need one fixed
// set of `le` buckets for latencies from microseconds to minutes, and its
// quantiles would be interpolated within those coarse buckets (histogram_quantile),
// far less precise than the 0.4% the engine measures to. The cost: summaries
// from several engines cannot be aggregated, which a single run never needs.
constexpr double kQuantiles[] = {0.5, 0.9, 0.99, 0.999};

bool name_char(char c, bool first) {
  bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
  return alpha || (!first && c >= '0' && c <= '9');
}

// Store names use dots; anything else a metric name cannot hold becomes '_'.
std::string metric_name(std::string_view s) {
  std::string out;
  for (char c : s) out += name_char(c, false) || c == ':' ? c : '_';
  return out;
}

std::string label_name(std::string_view s) {
  std::string out;
  for (char c : s) out += name_char(c, out.empty()) ? c : '_';
  return out.empty() ? "_" : out;
}

std::string escape(std::string_view s, bool quotes) {
  std::string out;
  for (char c : s) {
    if (c == '\\') out += "\\\\";
    else if (c == '\n') out += "\\n";
    else if (c == '"' && quotes) out += "\\\"";
    else out += c;
  }
  return out;
}

using Labels = std::vector<std::pair<std::string, std::string>>;

std::string label_text(const Labels& labels) {
  if (labels.empty()) return "";
  std::string out = "{";
  for (const auto& [k, v] : labels) {
    if (out.size() > 1) out += ',';
    out += label_name(k);
    out += "=\"";
    out += escape(v, true);
    out += '"';
  }
  return out + "}";
}

// Whole numbers (counts, most gauges) as integers, anything else as the
// shortest text that reads back as the same double, %g style (0.0001, 1e-05);
// the special values as Prometheus spells them.
std::string number(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  if (v == std::floor(v) && std::fabs(v) < 1e15) return std::to_string(static_cast<int64_t>(v));
  char buf[32];
  auto r = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::general);
  return std::string(buf, r.ptr);
}

struct Family {
  std::string type;
  std::string help;
  std::map<std::string, std::string> lines;  // by label text, so the output is stable
};

// Families by name (the text format wants each one's samples together,
// under one HELP and TYPE); within a family, series by label set, and a
// series' samples (a summary's quantiles, _sum, _count) in the order added.
class Exposition {
 public:
  void add(const std::string& family, const std::string& type, std::string_view help, const Labels& series, double value,
           const std::string& suffix = "", const Labels& extra = {}) {
    Family& f = families_[family];
    if (f.type.empty()) {
      f.type = type;
      f.help = escape(help, false);
    }
    Labels all = series;
    all.insert(all.end(), extra.begin(), extra.end());
    f.lines[label_text(series)] += family + suffix + label_text(all) + " " + number(value) + "\n";
  }
  std::string text() const {
    std::string out;
    for (const auto& [name, f] : families_) {
      out += "# HELP " + name + " " + f.help + "\n";
      out += "# TYPE " + name + " " + f.type + "\n";
      for (const auto& [series, lines] : f.lines) out += lines;
    }
    return out;
  }

 private:
  std::map<std::string, Family> families_;
};

// What a store name becomes: family name, help, labels, and what to divide
// values by for the base unit (dividing keeps 120us as 0.00012 exactly).
struct Naming {
  std::string family;
  std::string help;
  double divisor = 1.0;
  Labels labels;
};

Naming naming(const std::string& store_name, MetricKind kind) {
  SeriesName series = parse_series_name(store_name).value_or(SeriesName{store_name, {}});
  Naming n;
  n.labels = std::move(series.labels);
  n.family = "kapture_" + metric_name(series.metric);
  auto info = find_metric(series.metric);
  n.help = info ? std::string(info->help) : "kapture-engine metric '" + series.metric + "' (not in the engine's catalog)";
  MetricUnit unit = info ? info->unit : MetricUnit::Count;
  if (unit == MetricUnit::Microseconds) {
    n.family += "_seconds";
    n.divisor = 1e6;
  } else if (unit == MetricUnit::Bytes && !n.family.ends_with("_bytes")) {
    n.family += "_bytes";
  }
  if (kind == MetricKind::Counter) n.family += "_total";
  if (kind == MetricKind::Histogram)
    n.help += " (quantiles over the last " + std::to_string(kQuantileWindowSeconds) + " completed seconds; _sum and _count over the run)";
  return n;
}

struct Folded {
  MetricsStore::Totals totals;              // every completed second
  std::map<std::string, Histogram> recent;  // the quantile window
};

// Every completed second folded into run totals. The newest second in the
// store is still being filled (recorders hand a second over when the next
// one begins), so it waits until the timeline is over. The store keeps the
// totals as it goes: a scrape reads them and the last few seconds, never the
// whole run.
Folded fold(const MetricsStore& store, const LiveSnapshot& live) {
  Folded f;
  int64_t last = store.last_second();
  if (last < 0) return f;
  bool over = live.phase_index < 0 && live.elapsed_us > 0;
  int64_t cutoff = over ? last + 1 : last;
  f.totals = store.totals(cutoff);
  for (const auto& [name, count] : f.totals.histogram_counts)
    f.recent[name] = store.histogram(name, SecondWindow{cutoff - kQuantileWindowSeconds, cutoff});
  return f;
}

void add_live(Exposition& e, const LiveSnapshot& live) {
  if (!live.phase.empty())
    e.add("kapture_phase_info", "gauge", "the phase running now (1; no series outside the timeline)", {{"phase", live.phase}}, 1);
  e.add("kapture_phase_index", "gauge", "0-based index of the running phase, -1 outside the timeline", {}, live.phase_index);
  e.add("kapture_elapsed_seconds", "gauge", "time since the timeline started", {}, live.elapsed_us / 1e6);
  e.add("kapture_planned_seconds", "gauge", "the whole timeline as planned (phases with an until condition may end early)", {},
        live.planned_us / 1e6);
  e.add("kapture_phase_elapsed_seconds", "gauge", "time since the running phase started", {}, live.phase_elapsed_us / 1e6);
  e.add("kapture_phase_planned_seconds", "gauge", "the running phase's planned duration", {}, live.phase_planned_us / 1e6);
  for (const auto& [workload, rate] : live.target_rates)
    e.add("kapture_target_rate", "gauge", "the rate the timeline asks of a workload now, records/s (0: idle or as fast as possible)",
          {{"workload", workload}}, rate);
  e.add("kapture_expectations_failing", "gauge", "continuous expectation checks currently violated", {}, live.expectations_failing);
  e.add("kapture_aborted", "gauge", "1 once the run was aborted (interrupt or error)", {}, live.aborted ? 1 : 0);
}

}  // namespace

std::optional<SeriesName> parse_series_name(std::string_view s) {
  size_t brace = s.find('{');
  if (brace == std::string_view::npos) return SeriesName{std::string(s), {}};
  if (brace == 0 || s.back() != '}') return std::nullopt;
  SeriesName out{std::string(s.substr(0, brace)), {}};
  std::string_view body = s.substr(brace + 1, s.size() - brace - 2);
  size_t i = 0;
  auto skip_spaces = [&] {
    while (i < body.size() && body[i] == ' ') ++i;
  };
  // name="value" pairs separated by commas (a trailing one allowed), values
  // with the escapes \\ \" \n, as PromQL writes them.
  while (true) {
    skip_spaces();
    if (i == body.size()) return out;
    size_t start = i;
    while (i < body.size() && name_char(body[i], i == start)) ++i;
    if (i == start) return std::nullopt;
    std::string name(body.substr(start, i - start));
    skip_spaces();
    if (i == body.size() || body[i++] != '=') return std::nullopt;
    skip_spaces();
    if (i == body.size() || body[i++] != '"') return std::nullopt;
    std::string value;
    while (i < body.size() && body[i] != '"') {
      char c = body[i++];
      if (c == '\\') {
        if (i == body.size()) return std::nullopt;
        char esc = body[i++];
        c = esc == 'n' ? '\n' : esc;
      }
      value += c;
    }
    if (i == body.size()) return std::nullopt;  // no closing quote
    ++i;
    out.labels.emplace_back(std::move(name), std::move(value));
    skip_spaces();
    if (i < body.size() && body[i] != ',') return std::nullopt;
    if (i < body.size()) ++i;
  }
}

std::string prometheus_exposition(const MetricsStore& store, const LiveSnapshot& live) {
  Folded f = fold(store, live);
  // Counters of the catalog start at 0 so that rate() sees their first
  // increase (Prometheus' advice for known series); the ledger's only once it
  // was checked, since a 0 there would claim nothing was lost.
  for (const auto& m : metric_catalog())
    if (m.kind == MetricKind::Counter && !m.name.starts_with("ledger.")) f.totals.counters.try_emplace(std::string(m.name), 0);

  Exposition e;
  add_live(e, live);
  for (const auto& [name, v] : f.totals.counters) {
    Naming n = naming(name, MetricKind::Counter);
    e.add(n.family, "counter", n.help, n.labels, static_cast<double>(v) / n.divisor);
  }
  for (const auto& [name, v] : f.totals.gauges) {
    Naming n = naming(name, MetricKind::Gauge);
    e.add(n.family, "gauge", n.help, n.labels, v / n.divisor);
  }
  for (const auto& [name, count] : f.totals.histogram_counts) {
    Naming n = naming(name, MetricKind::Histogram);
    auto recent = f.recent.find(name);
    for (double q : kQuantiles) {
      // No samples in the window: NaN, as Prometheus' client libraries say it.
      double v = recent == f.recent.end() || recent->second.count() == 0
                     ? std::nan("")
                     : static_cast<double>(recent->second.percentile(q * 100)) / n.divisor;
      e.add(n.family, "summary", n.help, n.labels, v, "", {{"quantile", number(q)}});
    }
    e.add(n.family, "summary", n.help, n.labels, f.totals.histogram_sums[name] / n.divisor, "_sum");
    e.add(n.family, "summary", n.help, n.labels, static_cast<double>(count), "_count");
  }
  return e.text();
}

}  // namespace kapture
