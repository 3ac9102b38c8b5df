#pragma once
// An ETL consumer thread's per-second metrics (see SecondRecorder).
#include <cstdint>

#include "metrics/Histogram.h"
#include "metrics/SecondRecorder.h"

namespace kapture {

class EtlRecorder : public SecondRecorder {
 public:
  using SecondRecorder::SecondRecorder;

  Histogram latency, redis_write, postgres_write, batch_size;
  int64_t consumed = 0, written = 0, redelivered = 0, filtered = 0, dead_letter = 0, sink_errors = 0, rebalances = 0,
          commits = 0, redis_written = 0, postgres_written = 0;

 protected:
  void fill(SecondSample& s) const override {
    s.counters = {{"etl.consumed", consumed},       {"etl.written", written},         {"etl.redelivered", redelivered},
                  {"etl.filtered", filtered},       {"etl.dead_letter", dead_letter}, {"etl.sink_errors", sink_errors},
                  {"etl.rebalances", rebalances},   {"etl.commits", commits},         {"etl.redis.written", redis_written},
                  {"etl.postgres.written", postgres_written}};
    put(s, "etl.latency", latency);
    put(s, "etl.redis.write_latency", redis_write);
    put(s, "etl.postgres.write_latency", postgres_write);
    put(s, "etl.batch_size", batch_size);
  }
  void clear() override {
    latency.reset();
    redis_write.reset();
    postgres_write.reset();
    batch_size.reset();
    consumed = written = redelivered = filtered = dead_letter = sink_errors = rebalances = commits = redis_written = postgres_written = 0;
  }
};

}  // namespace kapture
