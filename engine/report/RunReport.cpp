#include "report/RunReport.h"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

#include "common/Redact.h"
#include "metrics/LoadMetricNames.h"
#include "metrics/MetricCatalog.h"
#include "report/EventLog.h"
#include "report/HtmlReport.h"
#include "report/JunitReport.h"
#include "report/MarkdownSummary.h"

namespace kapture {
namespace {

nlohmann::json latency_json(const Histogram& h) {
  auto ms = [](int64_t us) { return static_cast<double>(us) / 1000.0; };
  return {{"count", h.count()},     {"min_ms", ms(h.min())},          {"mean_ms", h.mean() / 1000.0},
          {"p50_ms", ms(h.percentile(50))}, {"p90_ms", ms(h.percentile(90))}, {"p99_ms", ms(h.percentile(99))},
          {"p99_9_ms", ms(h.percentile(99.9))}, {"max_ms", ms(h.max())}};
}

nlohmann::json window_metrics(const MetricsStore& m, SecondWindow w) {
  nlohmann::json j;
  for (const auto& info : metric_catalog())
    if (info.kind == MetricKind::Counter) j["counters"][std::string(info.name)] = m.counter_sum(std::string(info.name), w);
  // Every other histogram with data, under its own name.
  for (const auto& info : metric_catalog()) {
    if (info.kind != MetricKind::Histogram) continue;
    Histogram h = m.histogram(std::string(info.name), w);
    if (!h.count()) continue;
    if (info.unit == MetricUnit::Microseconds) {
      j["histograms"][std::string(info.name)] = latency_json(h);
    } else {
      j["histograms"][std::string(info.name)] = {{"count", h.count()}, {"min", h.min()}, {"mean", h.mean()}, {"p50", h.percentile(50)},
                                                 {"p99", h.percentile(99)}, {"max", h.max()}};
    }
  }
  for (const auto& info : metric_catalog()) {
    if (info.kind != MetricKind::Gauge) continue;
    auto mx = m.gauge_max(std::string(info.name), w);
    if (mx) j["gauges"][std::string(info.name)] = {{"max", *mx}, {"last", *m.gauge_last(std::string(info.name), w)}};
  }
  j["latency"] = latency_json(m.histogram("produce.latency", w));
  j["send_latency"] = latency_json(m.histogram("produce.send_latency", w));
  j["schedule_lag"] = latency_json(m.histogram("produce.schedule_lag", w));
  double secs = static_cast<double>(w.length());
  if (secs > 0) {
    j["rates_per_s"]["intended"] = static_cast<double>(m.counter_sum("produce.intended", w)) / secs;
    j["rates_per_s"]["sent"] = static_cast<double>(m.counter_sum("produce.sent", w)) / secs;
    j["rates_per_s"]["acked"] = static_cast<double>(m.counter_sum("produce.acked", w)) / secs;
  }
  return j;
}

}  // namespace

nlohmann::json build_summary(const ReportInput& in) {
  const Scenario& s = *in.plan.scenario;
  nlohmann::json j;
  j["schema_version"] = kSummarySchemaVersion;
  j["scenario"] = {{"name", s.name}, {"file", in.scenario_path}, {"description", s.description}};
  j["seed"] = in.plan.seed;
  j["target"] = in.plan.target;
  j["engine_version"] = in.engine_version;
  j["started"] = iso8601_utc_ms(in.run.start_wall_ms);
  j["duration_s"] = static_cast<double>(in.run.end_us) / 1e6;
  j["verdict"] = {{"exit_code", in.verdict.exit_code}, {"headline", in.verdict.headline},
                  {"passed", in.verdict.exit_code == kExitPass}, {"interrupted", in.run.interrupted}};
  if (in.run.error) j["verdict"]["error"] = in.run.error->describe();
  // What weakened the run's security (scenario/SecurityNotes.h); always
  // present, empty when nothing did.
  j["warnings"] = in.security.contains("warnings") ? in.security.at("warnings") : nlohmann::json::array();
  j["lua_opt_ins"] = in.security.contains("lua_opt_ins") ? in.security.at("lua_opt_ins") : nlohmann::json::array();
  auto windows = phase_windows(in.run);
  j["phases"] = nlohmann::json::array();
  for (const auto& p : in.run.phases) {
    nlohmann::json pj;
    pj["name"] = p.name;
    pj["start_s"] = p.start_us / 1e6;
    pj["end_s"] = p.end_us / 1e6;
    pj["ended_by"] = p.ended_by;
    for (const auto& pp : in.plan.phases)
      if (pp.name == p.name)
        for (const auto& [name, l] : pp.loads) pj["load"][name] = describe_load(l);
    if (p.ran()) pj["metrics"] = window_metrics(in.metrics, windows[p.name]);
    for (const auto& rc : in.verdict.rates)
      if (rc.phase == p.name)
        pj["rate_check"] = {{"intended", rc.intended}, {"sent", rc.sent}, {"dropped", rc.dropped}, {"backpressured", rc.backpressured}, {"behind", rc.behind},
                            {"achieved_ratio", rc.intended ? static_cast<double>(rc.sent) / static_cast<double>(rc.intended) : 1.0}};
    j["phases"].push_back(pj);
  }
  j["run"] = window_metrics(in.metrics, run_window(in.run));
  j["chaos"] = nlohmann::json::array();
  for (const auto& i : in.run.injections) {
    nlohmann::json ij = {{"phase", i.phase}, {"verb", i.verb}, {"description", i.description}, {"details", i.details},
                         {"start_s", i.start_us / 1e6}, {"undone", i.end_us >= 0 && i.error.find("undo failed") == std::string::npos}};
    if (i.end_us >= 0) ij["end_s"] = i.end_us / 1e6;
    if (!i.error.empty()) ij["error"] = i.error;
    if (!i.step.empty()) ij["step"] = i.step;
    j["chaos"].push_back(ij);
  }
  for (const auto& b : in.run.benchmarks) {
    nlohmann::json bj = {{"phase", b.phase}, {"workload", b.workload}, {"stopped_because", b.stopped_because}, {"steps", nlohmann::json::array()}};
    for (const auto& st : b.steps)
      bj["steps"].push_back({{"target_per_s", st.target}, {"threads", st.threads}, {"achieved_per_s", st.achieved}, {"from_s", st.from_s}, {"to_s", st.to_s},
                             {"p50_ms", st.p50_us / 1000}, {"p99_ms", st.p99_us / 1000}, {"failed", st.failed}, {"broken", st.broken}});
    if (b.knee >= 0) {
      const BenchmarkStep& k = b.steps[static_cast<size_t>(b.knee)];
      bj["knee"] = {{"target_per_s", k.target}, {"threads", k.threads}, {"achieved_per_s", k.achieved}, {"p99_ms", k.p99_us / 1000}};
    } else {
      bj["knee"] = nullptr;
    }
    j["benchmarks"].push_back(bj);
  }
  if (in.ledger) {
    const LedgerReport& l = *in.ledger;
    j["ledger"] = {{"checked", l.checked},       {"verified_against", l.source}, {"acked", l.acked},         {"failed", l.failed},
                   {"rows", l.rows},             {"lost", l.lost},           {"duplicates", l.duplicates},
                   {"unexpected", l.unexpected}, {"failed_but_present", l.failed_but_present},
                   {"aggregate_mismatches", l.aggregate_mismatches},
                   {"lost_ids", l.lost_ids},     {"duplicate_ids", l.duplicate_ids}, {"unexpected_ids", l.unexpected_ids},
                   {"mismatches", l.mismatches}};
    if (!l.checked) j["ledger"]["skipped_because"] = l.skipped_because;
  }
  if (!in.etl.is_null()) j["etl"] = in.etl;
  if (!in.cluster.is_null()) j["cluster"] = in.cluster;
  j["faults"] = in.faults.is_array() ? in.faults : nlohmann::json::array();
  if (in.workers.is_object()) j["workers"] = in.workers;
  if (in.dead_letters && !in.dead_letters->empty()) {
    for (const auto& d : *in.dead_letters)
      j["dead_letters"].push_back({{"topic", d.topic}, {"partition", d.partition}, {"offset", d.offset}, {"reason", d.reason}});
  }
  j["expectations"] = nlohmann::json::array();
  for (const auto& e : in.verdict.expectations) {
    nlohmann::json ej = {{"expect", e.text}, {"pass", e.pass}, {"line", e.where.line}};
    if (e.abort) ej["abort"] = true;
    if (e.prometheus) ej["prometheus"] = true;
    if (!e.lua && !e.message.empty()) ej["note"] = e.message;
    if (e.lua) {
      ej["lua"] = true;
      ej["measured_text"] = e.message;
      ej["threshold_text"] = "ok";
      j["expectations"].push_back(ej);
      continue;
    }
    if (e.no_data) ej["measured"] = nullptr;
    else ej["measured"] = e.measured;
    ej["measured_text"] = e.no_data ? "no data" : format_slo_value(e.measured, e.dim);
    ej["threshold"] = e.threshold;
    ej["threshold_text"] = e.cmp + " " + format_slo_value(e.threshold, e.dim);
    ej["unit"] = e.dim == SloDimension::Time ? "us" : e.dim == SloDimension::Rate ? "per_s" : e.dim == SloDimension::Bytes ? "bytes" : "";
    j["expectations"].push_back(ej);
  }
  return j;
}

// Written to PATH.tmp, synced and renamed over PATH: a full disk or a crash
// leaves the previous file or none, never a truncated one.
Status write_text_file(const std::string& path, const std::string& text) {
  std::string tmp = path + ".tmp";
  auto failed = [&](int err) {
    std::remove(tmp.c_str());
    return runtime_error(path + ": cannot write: " + std::strerror(err));
  };
  std::FILE* f = std::fopen(tmp.c_str(), "w");
  if (!f) return failed(errno);
  bool ok = std::fwrite(text.data(), 1, text.size(), f) == text.size() && std::fflush(f) == 0 && fsync(fileno(f)) == 0;
  int err = errno;
  if (std::fclose(f) != 0 && ok) {
    ok = false;
    err = errno;
  }
  if (!ok) return failed(err);
  if (std::rename(tmp.c_str(), path.c_str()) != 0) return failed(errno);
  return std::nullopt;
}

std::vector<Error> write_results(const std::string& dir, const ReportInput& in) {
  std::vector<Error> errors;
  // Every results file derives from this one or from events.jsonl (redacted
  // as it is written): no secret can reach them.
  nlohmann::json summary = redact_json(build_summary(in));
  auto keep = [&](Status st) {
    if (st) errors.push_back(*st);
  };
  keep(write_text_file(dir + "/summary.json", summary.dump(2) + "\n"));
  keep(write_text_file(dir + "/junit.xml", junit_xml(summary)));
  keep(write_text_file(dir + "/summary.md", summary_markdown(summary)));
  keep(write_timeseries_csv(dir + "/timeseries.csv", in));
  // Last, and only from the files above, so `report DIR` renders the same page.
  keep(write_html_report(dir));
  return errors;
}

Status write_timeseries_csv(const std::string& path, const ReportInput& in) {
  std::ostringstream out;
  out << "second,phase,intended,sent,acked,failed,queue_full,in_flight,latency_p50_ms,latency_p99_ms,latency_max_ms,"
         "send_latency_p50_ms,send_latency_p99_ms,chaos_injected,chaos_undone,etl_consumed,etl_written,etl_lag,etl_latency_p99_ms,"
         "etl_sink_errors,kafka_brokers,kafka_under_replicated,kafka_offline_partitions,"
         // Columns are only ever appended: scripts read them by position.
         "etl_dead_letters,engine_cpu_percent,engine_rss_bytes\n";
  auto phase_of = [&](int64_t s) -> std::string {
    for (const auto& p : in.run.phases)
      if (s * 1000000 >= p.start_us && s * 1000000 < p.end_us) return p.name;
    return "";
  };
  // One second at a time: past seconds are read back from ColdSeconds.
  in.metrics.for_each_second([&](int64_t second, const SecondSample& sample) {
    auto c = [&](const char* n) {
      auto it = sample.counters.find(n);
      return it == sample.counters.end() ? int64_t{0} : it->second;
    };
    auto h = [&](const char* n) {
      Histogram hist;
      auto it = sample.histograms.find(n);
      if (it != sample.histograms.end()) hist.merge(it->second);
      return hist;
    };
    auto g = sample.gauges.find("produce.in_flight");
    Histogram lat = h("produce.latency"), send = h("produce.send_latency"), etl = h("etl.latency");
    auto lag = sample.gauges.find("etl.lag");
    char buf[768];
    std::snprintf(buf, sizeof buf, "%lld,%s,%lld,%lld,%lld,%lld,%lld,%.0f,%.3f,%.3f,%.3f,%.3f,%.3f,%lld,%lld,%lld,%lld,%s,%.3f,%lld", static_cast<long long>(second),
                  phase_of(second).c_str(), static_cast<long long>(c("produce.intended")), static_cast<long long>(c("produce.sent")),
                  static_cast<long long>(c("produce.acked")), static_cast<long long>(c("produce.failed")),
                  static_cast<long long>(c("produce.queue_full")), g == sample.gauges.end() ? 0.0 : g->second,
                  lat.percentile(50) / 1000.0, lat.percentile(99) / 1000.0, lat.max() / 1000.0, send.percentile(50) / 1000.0,
                  send.percentile(99) / 1000.0, static_cast<long long>(c("chaos.injected")), static_cast<long long>(c("chaos.undone")),
                  static_cast<long long>(c("etl.consumed")), static_cast<long long>(c("etl.written")),
                  lag == sample.gauges.end() ? "" : std::to_string(static_cast<long long>(lag->second)).c_str(), etl.percentile(99) / 1000.0,
                  static_cast<long long>(c("etl.sink_errors")));
    out << buf;
    // The cluster observer's gauges; empty when it had no answer that second.
    for (const char* n : {"kafka.brokers", "kafka.under_replicated", "kafka.offline_partitions"}) {
      auto it = sample.gauges.find(n);
      out << ',';
      if (it != sample.gauges.end()) out << static_cast<long long>(it->second);
    }
    // Dead letters only mean something with an ETL (empty without one, so
    // charts can tell "none" from "no ETL").
    out << ',';
    if (!in.etl.is_null()) out << static_cast<long long>(c("etl.dead_letter"));
    // The engine's own resource gauges; empty in a second without a sample.
    if (auto cpu = sample.gauges.find("engine.cpu_percent"); cpu != sample.gauges.end()) {
      std::snprintf(buf, sizeof buf, ",%.1f", cpu->second);
      out << buf;
    } else {
      out << ',';
    }
    out << ',';
    if (auto rss = sample.gauges.find("engine.rss_bytes"); rss != sample.gauges.end()) out << static_cast<long long>(rss->second);
    out << '\n';
  });
  return write_text_file(path, out.str());
}

std::string format_console_summary(const ReportInput& in, const std::string& results_dir) {
  std::ostringstream o;
  char buf[512];
  o << "\n" << in.plan.scenario->name << " on " << in.plan.target << ", seed " << in.plan.seed << ", "
    << static_cast<double>(in.run.end_us) / 1e6 << "s";
  if (in.workers.is_object()) {
    int done = 0;
    for (const auto& w : in.workers.value("workers", nlohmann::json::array())) done += w.value("done", false) ? 1 : 0;
    o << ", " << in.workers.value("count", 0) << " workers (" << done << " done)";
  }
  o << "\n\n";
  std::snprintf(buf, sizeof buf, "  %-10s %9s %9s %9s %7s %10s %10s %10s\n", "phase", "sent", "acked", "failed", "rate", "p50", "p99", "max");
  o << buf;
  auto windows = phase_windows(in.run);
  const LoadMetricNames names = load_metric_names(in.metrics);
  for (const auto& p : in.run.phases) {
    if (!p.ran()) continue;
    SecondWindow w = windows[p.name];
    Histogram lat = in.metrics.histogram(names.latency, w);
    double secs = static_cast<double>(p.end_us - p.start_us) / 1e6;
    int64_t sent = in.metrics.counter_sum(names.sent, w);
    std::snprintf(buf, sizeof buf, "  %-10s %9lld %9lld %9lld %6.0f/s %8.2fms %8.2fms %8.2fms\n", p.name.c_str(), static_cast<long long>(sent),
                  static_cast<long long>(in.metrics.counter_sum(names.acked, w)),
                  static_cast<long long>(names.failed_sum(in.metrics, w)), secs > 0 ? static_cast<double>(sent) / secs : 0.0,
                  lat.percentile(50) / 1000.0, lat.percentile(99) / 1000.0, lat.max() / 1000.0);
    o << buf;
  }
  if (!in.run.injections.empty()) {
    o << "\n  chaos:\n";
    for (const auto& i : in.run.injections) {
      std::snprintf(buf, sizeof buf, "    +%.1fs..%s  %s%s\n", i.start_us / 1e6,
                    i.end_us >= 0 ? (std::to_string(static_cast<int>(i.end_us / 1e6)) + "s").c_str() : "(not undone)", i.description.c_str(),
                    i.error.empty() ? "" : ("  ERROR: " + i.error).c_str());
      o << buf;
    }
  }
  if (in.ledger) {
    const LedgerReport& l = *in.ledger;
    if (l.checked && l.source == "kafka")
      o << "\n  ledger: " << l.acked << " acknowledged, " << l.rows << " records read back from Kafka: " << l.lost << " lost, "
        << l.duplicates << " duplicated, " << l.unexpected << " unexpected\n";
    else if (l.checked)
      o << "\n  ledger: " << l.acked << " acknowledged, " << l.rows << " rows in PostgreSQL: " << l.lost << " lost, " << l.duplicates
        << " duplicated, " << l.unexpected << " unexpected, " << l.aggregate_mismatches << " Redis aggregate mismatches\n";
    else
      o << "\n  ledger: not checked: " << l.skipped_because << "\n";
    for (size_t i = 0; i < l.lost_ids.size() && i < 5; ++i) o << "    lost: " << l.lost_ids[i] << "\n";
  }
  for (const auto& b : in.run.benchmarks) {
    o << "\n  benchmark " << b.phase << " (" << b.workload << "): ";
    if (b.knee >= 0) {
      const BenchmarkStep& k = b.steps[static_cast<size_t>(b.knee)];
      char buf[160];
      if (k.threads > 0)
        std::snprintf(buf, sizeof buf, "maximum sustainable rate %.0f/s with %d threads (p99 %.2fms)", k.achieved, k.threads, k.p99_us / 1000);
      else
        std::snprintf(buf, sizeof buf, "maximum sustainable rate %.0f/s (achieved %.0f/s, p99 %.2fms)", k.target, k.achieved, k.p99_us / 1000);
      o << buf;
    } else {
      o << "no step held";
    }
    o << "; " << b.stopped_because << "\n";
    for (const auto& st : b.steps) {
      char buf[256];
      std::string level = st.threads > 0 ? std::to_string(st.threads) + " threads" : std::to_string(static_cast<long long>(st.target)) + "/s";
      std::snprintf(buf, sizeof buf, "    %10s -> %8.0f/s  p50 %7.2fms  p99 %7.2fms  failed %lld%s%s\n", level.c_str(), st.achieved, st.p50_us / 1000,
                    st.p99_us / 1000, static_cast<long long>(st.failed), st.broken.empty() ? "" : "  broke: ", st.broken.c_str());
      o << buf;
    }
  }
  if (in.dead_letters && !in.dead_letters->empty()) o << "\n  dead letters: " << in.dead_letters->size() << " (see summary.json)\n";
  for (const auto& rc : in.verdict.rates) {
    if (rc.behind)
      o << "\n  phase " << rc.phase << ": the generator dropped " << rc.dropped << " of " << rc.intended << " scheduled records ("
        << (rc.intended ? 100.0 * static_cast<double>(rc.dropped) / static_cast<double>(rc.intended) : 0)
        << "%): it could not keep the declared rate\n";
  }
  if (!in.verdict.expectations.empty()) {
    o << "\n";
    // As wide as the longest expectation (within reason), so values line up.
    int width = 52;
    for (const auto& e : in.verdict.expectations) width = std::max(width, std::min(90, static_cast<int>(e.text.size())));
    std::snprintf(buf, sizeof buf, "  %-6s %-*s %14s %16s\n", "", width, "expectation", "measured", "threshold");
    o << buf;
    for (const auto& e : in.verdict.expectations) {
      std::string measured = e.no_data ? "no data" : format_slo_value(e.measured, e.dim);
      std::string threshold = e.cmp + " " + format_slo_value(e.threshold, e.dim);
      if (e.lua) {
        measured = "";
        threshold = "ok";
      }
      std::snprintf(buf, sizeof buf, "  %-6s %-*s %14s %16s\n", e.pass ? "PASS" : "FAIL", width, e.text.c_str(), measured.c_str(), threshold.c_str());
      o << buf;
      if (!e.message.empty() && (e.lua || !e.pass)) o << "         " << e.message << "\n";
    }
  }
  o << "\n" << in.verdict.headline << "  (exit " << in.verdict.exit_code << ")\n";
  if (!results_dir.empty()) o << "results: " << results_dir << "\n";
  return o.str();
}

}  // namespace kapture
