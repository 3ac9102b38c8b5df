#include "report/MarkdownSummary.h"

#include <cstdio>
#include <sstream>

#include "report/JsonPath.h"
#include "report/RunComparison.h"
#include "slo/Verdict.h"

namespace kapture {
namespace {

// Text kept inside one table cell: no line breaks, pipes escaped, and (for
// prose, not code spans) no HTML.
std::string in_cell(const std::string& text, bool html_escape) {
  std::string out;
  for (char ch : text) {
    if (ch == '|') out += "\\|";
    else if (ch == '<' && html_escape) out += "&lt;";
    else if (ch == '\n' || ch == '\r') out += ' ';
    else out += ch;
  }
  return out;
}

std::string cell(const std::string& text) { return in_cell(text, true); }

// Code in a table cell (GFM unescapes \| inside code spans in tables).
std::string code(const std::string& text) {
  std::string body = in_cell(text, false);
  if (body.find('`') == std::string::npos) return "`" + body + "`";
  return "`` " + body + " ``";
}

std::string fmt(const char* format, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, format, v);
  return buf;
}

std::string count(const nlohmann::json& j, const std::vector<std::string>& path) { return format_value(json_number(j, path), ""); }

std::string ms(const nlohmann::json& j, const std::vector<std::string>& path) { return format_value(json_number(j, path), "ms"); }

void expectations(std::ostringstream& o, const nlohmann::json& s) {
  const nlohmann::json* list = json_at(s, {"expectations"});
  o << "## Expectations\n\n";
  if (!list || !list->is_array() || list->empty()) {
    o << "The scenario has no expectations.\n\n";
    return;
  }
  o << "| result | expectation | measured | threshold |\n|---|---|---:|---:|\n";
  for (const auto& e : *list) {
    bool lua = json_bool(e, {"lua"});
    o << "| " << (json_bool(e, {"pass"}) ? "PASS" : "**FAIL**") << " | " << code(json_string(e, {"expect"})) << " | "
      << cell(json_string(e, {"measured_text"})) << " | " << cell(lua ? "ok" : json_string(e, {"threshold_text"})) << " |\n";
  }
  o << "\n";
}

void key_metrics(std::ostringstream& o, const nlohmann::json& s) {
  const nlohmann::json& run = json_at(s, {"run"}) ? *json_at(s, {"run"}) : s;
  o << "## Key metrics\n\n| metric | value |\n|---|---|\n";
  if (auto acked = timeline_throughput(s)) o << "| throughput (acknowledged, over the timeline) | " << format_value(acked, "/s") << " |\n";
  o << "| produce sent / acked / failed | " << count(run, {"counters", "produce.sent"}) << " / " << count(run, {"counters", "produce.acked"})
    << " / " << count(run, {"counters", "produce.failed"}) << " |\n";
  if (json_number(run, {"latency", "count"}).value_or(0) > 0)
    o << "| produce.latency p50 / p99 / max | " << ms(run, {"latency", "p50_ms"}) << " / " << ms(run, {"latency", "p99_ms"}) << " / "
      << ms(run, {"latency", "max_ms"}) << " |\n";
  if (json_at(run, {"histograms", "etl.latency"}))
    o << "| etl.latency p50 / p99 / max | " << ms(run, {"histograms", "etl.latency", "p50_ms"}) << " / "
      << ms(run, {"histograms", "etl.latency", "p99_ms"}) << " / " << ms(run, {"histograms", "etl.latency", "max_ms"}) << " |\n";
  o << "| errors: produce failed / client errors / dropped | " << count(run, {"counters", "produce.failed"}) << " / "
    << count(run, {"counters", "produce.client_errors"}) << " / " << count(run, {"counters", "produce.dropped"}) << " |\n";
  if (json_at(s, {"etl"}))
    o << "| ETL: written / sink errors / dead letters | " << count(run, {"counters", "etl.written"}) << " / "
      << count(run, {"counters", "etl.sink_errors"}) << " / " << count(run, {"counters", "etl.dead_letter"}) << " |\n";
  if (const nlohmann::json* l = json_at(s, {"ledger"})) {
    if (json_bool(*l, {"checked"}))
      o << "| ledger (against " << cell(json_string(*l, {"verified_against"})) << ") | " << count(*l, {"acked"}) << " acknowledged, "
        << count(*l, {"rows"}) << " found: " << count(*l, {"lost"}) << " lost, " << count(*l, {"duplicates"}) << " duplicated, "
        << count(*l, {"unexpected"}) << " unexpected, " << count(*l, {"aggregate_mismatches"}) << " aggregate mismatches |\n";
    else
      o << "| ledger | not checked: " << cell(json_string(*l, {"skipped_because"})) << " |\n";
  }
  o << "\n";
}

void phases(std::ostringstream& o, const nlohmann::json& s) {
  const nlohmann::json* list = json_at(s, {"phases"});
  if (!list || !list->is_array() || list->empty()) return;
  o << "## Phases\n\n| phase | start | end | ended by | sent | acked/s | p50 | p99 |\n|---|---:|---:|---|---:|---:|---:|---:|\n";
  for (const auto& p : *list) {
    o << "| " << cell(json_string(p, {"name"})) << " | " << fmt("%.1fs", json_number(p, {"start_s"}).value_or(0)) << " | "
      << fmt("%.1fs", json_number(p, {"end_s"}).value_or(0)) << " | ";
    const nlohmann::json* m = json_at(p, {"metrics"});
    if (!m) {
      o << "did not run | | | | |\n";
      continue;
    }
    auto rate = json_number(*m, {"rates_per_s", "acked"});
    o << cell(json_string(p, {"ended_by"})) << " | " << count(*m, {"counters", "produce.sent"}) << " | " << (rate ? fmt("%.1f", *rate) : "-")
      << " | " << ms(*m, {"latency", "p50_ms"}) << " | " << ms(*m, {"latency", "p99_ms"}) << " |\n";
  }
  o << "\n";
}

void chaos(std::ostringstream& o, const nlohmann::json& s) {
  const nlohmann::json* list = json_at(s, {"chaos"});
  size_t events = list && list->is_array() ? list->size() : 0;
  o << "## Chaos and scale\n\n" << count(s, {"run", "counters", "chaos.injected"}) << " chaos injection(s), "
    << count(s, {"run", "counters", "chaos.undone"}) << " undone; " << count(s, {"run", "counters", "scale.steps"}) << " scale step(s); "
    << events << " event(s) in all.\n";
  if (events) o << "\n";
  for (size_t i = 0; list && i < events; ++i) {
    const auto& c = (*list)[i];
    o << "- +" << fmt("%.1fs", json_number(c, {"start_s"}).value_or(0));
    if (auto end = json_number(c, {"end_s"})) o << " to +" << fmt("%.1fs", *end);
    o << " (" << cell(json_string(c, {"phase"})) << "): " << cell(json_string(c, {"description"}));
    std::string error = json_string(c, {"error"});
    if (!error.empty()) o << " **error:** " << cell(error);
    o << "\n";
  }
  o << "\n";
}

void faults(std::ostringstream& o, const nlohmann::json& s) {
  const nlohmann::json* list = json_at(s, {"faults"});
  if (!list || !list->is_array() || list->empty()) return;
  o << "## Dependency outages\n\nAs the engine's clients saw them (injected chaos included).\n\n";
  for (const auto& f : *list) {
    o << "- +" << fmt("%.1fs", json_number(f, {"from_s"}).value_or(0));
    if (auto to = json_number(f, {"to_s"})) o << " to +" << fmt("%.1fs", *to);
    else o << " to the end";
    o << ": " << cell(json_string(f, {"dependency"})) << " " << code(json_string(f, {"endpoint"})) << " unreachable ("
      << count(f, {"failures"}) << " failed call(s)): " << cell(json_string(f, {"error"})) << "\n";
  }
  o << "\n";
}

// A distributed run: who sent the load, and how each worker ended.
void workers(std::ostringstream& o, const nlohmann::json& s) {
  const nlohmann::json* w = json_at(s, {"workers"});
  if (!w || !w->is_object()) return;
  o << "## Workers\n\n" << count(*w, {"count"}) << " workers sent the kafka-producer load over " << code(json_string(*w, {"topic"}))
    << "; every metric above is merged from them.\n\n| worker | ready | done | seconds reported | ended |\n|---|---|---|---|---|\n";
  for (const auto& x : w->value("workers", nlohmann::json::array())) {
    o << "| " << count(x, {"index"}) << " | " << (x.value("ready", false) ? "yes" : "no") << " | " << (x.value("done", false) ? "yes" : "no")
      << " | " << count(x, {"seconds_reported"}) << " | " << cell(x.value("failed", x.value("ended", std::string()))) << " |\n";
  }
  o << "\n";
}

// Right under the verdict: what made the run less safe than by default
// (TLS verification off, Lua let out of its sandbox).
void warnings(std::ostringstream& o, const nlohmann::json& s) {
  const nlohmann::json* list = json_at(s, {"warnings"});
  if (!list || !list->is_array() || list->empty()) return;
  o << "## Warnings\n\n";
  for (const auto& w : *list) o << "- **" << cell(json_string(w, {"kind"})) << "**: " << cell(json_string(w, {"message"})) << "\n";
  o << "\n";
}

}  // namespace

