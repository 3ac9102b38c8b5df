#pragma once
// The metrics store and the live status as Prometheus text exposition format
// 0.0.4, what `GET /metrics` serves while a run goes on.
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "metrics/MetricsStore.h"
#include "timeline/LiveStatus.h"

namespace kapture {

// A store name split into the metric and its labels: `produce.latency{topic="bps.texas"}`
// is `produce.latency` with topic=bps.texas (values unescaped).
struct SeriesName {
  std::string metric;
  std::vector<std::pair<std::string, std::string>> labels;
};

// nullopt when the braces are not a Prometheus label set.
std::optional<SeriesName> parse_series_name(std::string_view store_name);

// How many completed seconds the summaries' quantiles cover.
inline constexpr int kQuantileWindowSeconds = 10;

// Everything in the store up to the last completed second (all of it outside
// the timeline, so a scrape after the run sees the ledger's counters), and
// the live series from `live`.
std::string prometheus_exposition(const MetricsStore& store, const LiveSnapshot& live);

}  // namespace kapture
