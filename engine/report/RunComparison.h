#pragma once
// Compares two runs' key metrics (throughput, latency percentiles, errors,
// the ledger) and says which moved beyond a tolerance in the wrong
// direction: `kapture-engine compare BASE NEW`.
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/Error.h"

namespace kapture {

enum class Better { Lower, Higher };

struct KeyMetric {
  std::string name;  // "produce.latency p99"
  std::string unit;  // "ms", "/s", "" for counts
  Better better;
  std::vector<std::string> path;   // where summary.json has it (empty: derived, see timeline_throughput)
  std::vector<std::string> guard;  // counted only when this is truthy (empty: always), e.g. a checked ledger
};

// The metrics compare looks at, in the order it prints them.
const std::vector<KeyMetric>& key_metrics();

// Key metric name -> value; a metric the run did not measure is absent.
using RunMetrics = std::map<std::string, double>;

// Reads the key metrics out of a summary.json document.
RunMetrics extract_key_metrics(const nlohmann::json& summary);

// Acknowledged records per second of the timeline (first phase's start to
// the last run phase's end): the run's own rate counts the set-up before the
// first phase too, which varies from run to run. Absent when nothing ran.
std::optional<double> timeline_throughput(const nlohmann::json& summary);

enum class Change {
  Same,        // within the tolerance
  Better,      // moved beyond the tolerance, the good way
  Worse,       // moved beyond the tolerance, the bad way: a regression
  Missing,     // not measured in one of the runs: not compared
};

struct MetricComparison {
  KeyMetric metric;
  std::optional<double> base;
  std::optional<double> now;
  // (now - base) / base in percent; absent when either side is missing or
  // base is 0 and now is not (a change from zero has no percentage).
  std::optional<double> change_pct;
  Change change = Change::Same;
};

struct RunComparison {
  double tolerance_pct = 10;
  std::vector<MetricComparison> metrics;
  int regressions() const;
  bool regressed() const { return regressions() > 0; }
};

// A metric regressed when it moved more than tolerance_pct percent in its
// bad direction; from zero, any move in the bad direction is a regression.
RunComparison compare_runs(const RunMetrics& base, const RunMetrics& now, double tolerance_pct);

// "10%", "10" or "2.5%" -> 10, 10, 2.5. Negative or unparsable: a usage error.
Result<double> parse_tolerance(const std::string& text);

// A key metric's value as the tables show it: "12.34ms", "1500.0/s", "42"
// by unit ("ms", "/s", ""); "-" when absent.
std::string format_value(std::optional<double> v, const std::string& unit);

// The side-by-side table and a verdict line.
std::string format_comparison(const RunComparison& c, const std::string& base_label, const std::string& now_label);

}  // namespace kapture
