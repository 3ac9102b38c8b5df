#pragma once
// What the console's "sent, acked, failed, latency" mean: the Kafka
// producers' metrics when the run has any, otherwise the http workloads'
// (a chat scenario posts through a webapp and has no producer of its own).
#include <cstdint>
#include <limits>
#include <vector>

#include "metrics/MetricsStore.h"

namespace kapture {

struct LoadMetricNames {
  const char* sent;
  const char* acked;
  std::vector<const char*> failed;
  const char* latency;

  int64_t failed_sum(const MetricsStore& m, SecondWindow w) const {
    int64_t n = 0;
    for (const char* f : failed) n += m.counter_sum(f, w);
    return n;
  }
};

inline LoadMetricNames load_metric_names(const MetricsStore& m) {
  SecondWindow all{std::numeric_limits<int64_t>::min() / 2, std::numeric_limits<int64_t>::max() / 2};
  if (m.counter_sum("produce.intended", all) == 0 && m.counter_sum("http.intended", all) > 0)
    return {"http.sent", "http.status_2xx", {"http.status_4xx", "http.status_5xx", "http.timeouts", "http.connect_errors", "http.errors"},
            "http.latency"};
  return {"produce.sent", "produce.acked", {"produce.failed"}, "produce.latency"};
}

}  // namespace kapture