std::string summary_markdown(const nlohmann::json& s) {
  std::ostringstream o;
  std::string name = json_string(s, {"scenario", "name"}, "scenario");
  bool passed = json_bool(s, {"verdict", "passed"});
  int exit_code = static_cast<int>(json_number(s, {"verdict", "exit_code"}).value_or(kExitUsage));
  o << "# " << (passed ? "PASS" : "FAIL") << ": " << cell(name) << "\n\n";
  o << "**" << cell(json_string(s, {"verdict", "headline"})) << "** (exit " << exit_code << ")\n\n";
  o << "| | |\n|---|---|\n";
  o << "| scenario | " << code(name) << " (" << cell(json_string(s, {"scenario", "file"})) << ") |\n";
  o << "| target | " << cell(json_string(s, {"target"})) << ", seed " << (json_at(s, {"seed"}) ? json_at(s, {"seed"})->dump() : "-") << " |\n";
  o << "| started | " << cell(json_string(s, {"started"})) << " |\n";
  o << "| duration | " << fmt("%.1fs", json_number(s, {"duration_s"}).value_or(0)) << " |\n";
  o << "| engine | kapture-engine " << cell(json_string(s, {"engine_version"})) << " |\n";
  std::string error = json_string(s, {"verdict", "error"});
  if (!error.empty()) o << "| error | " << cell(error) << " |\n";
  o << "\n";
  warnings(o, s);
  expectations(o, s);
  key_metrics(o, s);
  phases(o, s);
  chaos(o, s);
  faults(o, s);
  workers(o, s);
  return o.str();
}

}  // namespace kapture
