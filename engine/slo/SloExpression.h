#pragma once
// Expectations such as `p99(produce.latency) < 250ms during steady`.
//
//   expectation := sum CMP sum [ 'during' PHASE ]
//   sum         := product (('+' | '-') product)*
//   product     := factor (('*' | '/') factor)*
//   factor      := NUMBER[UNIT] | AGG '(' METRIC ')' [ 'during' PHASE ] | '(' sum ')'
//   AGG         := pNN[.N] | avg | min | max | rate | count | last
//   CMP         := < | <= | > | >= | == | !=
//   UNIT        := us ms s m h (durations) | /s /m /h (rates) | B KB MB GB KiB MiB GiB
//
// A `during` right after an aggregate gives that aggregate its window; a final
// `during` applies to every aggregate without one. No `during`: the whole run.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/Error.h"

namespace kapture {

enum class SloDimension { Number, Time, Rate, Bytes };

struct SloNode {
  enum class Kind { Number, Aggregate, Binary } kind = Kind::Number;
  double number = 0;  // normalized: microseconds, per second, bytes
  SloDimension dim = SloDimension::Number;
  enum class Agg { Percentile, Avg, Min, Max, Rate, Count, Last } agg = Agg::Count;
  double percentile = 0;
  std::string agg_text;  // as written, for reports: "p99"
  std::string metric;
  std::string during;    // empty: the default window
  size_t metric_offset = 0;
  size_t during_offset = 0;
  char op = 0;
  int lhs = -1, rhs = -1;
};

struct SloExpression {
  std::string text;
  std::vector<SloNode> nodes;
  int lhs = -1, rhs = -1;
  std::string cmp;

  // Phase names used in `during`, with the offsets where they were written.
  std::vector<std::pair<std::string, size_t>> phases_named() const;
  // Metric names with offsets.
  std::vector<std::pair<std::string, size_t>> metrics_named() const;
  bool has_during() const;
};

// Parses and checks metric names, aggregate/metric kinds and units. Errors
// carry the column (1-based, within `text`) in where.column.
Result<SloExpression> parse_slo(std::string_view text);

// What an aggregate needs from the metrics: implemented over MetricsStore by
// the verdict, and by tests over fixed numbers.
class SloData {
 public:
  virtual ~SloData() = default;
  // Returns false (no data) when the window holds no sample for it.
  virtual bool aggregate(const SloNode& node, const std::string& window, double& out) const = 0;
};

struct SloOutcome {
  bool pass = false;
  bool no_data = false;
  double lhs = 0;
  double rhs = 0;
  SloDimension dim = SloDimension::Number;
};

SloOutcome evaluate_slo(const SloExpression& e, const SloData& data);

// "250ms", "1980/s", "12", "5.2MiB": how reports show a value of a dimension.
std::string format_slo_value(double value, SloDimension dim);

}  // namespace kapture
