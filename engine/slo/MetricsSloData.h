#pragma once
// Expectations evaluated over the MetricsStore: `during X` is phase X's
// seconds, no window is the whole run.
#include <map>
#include <string>

#include "metrics/MetricsStore.h"
#include "slo/SloExpression.h"

namespace kapture {

class MetricsSloData : public SloData {
 public:
  MetricsSloData(const MetricsStore& store, std::map<std::string, SecondWindow> phases, SecondWindow run)
      : store_(store), phases_(std::move(phases)), run_(run) {}
  bool aggregate(const SloNode& node, const std::string& window, double& out) const override;

 private:
  const MetricsStore& store_;
  std::map<std::string, SecondWindow> phases_;
  SecondWindow run_;
};

}  // namespace kapture
