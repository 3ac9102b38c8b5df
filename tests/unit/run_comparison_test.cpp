// compare: key metrics read from hand-made summary.json documents, and what
// counts as a regression, an improvement, within tolerance, or missing.
#include <doctest/doctest.h>

#include <string>

#include "report/RunComparison.h"

using namespace kapture;

namespace {

// A summary.json with the parts compare reads.
nlohmann::json summary(double acked_rate, double p50_ms, double p99_ms, int64_t failed) {
  nlohmann::json j = nlohmann::json::parse(R"({
    "schema_version": 1,
    "verdict": {"exit_code": 0, "headline": "PASS", "passed": true, "interrupted": false},
    "run": {
      "counters": {"produce.acked": 20000, "produce.failed": 0, "produce.dropped": 0, "etl.sink_errors": 0},
      "latency": {"count": 20000, "min_ms": 0.1, "mean_ms": 2.0, "p50_ms": 0, "p90_ms": 3.0, "p99_ms": 0, "p99_9_ms": 9.0, "max_ms": 12.0},
      "rates_per_s": {"intended": 2000, "sent": 2000, "acked": 0}
    }
  })");
  // The timeline ran from 1s to 11s (set-up before it); a last phase never ran.
  j["phases"] = nlohmann::json::parse(R"([{"name": "a", "start_s": 1, "end_s": 6, "ended_by": "duration", "metrics": {}},
                                          {"name": "b", "start_s": 6, "end_s": 11, "ended_by": "condition", "metrics": {}},
                                          {"name": "c", "start_s": 11, "end_s": 11, "ended_by": ""}])");
  j["run"]["rates_per_s"]["acked"] = acked_rate * 10 / 11;  // over the whole run, set-up included
  j["run"]["counters"]["produce.acked"] = static_cast<int64_t>(acked_rate * 10);
  j["run"]["latency"]["p50_ms"] = p50_ms;
  j["run"]["latency"]["p99_ms"] = p99_ms;
  j["run"]["counters"]["produce.failed"] = failed;
  return j;
}

const MetricComparison& find(const RunComparison& c, const std::string& name) {
  for (const auto& m : c.metrics)
    if (m.metric.name == name) return m;
  FAIL("no metric " << name);
  return c.metrics.front();
}

RunComparison compare(const nlohmann::json& base, const nlohmann::json& now, double tolerance = 10) {
  return compare_runs(extract_key_metrics(base), extract_key_metrics(now), tolerance);
}

}  // namespace

TEST_CASE("compare: key metrics are read from summary.json") {
  RunMetrics m = extract_key_metrics(summary(2000, 5, 15, 3));
  CHECK(m.at("throughput (acked)") == 2000);
  CHECK(m.at("produce.acked") == 20000);
  CHECK(m.at("produce.latency p50") == 5);
  CHECK(m.at("produce.latency p99") == 15);
  CHECK(m.at("produce.latency p99.9") == 9);
  CHECK(m.at("produce.failed") == 3);
  // Not measured: no ETL latency, no ETL section, no ledger.
  CHECK(m.count("etl.latency p99") == 0);
  CHECK(m.count("etl.sink_errors") == 0);
  CHECK(m.count("ledger.lost") == 0);
}

TEST_CASE("compare: throughput is acknowledged records over the phases that ran, not the set-up") {
  nlohmann::json j = summary(2000, 5, 15, 0);
  CHECK(*timeline_throughput(j) == doctest::Approx(2000));
  j["phases"] = nlohmann::json::array();
  CHECK_FALSE(timeline_throughput(j));
  CHECK(extract_key_metrics(j).count("throughput (acked)") == 0);
}

TEST_CASE("compare: a latency up 50% with a 10% tolerance is a regression") {
  RunComparison c = compare(summary(2000, 5, 20, 0), summary(2000, 5, 30, 0));
  CHECK(c.regressed());
  CHECK(c.regressions() == 1);
  const auto& p99 = find(c, "produce.latency p99");
  CHECK(p99.change == Change::Worse);
  REQUIRE(p99.change_pct);
  CHECK(*p99.change_pct == doctest::Approx(50));
  CHECK(find(c, "produce.latency p50").change == Change::Same);
  std::string table = format_comparison(c, "base", "new");
  CHECK(table.find("WORSE") != std::string::npos);
  CHECK(table.find("+50.0%") != std::string::npos);
  CHECK(table.find("REGRESSED: 1 key metric") != std::string::npos);
}

