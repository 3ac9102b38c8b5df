#pragma once
// A producer thread's per-second metrics (see SecondRecorder).
#include <atomic>
#include <cstdint>

#include "metrics/Histogram.h"
#include "metrics/SecondRecorder.h"

namespace kapture {

class ProducerRecorder : public SecondRecorder {
 public:
  using SecondRecorder::SecondRecorder;

  Histogram latency, send_latency, schedule_lag;
  int64_t intended = 0, sent = 0, acked = 0, failed = 0, queue_full = 0, bytes = 0;
  int64_t retries = 0, client_errors = 0, producer_restarts = 0;
  int64_t in_flight = 0;  // a gauge: not cleared
  // Acknowledged since the start, updated once a second: readable from
  // other threads (a scale step waiting for a new rate to show).
  int64_t acked_total() const { return acked_total_.load(std::memory_order_relaxed); }

 protected:
  void fill(SecondSample& s) const override {
    s.counters = {{"produce.intended", intended}, {"produce.sent", sent},           {"produce.acked", acked},
                  {"produce.failed", failed},     {"produce.queue_full", queue_full}, {"produce.bytes", bytes},
                  {"produce.retries", retries},   {"produce.client_errors", client_errors},
                  {"produce.producer_restarts", producer_restarts}};
    s.gauges = {{"produce.in_flight", static_cast<double>(in_flight)}};
    put(s, "produce.latency", latency);
    put(s, "produce.send_latency", send_latency);
    put(s, "produce.schedule_lag", schedule_lag);
  }
  void clear() override {
    acked_total_.fetch_add(acked, std::memory_order_relaxed);
    latency.reset();
    send_latency.reset();
    schedule_lag.reset();
    intended = sent = acked = failed = queue_full = bytes = retries = client_errors = producer_restarts = 0;
  }

 private:
  std::atomic<int64_t> acked_total_{0};
};

}  // namespace kapture
