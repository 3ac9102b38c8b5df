#pragma once
// Every metric the engine records, so expectations naming anything else are
// rejected when the scenario is loaded rather than evaluating to nothing.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace kapture {

enum class MetricKind { Counter, Histogram, Gauge };
enum class MetricUnit { Count, Microseconds, Bytes };

struct MetricInfo {
  std::string_view name;
  MetricKind kind;
  MetricUnit unit;
  std::string_view help;
};

const std::vector<MetricInfo>& metric_catalog();
std::optional<MetricInfo> find_metric(std::string_view name);
// The labels a metric's series carry besides the unlabelled total
// (produce.latency{topic="bps.texas"}), for expectations' label filters.
std::vector<std::string_view> metric_label_names(std::string_view name);

}  // namespace kapture
