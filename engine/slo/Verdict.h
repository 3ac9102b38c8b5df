#pragma once
// The run's verdict: every expectation with its measured value, whether the
// load generator kept its declared rate, and the exit code that follows.
#include <string>
#include <vector>

#include "metrics/MetricsStore.h"
#include "slo/MetricsSloData.h"
#include "plan/Plan.h"
#include "slo/SloExpression.h"
#include "timeline/RunRecord.h"

namespace kapture {

struct ExpectationResult {
  std::string text;
  SourceLocation where;
  bool pass = false;
  bool no_data = false;
  double measured = 0;
  double threshold = 0;
  SloDimension dim = SloDimension::Number;
  std::string cmp;
  bool lua = false;
  bool prometheus = false;
  bool abort = false;   // an `abort: true` expectation
  std::string message;  // a Lua expectation's own words; windows and recovery: which was worst
};

// Achieved against intended sends in a phase. A generator that dropped more
// than 1% of its schedule measured itself, not the system, unless the
// client's queue was full (the cluster pushing back, which latency shows).
struct RateCheck {
  std::string phase;
  int64_t intended = 0;
  int64_t sent = 0;
  int64_t dropped = 0;
  double seconds = 0;
  bool backpressured = false;
  bool behind = false;
};

enum ExitCode {
  kExitPass = 0,
  kExitFailed = 1,
  kExitUsage = 2,
  kExitUnreachable = 3,
  kExitInvalidRun = 4,
  kExitResultsIncomplete = 5,  // a results file could not be written (the verdict is still printed)
  kExitInterrupted = 130,
};

struct Verdict {
  std::vector<ExpectationResult> expectations;
  std::vector<RateCheck> rates;
  int exit_code = kExitPass;
  std::string headline;  // "PASS", "FAIL: 2 of 6 expectations failed", ...
};

std::map<std::string, SecondWindow> phase_windows(const RunRecord& run);
SecondWindow run_window(const RunRecord& run);
// What expectations see of a run: its phases, and its injections by step
// name and by chaos verb. `final` false: the run is still going.
SloContext slo_context(const RunRecord& run, bool final = true);
// One expression expectation as the verdict reports it.
ExpectationResult check_expectation(const ExpectationSpec& e, const MetricsStore& metrics, const SloContext& ctx);

// Outcomes of Lua expectations, by their index in scenario.expectations
// (they run against the stores, so the caller runs them).
struct LuaOutcome {
  bool pass = false;
  std::string message;
};

// Prometheus expectations are queried by the caller too: their results come
// in whole, by index.
Verdict judge(const Plan& plan, const RunRecord& run, const MetricsStore& metrics, const std::map<size_t, LuaOutcome>& lua = {},
              const std::map<size_t, ExpectationResult>& prometheus = {});

}  // namespace kapture
