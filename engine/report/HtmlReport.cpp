#include "report/HtmlReport.h"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>

#include "report/JsonPath.h"
#include "report/JunitReport.h"  // xml_escape: the same five characters matter in HTML
#include "report/RunReport.h"    // write_text_file
#include "report/SummaryFile.h"

namespace kapture {
namespace {

// ---- the data: timeseries.csv columns picked into chart series ----

struct SeriesSpec {
  const char* label;
  const char* column;  // in timeseries.csv
  double scale;        // bytes to MB and the like
  bool etl_only;       // the ETL columns are 0-filled for runs without an ETL: drawn only when summary.json has `etl`
};

struct ChartSpec {
  const char* id;  // data-chart="..." on the <svg>, stable for tests and styling
  const char* title;
  const char* unit;
  std::vector<SeriesSpec> series;
};

const std::vector<ChartSpec>& chart_specs() {
  static const std::vector<ChartSpec> specs = {
      {"throughput", "Throughput", "records/s",
       {{"intended", "intended", 1, false}, {"sent", "sent", 1, false}, {"acked", "acked", 1, false},
        {"ETL written", "etl_written", 1, true}}},
      {"latency", "Latency", "ms",
       {{"p50", "latency_p50_ms", 1, false}, {"p99", "latency_p99_ms", 1, false}, {"max", "latency_max_ms", 1, false},
        {"ETL p99", "etl_latency_p99_ms", 1, true}}},
      {"errors", "Errors", "per second",
       {{"failed", "failed", 1, false}, {"queue full", "queue_full", 1, false}, {"ETL sink errors", "etl_sink_errors", 1, true},
        {"dead letters", "etl_dead_letters", 1, true}}},
      {"lag", "Lag", "records", {{"in flight", "in_flight", 1, false}, {"ETL consumer lag", "etl_lag", 1, true}}},
      {"cpu", "Engine CPU", "%", {{"CPU", "engine_cpu_percent", 1, false}}},
      {"memory", "Engine memory", "MB", {{"RSS", "engine_rss_bytes", 1.0 / (1024 * 1024), false}}},
      {"cluster", "Kafka cluster", "count",
       {{"live brokers", "kafka_brokers", 1, false}, {"under-replicated partitions", "kafka_under_replicated", 1, false},
        {"offline partitions", "kafka_offline_partitions", 1, false}}},
  };
  return specs;
}

std::vector<std::string> split_csv_line(const std::string& line) {
  // timeseries.csv has no quoted fields: phase names cannot hold commas.
  std::vector<std::string> out;
  std::string field;
  std::istringstream in(line);
  while (std::getline(in, field, ',')) out.push_back(field);
  if (!line.empty() && line.back() == ',') out.emplace_back();
  return out;
}

struct Table {
  std::map<std::string, size_t> column;  // name -> index
  std::vector<std::vector<std::string>> rows;
};

Table parse_csv(const std::string& text) {
  Table t;
  std::istringstream in(text);
  std::string line;
  if (!std::getline(in, line)) return t;
  auto header = split_csv_line(line);
  for (size_t i = 0; i < header.size(); ++i) t.column[header[i]] = i;
  while (std::getline(in, line)) {
    auto row = split_csv_line(line);
    if (row.size() == header.size()) t.rows.push_back(std::move(row));  // a torn last line is skipped
  }
  return t;
}

// A cell as a JSON number, null when empty or not a number (no reading that second).
nlohmann::json cell_value(const std::string& text, double scale) {
  double v = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, v);
  if (text.empty() || ec != std::errc() || ptr != end || !std::isfinite(v)) return nullptr;
  if (scale != 1) v = std::round(v * scale * 10) / 10;
  // Whole numbers as integers keep the embedded data short.
  if (v == std::floor(v) && std::fabs(v) < 1e15) return static_cast<int64_t>(v);
  return v;
}

// "12.3s"
std::string seconds_text(double s) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1fs", s);
  return buf;
}

