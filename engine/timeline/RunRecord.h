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
  std::string verb;
  std::string description;
  nlohmann::json details;
  int64_t start_us = 0;
  int64_t end_us = -1;  // -1: not undone
  std::string error;    // injection or undo failure
};

struct RunRecord {
  std::vector<PhaseRecord> phases;
  std::vector<InjectionRecord> injections;
  int64_t end_us = 0;
  bool interrupted = false;
  std::optional<Error> error;  // what stopped the run early
  int64_t start_wall_ms = 0;
};

}  // namespace kapture
