#pragma once
// When each record of a phase is meant to be sent. Times are absolute (from
// the run's start), computed from the event index, so a slow moment never
// shifts later arrivals: the schedule is open loop, as wrk2's is.
#include <cstdint>
#include <optional>
#include <random>

#include "scenario/Scenario.h"

namespace kapture {

class ArrivalSchedule {
 public:
  ArrivalSchedule() = default;
  // This worker's share (`worker` of `workers`) of `load` over
  // [start_us, start_us + duration_us).
  ArrivalSchedule(const LoadSpec& load, int64_t start_us, int64_t duration_us, int worker, int workers, uint64_t seed);

  // The next intended send time, or nothing when the phase has no more.
  std::optional<int64_t> next();
  bool is_max() const { return load_.kind == LoadSpec::Kind::Max; }
  bool idle() const { return !is_max() && done_; }

 private:
  std::optional<int64_t> time_of(int64_t k) const;

  LoadSpec load_;
  int64_t start_us_ = 0;
  int64_t end_us_ = 0;
  int workers_ = 1;
  int64_t k_ = 0;       // next global event index (deterministic schedules)
  double poisson_t_ = 0;  // seconds since start (Poisson)
  std::mt19937_64 rng_;
  bool done_ = true;
};

}  // namespace kapture
