#include "slo/MetricsSloData.h"

#include "metrics/MetricCatalog.h"

namespace kapture {

bool MetricsSloData::aggregate(const SloNode& node, const std::string& window, double& out) const {
  SecondWindow w = run_;
  if (!window.empty()) {
    auto it = phases_.find(window);
    if (it == phases_.end()) return false;  // the phase never ran
    w = it->second;
  }
  auto info = find_metric(node.metric);
  if (!info) return false;
  out = 0;
  if (info->kind == MetricKind::Gauge) {
    std::optional<double> v;
    if (node.agg == SloNode::Agg::Last) v = store_.gauge_last(node.metric, w);
    else if (node.agg == SloNode::Agg::Max) v = store_.gauge_max(node.metric, w);
    else if (node.agg == SloNode::Agg::Min) v = store_.gauge_min(node.metric, w);
    if (!v) return false;
    out = *v;
    return true;
  }
  if (info->kind == MetricKind::Counter) {
    // The ledger's counters exist only when the ledger was checked: a
    // skipped check is no data (a failed expectation), never a zero.
    if (node.metric.rfind("ledger.", 0) == 0 && !store_.counter_recorded(node.metric, w)) return false;
    double sum = static_cast<double>(store_.counter_sum(node.metric, w));
    if (node.agg == SloNode::Agg::Rate) {
      if (w.length() == 0) return false;
      out = sum / static_cast<double>(w.length());
    } else {
      out = sum;
    }
    return true;
  }
  Histogram h = store_.histogram(node.metric, w);
  switch (node.agg) {
    case SloNode::Agg::Count: out = static_cast<double>(h.count()); return true;
    case SloNode::Agg::Rate:
      if (w.length() == 0) return false;
      out = static_cast<double>(h.count()) / static_cast<double>(w.length());
      return true;
    default: break;
  }
  if (h.count() == 0) return false;
  switch (node.agg) {
    case SloNode::Agg::Percentile: out = static_cast<double>(h.percentile(node.percentile)); break;
    case SloNode::Agg::Avg: out = h.mean(); break;
    case SloNode::Agg::Min: out = static_cast<double>(h.min()); break;
    case SloNode::Agg::Max: out = static_cast<double>(h.max()); break;
    default: break;
  }
  return true;
}

}  // namespace kapture
