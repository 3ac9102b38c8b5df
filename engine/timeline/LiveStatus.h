#pragma once
// Where a running timeline is, for whoever shows it while it runs (the
// console status line, /metrics). The executor writes it about once a second;
// readers copy it out under the lock.
#include <cstdint>
#include <map>
#include <mutex>
#include <string>

namespace kapture {

struct LiveSnapshot {
  std::string phase;           // empty before the first phase and after the last
  int phase_index = -1;        // 0-based, -1 outside the timeline
  int64_t elapsed_us = 0;      // since the timeline started
  int64_t planned_us = 0;      // the whole timeline as planned (phases may end early)
  int64_t phase_elapsed_us = 0;
  int64_t phase_planned_us = 0;
  std::string next_step;       // "broker-kill random in 12s", empty when none is left
  std::map<std::string, double> target_rates;  // per workload, records/s (0: max or idle)
  int expectations_failing = 0;  // continuous checks currently violated
  bool aborted = false;
};

class LiveStatus {
 public:
  void set(LiveSnapshot s) {
    std::lock_guard lock(mu_);
    snap_ = std::move(s);
  }
  LiveSnapshot get() const {
    std::lock_guard lock(mu_);
    return snap_;
  }

 private:
  mutable std::mutex mu_;
  LiveSnapshot snap_;
};

}  // namespace kapture
