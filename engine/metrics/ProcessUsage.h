#pragma once
// The engine's own CPU and memory, sampled once a second into the gauges
// engine.cpu_percent and engine.rss_bytes: a load generator that runs out of
// CPU measures itself, and the report should show it.
#include <cstdint>
#include <optional>

namespace kapture {

struct ProcessSample {
  double cpu_percent = 0;  // since the previous sample; 100 = one core
  double rss_bytes = 0;
};

class ProcessUsage {
 public:
  // Nothing on the first call (no interval yet) or where /proc is missing.
  std::optional<ProcessSample> sample(int64_t now_us);

 private:
  int64_t last_us_ = -1;
  double last_cpu_s_ = 0;
};

}  // namespace kapture
