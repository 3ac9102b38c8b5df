#pragma once
// A scenario with nothing left to chance: every random choice made from the
// seed, every step at its offset. Same scenario + seed + overrides = same Plan.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "chaos/ChaosAction.h"
#include "scenario/Scenario.h"

namespace kapture {

struct PlannedInjection {
  int64_t offset_us = 0;  // from the start of its phase
  int64_t for_us = 0;
  ChaosAction action;
  SourceLocation where;   // the step that asked for it
  std::string step_name;  // the step's `name`, if it has one
};

struct PlannedPhase {
  std::string name;
  int64_t nominal_start_us = 0;  // if every earlier phase runs to its full length
  int64_t duration_us = 0;       // the timeout for `until` phases
  std::vector<const SloExpression*> until;  // all must hold; empty: runs its duration
  std::map<std::string, LoadSpec> loads;  // every workload, carried over when a phase does not name it
  std::vector<PlannedInjection> injections;
  const BenchmarkSpec* benchmark = nullptr;  // a benchmark phase
};

struct Plan {
  const Scenario* scenario = nullptr;
  uint64_t seed = 0;
  std::string target;
  std::vector<PlannedPhase> phases;
  int64_t total_us = 0;  // longest possible run
};

Plan resolve_plan(const Scenario& scenario, const std::string& target_name);

// Records the arrival schedules would ask for, per workload, if every phase
// ran its full length ("max" phases count as unknown: -1).
std::map<std::string, int64_t> expected_records(const Plan& plan);

std::string describe_load(const LoadSpec& l);
std::string format_plan(const Plan& plan);
nlohmann::json plan_to_json(const Plan& plan);

}  // namespace kapture
