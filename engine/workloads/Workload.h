#pragma once
// What the timeline executor sees of a workload: start, re-rate per phase,
// stop. Workloads own their threads and report into the MetricsStore.
#include <cstdint>
#include <optional>
#include <string>

#include "common/Error.h"
#include "scenario/Scenario.h"

namespace kapture {

class Workload {
 public:
  virtual ~Workload() = default;
  virtual const std::string& name() const = 0;
  virtual Status start() = 0;
  // From run offset `start_us`, load as `load` for at most `duration_us`.
  virtual void set_load(const LoadSpec& load, int64_t start_us, int64_t duration_us) = 0;
  // Stops sending, waits up to `drain_ms` for deliveries, records the rest as failed.
  virtual void stop(int drain_ms) = 0;
  // A fatal error in a worker (Lua error, bad topic), if any.
  virtual std::optional<Error> failure() const = 0;
  // How long the longest-running current Lua call has been running (ms), 0 if none.
  virtual int64_t stuck_in_lua_ms() const = 0;
};

}  // namespace kapture