// Chaos and scale steps from events.jsonl, as the markers' tooltips read.
nlohmann::json markers(const std::vector<nlohmann::json>& events) {
  static const std::map<std::string, std::string> kinds = {
      {"chaos_inject", "chaos injected"}, {"chaos_undo", "chaos undone"}, {"chaos_failed", "chaos failed"}, {"scale", "scale step"}};
  nlohmann::json out = nlohmann::json::array();
  for (const auto& e : events) {
    auto kind = kinds.find(json_string(e, {"type"}));
    auto t = json_number(e, {"t"});
    if (kind == kinds.end() || !t) continue;
    // "+4.0s chaos injected broker-down: broker 1 down; leadership of 4 partitions moved [phase chaos]"
    std::string label = "+" + seconds_text(*t) + " " + kind->second;
    if (std::string verb = json_string(e, {"verb"}); !verb.empty()) label += " " + verb;
    if (std::string what = json_string(e, {"description"}); !what.empty()) label += ": " + what;
    if (std::string err = json_string(e, {"error"}); !err.empty()) label += " (error: " + err + ")";
    if (std::string phase = json_string(e, {"phase"}); !phase.empty()) label += " [phase " + phase + "]";
    out.push_back({{"t", *t}, {"kind", kind->first}, {"label", label}});
  }
  return out;
}

struct ChartData {
  nlohmann::json data;                                  // the embedded JSON the script draws from
  std::vector<std::pair<const ChartSpec*, bool>> shown;  // every chart, and whether it has data
};

ChartData chart_data(const nlohmann::json& summary, const std::string& csv, const std::vector<nlohmann::json>& events) {
  ChartData out;
  Table table = parse_csv(csv);
  if (!table.column.count("second")) table.rows.clear();  // nothing to place on the time axis
  bool has_etl = json_at(summary, {"etl"}) != nullptr;
  nlohmann::json& d = out.data;
  d["x"] = nlohmann::json::array();
  double x_max = 1;
  for (const auto& row : table.rows) {
    nlohmann::json x = cell_value(row[table.column.at("second")], 1);
    d["x"].push_back(x);
    if (x.is_number()) x_max = std::max(x_max, x.get<double>() + 1);
  }
  d["phases"] = nlohmann::json::array();
  if (const nlohmann::json* phases = json_at(summary, {"phases"}); phases && phases->is_array())
    for (const auto& p : *phases) {
      double start = json_number(p, {"start_s"}).value_or(0), end = json_number(p, {"end_s"}).value_or(0);
      if (end <= start) continue;  // never ran
      d["phases"].push_back({{"name", json_string(p, {"name"})}, {"start", start}, {"end", end}});
      x_max = std::max(x_max, end);
    }
  d["markers"] = markers(events);
  for (const auto& m : d["markers"]) x_max = std::max(x_max, m["t"].get<double>());
  d["x_max"] = std::ceil(x_max);
  d["charts"] = nlohmann::json::array();
  for (const auto& spec : chart_specs()) {
    nlohmann::json chart = {{"id", spec.id}, {"title", spec.title}, {"unit", spec.unit}, {"series", nlohmann::json::array()}};
    for (const auto& s : spec.series) {
      auto col = table.column.find(s.column);
      if (col == table.column.end() || (s.etl_only && !has_etl)) continue;
      nlohmann::json values = nlohmann::json::array();
      bool any = false;
      for (const auto& row : table.rows) {
        values.push_back(cell_value(row[col->second], s.scale));
        any = any || values.back().is_number();
      }
      if (any) chart["series"].push_back({{"label", s.label}, {"values", std::move(values)}});
    }
    bool has_data = !chart["series"].empty();
    out.shown.emplace_back(&spec, has_data);
    if (has_data) d["charts"].push_back(std::move(chart));
  }
  return out;
}

// ---- the page ----

std::string esc(const std::string& text) { return xml_escape(text); }

// A table cell's time: "12.3s", "-" when absent.
std::string seconds_cell(const nlohmann::json& j, const char* key) {
  auto v = json_number(j, {key});
  return v ? seconds_text(*v) : "-";
}

std::string number_text(const nlohmann::json& j, const std::vector<std::string>& path) {
  auto v = json_number(j, path);
  if (!v) return "-";
  char buf[48];
  std::snprintf(buf, sizeof buf, "%.15g", *v);
  return buf;
}

