#pragma once
// A producer thread's metrics for the current second, recorded without locks
// and handed to the MetricsStore when the second is over.
#include <cstdint>

#include "metrics/Histogram.h"
#include "metrics/MetricsStore.h"

namespace kapture {

class ProducerRecorder {
 public:
  explicit ProducerRecorder(MetricsStore& store) : store_(store) {}

  Histogram latency, send_latency, schedule_lag;
  int64_t intended = 0, sent = 0, acked = 0, failed = 0, queue_full = 0, bytes = 0;
  int64_t in_flight = 0;

  // Hands over every completed second before `now_us`.
  void roll(int64_t now_us) {
    int64_t second = now_us / 1000000;
    if (second == current_) return;
    flush();
    current_ = second;
  }
  // Hands over the current second as it is (end of run).
  void flush() {
    SecondSample s;
    s.counters = {{"produce.intended", intended}, {"produce.sent", sent},           {"produce.acked", acked},
                  {"produce.failed", failed},     {"produce.queue_full", queue_full}, {"produce.bytes", bytes}};
    s.gauges = {{"produce.in_flight", static_cast<double>(in_flight)}};
    if (latency.count()) s.histograms.emplace("produce.latency", latency.compact());
    if (send_latency.count()) s.histograms.emplace("produce.send_latency", send_latency.compact());
    if (schedule_lag.count()) s.histograms.emplace("produce.schedule_lag", schedule_lag.compact());
    store_.add(current_, s);
    latency.reset();
    send_latency.reset();
    schedule_lag.reset();
    intended = sent = acked = failed = queue_full = bytes = 0;
  }

 private:
  MetricsStore& store_;
  int64_t current_ = 0;
};

}  // namespace kapture
