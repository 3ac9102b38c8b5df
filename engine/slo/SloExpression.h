#pragma once
// Expectations such as `p99(produce.latency) < 250ms during steady`.
//
//   expectation := sum CMP sum clause*
//                | 'recovery_time' '(' sum CMP sum ')' CMP sum 'after' STEP ['ends']
//   clause      := 'during' PHASE | 'over' DURATION [ 'for' N 'consecutive' ['windows'] ]
//   sum         := product (('+' | '-') product)*
//   product     := factor (('*' | '/') factor)*
//   factor      := NUMBER[UNIT] | AGG '(' METRIC ')' [ 'during' PHASE ] | '(' sum ')'
//   METRIC      := name [ '{' label '=' "value" (',' label '=' "value")* '}' ]
//   AGG         := pNN[.N] | avg | min | max | rate | count | last
//   CMP         := < | <= | > | >= | == | !=
//   UNIT        := us ms s m h (durations) | /s /m /h (rates) | B KB MB GB KiB MiB GiB
//
// A `during` right after an aggregate gives that aggregate its window; a final
// `during` applies to every aggregate without one. No `during`: the whole run.
// `over 30s` slides a 30 s window, a second at a time, over the run (or the
// final `during` phase): it must hold in every window, or with `for N
// consecutive` in at least N windows in a row. Aggregates with their own
// `during` keep it (`p99(x) < 2 * p99(x) during baseline over 10s`).
// `recovery_time(COND)` is how long after each injection of STEP (a step's
// `name`, or a chaos verb) COND first held for 3 seconds in a row, or with
// `ends` after each undo (a delay or a pause hurts until it is lifted); the
// worst injection counts, and one that never recovered is infinite.
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
  enum class Agg { Percentile, Avg, Min, Max, Rate, Count, Last, Recovery } agg = Agg::Count;
  double percentile = 0;
  std::string agg_text;  // as written, for reports: "p99"
  std::string metric;  // with its label filter, canonical: produce.latency{topic="a"}
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
  // Sliding windows: `over`, and the phase they slide over (empty: the run).
  int64_t over_us = 0;
  int consecutive = 0;  // 0: every window must hold
  std::string range_phase;
  size_t range_phase_offset = 0;
  // recovery_time: its condition (one element) and the step it follows.
  std::vector<SloExpression> recovery;
  std::string after;
  size_t after_offset = 0;
  bool after_end = false;  // `after STEP ends`: from the undo, not the injection
  // The key of ctx.steps the recovery counts from.
  std::string after_key() const { return after_end ? after + " ends" : after; }

  // Phase names used in `during`, with the offsets where they were written.
  std::vector<std::pair<std::string, size_t>> phases_named() const;
  // Metric names with offsets.
  std::vector<std::pair<std::string, size_t>> metrics_named() const;
  bool has_during() const;
};

// Parses and checks metric names, aggregate/metric kinds and units. Errors
// carry the column (1-based, within `text`) in where.column.
Result<SloExpression> parse_slo(std::string_view text);

// "produce.latency{topic=\"a\"}" -> "produce.latency"
std::string metric_base_name(std::string_view series);

// What an aggregate needs from the metrics: implemented over MetricsStore by
// the verdict, and by tests over fixed numbers.
class SloData {
 public:
  virtual ~SloData() = default;
  // Returns false (no data) when the window holds no sample for it.
  virtual bool aggregate(const SloNode& node, const std::string& window, double& out) const = 0;
  // recovery_time of `e` (which has e.recovery): microseconds, INFINITY when
  // an injection never recovered; false when the step never ran.
  virtual bool recovery(const SloExpression& e, double& out) const {
    (void)e;
    (void)out;
    return false;
  }
};

struct SloOutcome {
  bool pass = false;
  bool no_data = false;
  double lhs = 0;
  double rhs = 0;
  SloDimension dim = SloDimension::Number;
  std::string note;  // windows: which one was worst; recovery: which injection
};

SloOutcome evaluate_slo(const SloExpression& e, const SloData& data);

// "250ms", "1980/s", "12", "5.2MiB": how reports show a value of a dimension.
std::string format_slo_value(double value, SloDimension dim);

}  // namespace kapture
