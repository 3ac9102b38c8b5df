#pragma once
// An ETL consumer thread's metrics for the current second, handed to the
// MetricsStore when the second is over (same scheme as ProducerRecorder).
#include <cstdint>

#include "metrics/Histogram.h"
#include "metrics/MetricsStore.h"

namespace kapture {

class EtlRecorder {
 public:
  explicit EtlRecorder(MetricsStore& store) : store_(store) {}

  Histogram latency, redis_write, postgres_write, batch_size;
  int64_t consumed = 0, written = 0, redelivered = 0, filtered = 0, dead_letter = 0, sink_errors = 0, rebalances = 0,
          commits = 0, redis_written = 0, postgres_written = 0;

  void roll(int64_t now_us) {
    int64_t second = now_us / 1000000;
    if (second == current_) return;
    flush();
    current_ = second;
  }
  void flush() {
    SecondSample s;
    s.counters = {{"etl.consumed", consumed},       {"etl.written", written},         {"etl.redelivered", redelivered},
                  {"etl.filtered", filtered},       {"etl.dead_letter", dead_letter}, {"etl.sink_errors", sink_errors},
                  {"etl.rebalances", rebalances},   {"etl.commits", commits},         {"etl.redis.written", redis_written},
                  {"etl.postgres.written", postgres_written}};
    if (latency.count()) s.histograms.emplace("etl.latency", latency.compact());
    if (redis_write.count()) s.histograms.emplace("etl.redis.write_latency", redis_write.compact());
    if (postgres_write.count()) s.histograms.emplace("etl.postgres.write_latency", postgres_write.compact());
    if (batch_size.count()) s.histograms.emplace("etl.batch_size", batch_size.compact());
    store_.add(current_, s);
    latency.reset();
    redis_write.reset();
    postgres_write.reset();
    batch_size.reset();
    consumed = written = redelivered = filtered = dead_letter = sink_errors = rebalances = commits = redis_written = postgres_written = 0;
  }

 private:
  MetricsStore& store_;
  int64_t current_ = 0;
};

}  // namespace kapture
