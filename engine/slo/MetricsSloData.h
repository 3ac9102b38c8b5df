#pragma once
// Expectations evaluated over the MetricsStore: `during X` is phase X's
// seconds, no window is the whole run, `over` slides windows, and
// recovery_time walks the seconds after each injection of its step.
#include <map>
#include <string>
#include <vector>

#include "metrics/MetricsStore.h"
#include "slo/SloExpression.h"

namespace kapture {

struct SloContext {
  std::map<std::string, SecondWindow> phases;  // phases that ran (or run now), by name
  SecondWindow run;                             // the whole run (so far)
  std::map<std::string, std::vector<int64_t>> steps;  // step name or chaos verb -> injection offsets (us)
  // False while the run goes: what is not over yet (an injection still
  // recovering, a window still filling) is not judged yet.
  bool final = true;
};

class MetricsSloData : public SloData {
 public:
  MetricsSloData(const MetricsStore& store, SloContext ctx) : store_(store), ctx_(std::move(ctx)) {}
  MetricsSloData(const MetricsStore& store, std::map<std::string, SecondWindow> phases, SecondWindow run)
      : store_(store), ctx_{std::move(phases), run, {}, true} {}
  bool aggregate(const SloNode& node, const std::string& window, double& out) const override;
  bool recovery(const SloExpression& e, double& out) const override;

 private:
  const MetricsStore& store_;
  SloContext ctx_;
};

// One expectation over the store, windows and recovery included: the
// outcome's note says which window was worst or which injection was slowest.
SloOutcome evaluate_on_store(const SloExpression& e, const MetricsStore& store, const SloContext& ctx);

// Seconds a condition must hold in a row for recovery_time to count it.
inline constexpr int kRecoveryStableSeconds = 3;

}  // namespace kapture
