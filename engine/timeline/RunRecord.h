#pragma once
// What actually happened, as opposed to what the Plan said would.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/Error.h"

namespace kapture {

struct PhaseRecord {
  std::string name;
  int64_t start_us = 0;
  int64_t end_us = 0;
  std::string ended_by;  // "duration", "condition", "timeout", "interrupt", "error"
  bool ran() const { return end_us > start_us; }
};

struct InjectionRecord {
  std::string phase;
  std::string step;  // the step's name, if it has one
  std::string verb;
  std::string description;
  nlohmann::json details;
  int64_t start_us = 0;
  int64_t end_us = -1;  // -1: not undone
  std::string error;    // injection or undo failure
};

// One rate a benchmark phase tried, measured over the step minus its first second.
struct BenchmarkStep {
  double target = 0;    // records per second asked for (0 with threads: as fast as they can)
  int threads = 0;      // producer threads (a benchmark by threads)
  double achieved = 0;  // acknowledged per second
  int64_t from_s = 0, to_s = 0;
  double p50_us = 0, p99_us = 0;
  int64_t failed = 0;
  std::string broken;  // the first expectation that did not hold in this step
};

struct BenchmarkRecord {
  std::string phase;
  std::string workload;
  std::vector<BenchmarkStep> steps;
  int knee = -1;  // index of the highest good step; -1: not even the first held
  std::string stopped_because;  // "throughput stopped rising", "expectation broke: ...", "reached max"
};

struct RunRecord {
  std::vector<PhaseRecord> phases;
  std::vector<InjectionRecord> injections;
  std::vector<BenchmarkRecord> benchmarks;
  int64_t end_us = 0;
  bool interrupted = false;
  std::optional<Error> error;  // what stopped the run early
  // An `abort: true` expectation that stopped the run: its index in the
  // scenario's expectations and its outcome when it was violated.
  struct Abort {
    size_t expectation = 0;
    int64_t at_us = 0;
    double measured = 0;
    double threshold = 0;
    std::string note;
  };
  std::optional<Abort> aborted;
  int64_t start_wall_ms = 0;
};

}  // namespace kapture
