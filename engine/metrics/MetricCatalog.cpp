#include "metrics/MetricCatalog.h"

namespace kapture {

const std::vector<MetricInfo>& metric_catalog() {
  static const std::vector<MetricInfo> catalog = {
      {"produce.latency", MetricKind::Histogram, MetricUnit::Microseconds,
       "intended send time (from the arrival schedule) to delivery report: coordinated-omission free"},
      {"produce.send_latency", MetricKind::Histogram, MetricUnit::Microseconds,
       "actual send (produce call) to delivery report"},
      {"produce.schedule_lag", MetricKind::Histogram, MetricUnit::Microseconds,
       "actual send minus intended send: how late the generator was"},
      {"produce.intended", MetricKind::Counter, MetricUnit::Count, "records the arrival schedule asked for"},
      {"produce.dropped", MetricKind::Counter, MetricUnit::Count,
       "records the schedule asked for that the generator never sent (it fell behind)"},
      {"produce.sent", MetricKind::Counter, MetricUnit::Count, "records handed to the Kafka client"},
      {"produce.acked", MetricKind::Counter, MetricUnit::Count, "records acknowledged by the brokers"},
      {"produce.failed", MetricKind::Counter, MetricUnit::Count,
       "records whose delivery failed (including those still unacknowledged when the run ended)"},
      {"produce.queue_full", MetricKind::Counter, MetricUnit::Count,
       "times the client's local queue was full (backpressure from the cluster)"},
      {"produce.bytes", MetricKind::Counter, MetricUnit::Bytes, "payload bytes acknowledged"},
      {"produce.in_flight", MetricKind::Gauge, MetricUnit::Count, "records sent but not yet acknowledged or failed"},
      {"chaos.injected", MetricKind::Counter, MetricUnit::Count, "chaos injections made"},
      {"chaos.undone", MetricKind::Counter, MetricUnit::Count, "chaos injections undone"},
  };
  return catalog;
}

std::optional<MetricInfo> find_metric(std::string_view name) {
  for (const auto& m : metric_catalog()) {
    if (m.name == name) return m;
  }
  return std::nullopt;
}

}  // namespace kapture