TEST_CASE("compare: throughput down beyond the tolerance is a regression (higher is better)") {
  RunComparison c = compare(summary(2000, 5, 20, 0), summary(1700, 5, 20, 0));
  CHECK(c.regressed());
  CHECK(find(c, "throughput (acked)").change == Change::Worse);
  CHECK(*find(c, "throughput (acked)").change_pct == doctest::Approx(-15));
}

TEST_CASE("compare: changes within the tolerance are not regressions") {
  RunComparison c = compare(summary(2000, 5, 20, 0), summary(1900, 5.4, 21.9, 0));
  CHECK_FALSE(c.regressed());
  for (const auto& m : c.metrics) CHECK_MESSAGE(m.change == Change::Same, m.metric.name);
  // The same 9.5% is a regression with a 5% tolerance.
  CHECK(compare(summary(2000, 5, 20, 0), summary(2000, 5, 21.9, 0), 5).regressed());
  CHECK(format_comparison(c, "a", "b").find("OK: no key metric worse by more than 10%") != std::string::npos);
}

TEST_CASE("compare: improvements are not regressions") {
  RunComparison c = compare(summary(2000, 5, 30, 4), summary(2500, 2, 10, 0));
  CHECK_FALSE(c.regressed());
  CHECK(find(c, "throughput (acked)").change == Change::Better);
  CHECK(find(c, "produce.latency p99").change == Change::Better);
  CHECK(find(c, "produce.failed").change == Change::Better);
}

TEST_CASE("compare: a count rising from zero is a regression whatever the tolerance") {
  RunComparison c = compare(summary(2000, 5, 20, 0), summary(2000, 5, 20, 1), 1000);
  CHECK(c.regressed());
  const auto& failed = find(c, "produce.failed");
  CHECK(failed.change == Change::Worse);
  CHECK_FALSE(failed.change_pct);
  CHECK(format_comparison(c, "a", "b").find("from 0") != std::string::npos);
}

TEST_CASE("compare: a metric measured on one side only is shown, not judged") {
  nlohmann::json base = summary(2000, 5, 20, 0);
  nlohmann::json now = summary(2000, 5, 20, 0);
  now["run"]["histograms"]["etl.latency"] = {{"count", 10}, {"p99_ms", 900.0}};
  base["ledger"] = {{"checked", true}, {"lost", 0}, {"duplicates", 0}};
  now["ledger"] = {{"checked", false}, {"lost", 0}, {"duplicates", 0}};  // unchecked: its zeros are no measurement
  RunComparison c = compare(base, now);
  CHECK_FALSE(c.regressed());
  CHECK(find(c, "etl.latency p99").change == Change::Missing);
  CHECK_FALSE(find(c, "etl.latency p99").base);
  CHECK(*find(c, "etl.latency p99").now == 900);
  CHECK(find(c, "ledger.lost").change == Change::Missing);
  CHECK(format_comparison(c, "a", "b").find("not in both") != std::string::npos);
  // A producer-less run has no latency at all: not compared either.
  nlohmann::json idle = summary(0, 0, 0, 0);
  idle["run"]["latency"]["count"] = 0;
  CHECK(extract_key_metrics(idle).count("produce.latency p99") == 0);
  CHECK(find(compare(base, idle), "produce.latency p99").change == Change::Missing);
}

TEST_CASE("compare: a run against itself changes nothing") {
  nlohmann::json s = summary(1234.5, 3.2, 17.8, 2);
  RunComparison c = compare(s, s, 0);
  CHECK_FALSE(c.regressed());
  for (const auto& m : c.metrics) CHECK(m.change == Change::Same);
}

TEST_CASE("compare: tolerance parsing") {
  CHECK(*parse_tolerance("10%") == 10);
  CHECK(*parse_tolerance("2.5%") == 2.5);
  CHECK(*parse_tolerance("0") == 0);
  CHECK(*parse_tolerance("15") == 15);
  for (const char* bad : {"", "%", "-5%", "ten", "10%%", "5 %", "inf"}) {
    auto t = parse_tolerance(bad);
    CHECK_MESSAGE(!t.ok(), bad);
    if (!t.ok()) CHECK(t.error().kind == ErrorKind::Usage);
  }
}