const char* kStyle = R"CSS(
body { font: 14px/1.4 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0 auto; max-width: 1000px; padding: 16px; color: #1d2330; }
header.verdict { border-left: 8px solid; padding: 8px 16px; margin-bottom: 16px; }
header.pass { border-color: #2e9d4d; background: #eef8f0; }
header.fail { border-color: #c8322c; background: #fcefee; }
h1 { margin: 0; font-size: 22px; } h2 { margin-top: 28px; font-size: 18px; } h3 { margin: 0 0 4px; font-size: 15px; }
h3 small { font-weight: normal; color: #5c6577; }
table { border-collapse: collapse; margin: 8px 0; }
th, td { text-align: left; padding: 3px 10px; border-bottom: 1px solid #dde2ea; vertical-align: top; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
tr.pass td.result { color: #2e9d4d; font-weight: bold; } tr.fail td.result, tr.no-data td.result { color: #c8322c; font-weight: bold; }
code { font: 13px ui-monospace, monospace; }
.note { color: #5c6577; font-style: italic; }
.error { color: #c8322c; }
.warning { color: #9a5b00; }
figure { margin: 12px 0 20px; }
svg.chart { width: 100%; height: auto; display: block; }
svg.chart text { font-size: 11px; fill: #3a4150; }
svg.chart .phase-name { font-size: 11px; fill: #5c6577; }
svg.chart .axis { stroke: #3a4150; } svg.chart .grid { stroke: #dde2ea; }
svg.chart .series { fill: none; stroke-width: 1.6; stroke-linejoin: round; stroke-linecap: round; }
svg.chart .marker line { stroke-width: 1.5; stroke-dasharray: 4 3; }
svg.chart .marker line.hit { stroke: transparent; stroke-width: 9; stroke-dasharray: none; }
svg.chart .chaos_inject line { stroke: #c8322c; } svg.chart .chaos_undo line { stroke: #2e9d4d; }
svg.chart .chaos_failed line { stroke: #7a0b07; } svg.chart .scale line { stroke: #2456b3; }
.key span { display: inline-block; margin-right: 14px; } .key i { display: inline-block; width: 14px; border-top: 2px dashed; margin-right: 4px; vertical-align: middle; }
)CSS";

// Draws every chart of the embedded data into its <svg class="chart"> and
// marks <body data-rendered="ok"> when all were drawn, so a headless browser
// can check the page really renders.
const char* kScript = R"JS(
(function () {
  'use strict';
  var data = JSON.parse(document.getElementById('report-data').textContent);
  var COLORS = ['#2456b3', '#e07b00', '#2e9d4d', '#c8322c', '#7b4fb3', '#7a5a3a'];
  var W = 960, H = 300, L = 64, R = 16, T = 40, B = 40, PH = H - T - B;

  // 1, 2 or 5 times a power of ten: steps people read easily.
  function niceStep(raw) {
    if (!(raw > 0)) return 1;
    var p = Math.pow(10, Math.floor(Math.log10(raw))), f = raw / p;
    return p * (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10);
  }
  function fmt(v) {
    var a = Math.abs(v);
    if (a >= 1e6) return +(v / 1e6).toFixed(2) + 'M';
    if (a >= 1e4) return +(v / 1e3).toFixed(1) + 'k';
    return String(+v.toFixed(2));
  }

  function draw(svg, chart) {
    // The static <svg> is in the SVG namespace already: new elements take it from there.
    var ns = svg.namespaceURI;
    function el(parent, tag, attrs, text) {
      var e = document.createElementNS(ns, tag);
      for (var k in attrs) e.setAttribute(k, attrs[k]);
      if (text !== undefined) e.textContent = text;
      parent.appendChild(e);
      return e;
    }
    svg.setAttribute('viewBox', '0 0 ' + W + ' ' + H);
    var ymax = 0;
    chart.series.forEach(function (s) {
      s.values.forEach(function (v) { if (v !== null && v > ymax) ymax = v; });
    });
    // 5% headroom keeps a line at the maximum off the frame.
    var ystep = niceStep(ymax / 4), ytop = Math.max(ystep, Math.ceil(ymax * 1.05 / ystep) * ystep);
    var xstep = Math.max(1, niceStep(data.x_max / 12));
    function sx(t) { return L + t / data.x_max * (W - L - R); }
    function sy(v) { return H - B - v / ytop * PH; }

    data.phases.forEach(function (p, i) {
      var band = el(svg, 'rect', {'class': 'phase', 'data-phase': p.name, x: sx(p.start), y: T,
                                  width: Math.max(0, sx(p.end) - sx(p.start)), height: PH, fill: i % 2 ? '#e6ecf6' : '#f3f6fb'});
      el(band, 'title', {}, p.name + ': ' + p.start + 's to ' + p.end + 's');
      el(svg, 'text', {'class': 'phase-name', x: sx(p.start) + 4, y: T + 12}, p.name);
    });
    for (var v = 0; v <= ytop + ystep / 2; v += ystep) {
      el(svg, 'line', {'class': 'grid', x1: L, x2: W - R, y1: sy(v), y2: sy(v)});
      el(svg, 'text', {'class': 'tick', x: L - 6, y: sy(v) + 4, 'text-anchor': 'end'}, fmt(v));
    }
    for (var t = 0; t <= data.x_max; t += xstep)
      el(svg, 'text', {'class': 'tick', x: sx(t), y: H - B + 16, 'text-anchor': 'middle'}, fmt(t) + 's');
    el(svg, 'line', {'class': 'axis', x1: L, x2: L, y1: T, y2: H - B});
    el(svg, 'line', {'class': 'axis', x1: L, x2: W - R, y1: H - B, y2: H - B});
    el(svg, 'text', {'class': 'axis-title', x: (L + W - R) / 2, y: H - 6, 'text-anchor': 'middle'}, 'seconds since the run started');
    el(svg, 'text', {'class': 'axis-title', x: 14, y: T + PH / 2, 'text-anchor': 'middle',
                     transform: 'rotate(-90 14 ' + (T + PH / 2) + ')'}, chart.unit);

    var lx = L;
    chart.series.forEach(function (s, i) {
      var color = COLORS[i % COLORS.length], pts = [];
      // A null (no reading that second) breaks the line; a lone point is drawn as a dot.
      function flush() {
        if (pts.length === 1) pts.push(pts[0]);
        if (pts.length) el(svg, 'polyline', {'class': 'series', 'data-series': s.label, points: pts.join(' '), stroke: color});
        pts = [];
      }
      // The value of second k counts [k, k+1): drawn in its middle.
      s.values.forEach(function (v, k) {
        if (v === null || data.x[k] === null) flush();
        else pts.push(sx(data.x[k] + 0.5).toFixed(1) + ',' + sy(v).toFixed(1));
      });
      flush();
      el(svg, 'rect', {'class': 'swatch', x: lx, y: 12, width: 14, height: 4, fill: color});
      el(svg, 'text', {'class': 'legend', x: lx + 18, y: 18}, s.label);
      lx += 36 + 6.5 * s.label.length;
    });
    data.markers.forEach(function (m) {
      var g = el(svg, 'g', {'class': 'marker ' + m.kind});
      el(g, 'line', {x1: sx(m.t), x2: sx(m.t), y1: T, y2: H - B});
      el(g, 'line', {'class': 'hit', x1: sx(m.t), x2: sx(m.t), y1: T, y2: H - B});
      el(g, 'title', {}, m.label);
    });
  }

  var problems = [];
  data.charts.forEach(function (c) {
    var svg = document.querySelector('svg.chart[data-chart="' + c.id + '"]');
    try {
      if (!svg) throw new Error('no <svg> for it');
      draw(svg, c);
      svg.setAttribute('data-drawn', 'yes');
    } catch (e) {
      problems.push(c.id + ': ' + e.message);
    }
  });
  document.body.dataset.rendered = problems.length ? 'error' : 'ok';
  if (problems.length) document.getElementById('render-problems').textContent = 'Charts not drawn: ' + problems.join('; ');
})();
)JS";

void header(std::ostringstream& o, const nlohmann::json& s) {
  bool passed = json_bool(s, {"verdict", "passed"});
  std::string name = json_string(s, {"scenario", "name"});
  o << "<header class=\"verdict " << (passed ? "pass" : "fail") << "\">\n<h1>" << (passed ? "PASS" : "FAIL") << ": " << esc(name)
    << "</h1>\n<p class=\"headline\">" << esc(json_string(s, {"verdict", "headline"})) << " (exit " << number_text(s, {"verdict", "exit_code"})
    << ")</p>\n";
  if (std::string err = json_string(s, {"verdict", "error"}); !err.empty()) o << "<p class=\"error\">" << esc(err) << "</p>\n";
  // TLS verification off, Lua out of its sandbox: next to the verdict.
  if (const nlohmann::json* list = json_at(s, {"warnings"}); list && list->is_array())
    for (const auto& w : *list) o << "<p class=\"warning\">warning: " << esc(json_string(w, {"message"})) << "</p>\n";
  o << "</header>\n<table class=\"facts\">\n";
  auto fact = [&](const char* k, const std::string& v) {
    if (!v.empty()) o << "<tr><th>" << k << "</th><td>" << esc(v) << "</td></tr>\n";
  };
  fact("scenario", name);
  fact("file", json_string(s, {"scenario", "file"}));
  fact("description", json_string(s, {"scenario", "description"}));
  fact("target", json_string(s, {"target"}));
  const nlohmann::json* seed = json_at(s, {"seed"});
  fact("seed", seed ? seed->dump() : "");  // a 64-bit seed does not survive a double
  fact("started", json_string(s, {"started"}));
  if (auto secs = json_number(s, {"duration_s"})) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1fs", *secs);
    fact("duration", buf);
  }
  fact("engine", json_string(s, {"engine_version"}));
  o << "</table>\n";
}

void expectations_table(std::ostringstream& o, const nlohmann::json& s) {
  o << "<h2>Expectations</h2>\n";
  const nlohmann::json* list = json_at(s, {"expectations"});
  if (!list || !list->is_array() || list->empty()) {
    o << "<p class=\"note\">The scenario has no expectations.</p>\n";
    return;
  }
  o << "<table id=\"expectations\">\n<thead><tr><th>result</th><th>expectation</th><th class=\"num\">measured</th><th "
       "class=\"num\">threshold</th></tr></thead>\n<tbody>\n";
  for (const auto& e : *list) {
    bool lua = json_bool(e, {"lua"});
    bool no_data = !lua && expectation_no_data(e);
    const char* result = json_bool(e, {"pass"}) ? "pass" : no_data ? "no-data" : "fail";
    o << "<tr class=\"" << result << "\"><td class=\"result\">" << (result[0] == 'p' ? "PASS" : result[0] == 'f' ? "FAIL" : "NO DATA")
      << "</td><td><code>" << esc(json_string(e, {"expect"})) << "</code>"
      << (json_string(e, {"note"}).empty() ? "" : "<div class=\"note\">" + esc(json_string(e, {"note"})) + "</div>")
      << "</td><td class=\"num\">" << esc(json_string(e, {"measured_text"}))
      << "</td><td class=\"num\">" << esc(json_string(e, {"threshold_text"})) << "</td></tr>\n";
  }
  o << "</tbody>\n</table>\n";
}

void rate_checks(std::ostringstream& o, const nlohmann::json& s) {
  const nlohmann::json* phases = json_at(s, {"phases"});
  if (!phases || !phases->is_array()) return;
  std::ostringstream rows;
  for (const auto& p : *phases) {
    const nlohmann::json* rc = json_at(p, {"rate_check"});
    if (!rc) continue;
    char pct[32];
    std::snprintf(pct, sizeof pct, "%.2f%%", json_number(*rc, {"achieved_ratio"}).value_or(0) * 100);
    rows << "<tr><td>" << esc(json_string(p, {"name"})) << "</td><td class=\"num\">" << number_text(*rc, {"intended"})
         << "</td><td class=\"num\">" << number_text(*rc, {"sent"}) << "</td><td class=\"num\">" << number_text(*rc, {"dropped"})
         << "</td><td class=\"num\">" << pct << "</td><td>"
         << (json_bool(*rc, {"behind"})          ? "<span class=\"error\">fell behind</span>"
             : json_bool(*rc, {"backpressured"}) ? "the cluster pushed back (client queue full)"
                                                 : "kept the rate")
         << "</td></tr>\n";
  }
  if (rows.str().empty()) return;
  o << "<h2>Rate checks</h2>\n<p class=\"note\">Did the load generator send what the schedule asked for? A phase that dropped more "
       "than 1% measured the generator, not the system.</p>\n<table id=\"rate-checks\">\n<thead><tr><th>phase</th><th "
       "class=\"num\">intended</th><th class=\"num\">sent</th><th class=\"num\">dropped</th><th class=\"num\">achieved</th><th></th></tr></thead>\n<tbody>\n"
    << rows.str() << "</tbody>\n</table>\n";
}

void charts(std::ostringstream& o, const ChartData& cd, bool have_csv) {
  o << "<h2>Over time</h2>\n<p class=\"key\"><span>Shaded bands: phases.</span><span><i style=\"color:#c8322c\"></i>chaos "
       "injected</span><span><i style=\"color:#2e9d4d\"></i>chaos undone</span><span><i style=\"color:#2456b3\"></i>scale "
       "step</span><span>Hover a line for details; one point per second.</span></p>\n";
  if (!have_csv) o << "<p class=\"note\">This run has no timeseries.csv.</p>\n";
  for (const auto& [spec, has_data] : cd.shown) {
    if (!has_data) {
      o << "<p class=\"note\" data-omitted=\"" << spec->id << "\">" << spec->title << ": not measured in this run (no values in timeseries.csv).</p>\n";
      continue;
    }
    o << "<figure>\n<h3>" << spec->title << " <small>" << esc(spec->unit) << "</small></h3>\n<svg class=\"chart\" data-chart=\"" << spec->id
      << "\" role=\"img\" aria-label=\"" << spec->title << " over time\"></svg>\n</figure>\n";
  }
  o << "<p class=\"error\" id=\"render-problems\"></p>\n";
}

void phases_and_steps(std::ostringstream& o, const nlohmann::json& s) {
  if (const nlohmann::json* phases = json_at(s, {"phases"}); phases && phases->is_array() && !phases->empty()) {
    o << "<h2>Phases</h2>\n<table id=\"phases\">\n<thead><tr><th>phase</th><th class=\"num\">start</th><th class=\"num\">end</th><th>ended "
         "by</th></tr></thead>\n<tbody>\n";
    for (const auto& p : *phases)
      o << "<tr><td>" << esc(json_string(p, {"name"})) << "</td><td class=\"num\">" << seconds_cell(p, "start_s") << "</td><td class=\"num\">"
        << seconds_cell(p, "end_s") << "</td><td>" << esc(json_string(p, {"ended_by"})) << "</td></tr>\n";
    o << "</tbody>\n</table>\n";
  }
  const nlohmann::json* chaos = json_at(s, {"chaos"});
  if (!chaos || !chaos->is_array() || chaos->empty()) return;
  o << "<h2>Chaos and scale steps</h2>\n<table id=\"chaos\">\n<thead><tr><th>phase</th><th>step</th><th class=\"num\">start</th><th "
       "class=\"num\">end</th><th>undone</th></tr></thead>\n<tbody>\n";
  for (const auto& c : *chaos) {
    std::string err = json_string(c, {"error"});
    o << "<tr><td>" << esc(json_string(c, {"phase"})) << "</td><td>" << esc(json_string(c, {"description"}))
      << (err.empty() ? "" : " <span class=\"error\">" + esc(err) + "</span>") << "</td><td class=\"num\">" << seconds_cell(c, "start_s")
      << "</td><td class=\"num\">" << seconds_cell(c, "end_s") << "</td><td>" << (json_bool(c, {"undone"}) ? "yes" : "no")
      << "</td></tr>\n";
  }
  o << "</tbody>\n</table>\n";
}

Result<std::string> read_whole_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return runtime_error("cannot read " + path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

std::string json_for_script(const nlohmann::json& j) {
  // Invalid UTF-8 is replaced rather than thrown: a report is always written.
  std::string text = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  std::string out;
  out.reserve(text.size());
  for (char ch : text) {
    if (ch == '<') out += "\\u003c";  // '<' only occurs inside JSON strings, where \u003c means the same
    else out += ch;
  }
  return out;
}

std::string render_html_report(const nlohmann::json& summary, const std::string& timeseries_csv, const std::vector<nlohmann::json>& events) {
  ChartData cd = chart_data(summary, timeseries_csv, events);
  bool passed = json_bool(summary, {"verdict", "passed"});
  std::ostringstream o;
  o << "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
       "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>"
    << (passed ? "PASS" : "FAIL") << ": " << esc(json_string(summary, {"scenario", "name"})) << " - kapture-engine</title>\n<style>"
    << kStyle << "</style>\n</head>\n<body>\n";
  header(o, summary);
  expectations_table(o, summary);
  rate_checks(o, summary);
  charts(o, cd, !timeseries_csv.empty());
  phases_and_steps(o, summary);
  o << "<script type=\"application/json\" id=\"report-data\">" << json_for_script(cd.data) << "</script>\n<script>" << kScript
    << "</script>\n</body>\n</html>\n";
  return o.str();
}

Status write_html_report(const std::string& dir) {
  auto summary = read_summary(dir);
  if (!summary) return summary.error();
  // A run always writes both, but a copied or trimmed directory may lack
  // them: the page then says what it could not draw.
  auto csv = read_whole_file(dir + "/timeseries.csv");
  std::vector<nlohmann::json> events;
  if (auto text = read_whole_file(dir + "/events.jsonl")) {
    std::istringstream lines(*text);
    std::string line;
    while (std::getline(lines, line)) {
      auto j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
      if (j.is_object()) events.push_back(std::move(j));  // a torn last line of a crashed run is skipped
    }
  }
  return write_text_file(dir + "/report.html", render_html_report(summary->summary, csv ? *csv : std::string(), events));
}

}  // namespace kapture
