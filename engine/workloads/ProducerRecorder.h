#pragma once
// A producer thread's per-second metrics (see SecondRecorder).
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "metrics/Histogram.h"
#include "metrics/SecondRecorder.h"

namespace kapture {

class ProducerRecorder : public SecondRecorder {
 public:
  using SecondRecorder::SecondRecorder;

  Histogram latency, send_latency, schedule_lag;
  Histogram record_bytes;  // the value size of each acknowledged record
  int64_t intended = 0, sent = 0, acked = 0, failed = 0, queue_full = 0, bytes = 0;
  int64_t retries = 0, client_errors = 0, producer_restarts = 0;
  int64_t in_flight = 0;  // a gauge: not cleared

  // The same per topic, as labelled series (produce.latency{topic="a"}) for
  // expectations' label filters and /metrics. Indexed by topic_series().
  struct TopicSeries {
    std::string latency_name, acked_name, failed_name, bytes_name;
    Histogram latency;
    int64_t acked = 0, failed = 0, bytes = 0;
  };
  std::vector<std::unique_ptr<TopicSeries>> topics;
  size_t topic_series(const std::string& topic) {
    std::string label = "{topic=\"" + topic + "\"}";
    for (size_t i = 0; i < topics.size(); ++i)
      if (topics[i]->acked_name == "produce.acked" + label) return i;
    auto t = std::make_unique<TopicSeries>();
    t->latency_name = "produce.latency" + label;
    t->acked_name = "produce.acked" + label;
    t->failed_name = "produce.failed" + label;
    t->bytes_name = "produce.bytes" + label;
    topics.push_back(std::move(t));
    return topics.size() - 1;
  }
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
    put(s, "produce.record_bytes", record_bytes);
    for (const auto& t : topics) {
      s.counters[t->acked_name] = t->acked;
      s.counters[t->failed_name] = t->failed;
      s.counters[t->bytes_name] = t->bytes;
      put(s, t->latency_name.c_str(), t->latency);
    }
  }
  void clear() override {
    acked_total_.fetch_add(acked, std::memory_order_relaxed);
    latency.reset();
    send_latency.reset();
    schedule_lag.reset();
    if (record_bytes.count()) record_bytes.reset();
    intended = sent = acked = failed = queue_full = bytes = retries = client_errors = producer_restarts = 0;
    for (auto& t : topics) {
      if (t->latency.count()) t->latency.reset();
      t->acked = t->failed = t->bytes = 0;
    }
  }

 private:
  std::atomic<int64_t> acked_total_{0};
};

}  // namespace kapture
