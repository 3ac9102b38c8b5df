#pragma once
// YAML -> Scenario. Every problem is reported as file:line:column with a
// message; loading never throws and never runs anything.
#include <string>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "common/Error.h"
#include "scenario/Scenario.h"

namespace kapture {

struct Override {
  std::string path;   // "timeline.steady.duration", "workloads.transactions.threads"
  std::string value;  // parsed as YAML: "5s", "3", "{rate: 10/s}"
};

Result<Override> parse_override(const std::string& text);  // "path=value"

// Applies --set overrides to the YAML tree before it is typed.
Status apply_overrides(YAML::Node& root, const std::vector<Override>& overrides);

struct LoadOutcome {
  std::optional<Scenario> scenario;
  std::vector<Error> errors;  // all problems found, in file order
};

LoadOutcome load_scenario_file(const std::string& path, const std::vector<Override>& overrides = {});
// `display_name` is what messages call the document (tests use inline YAML).
LoadOutcome load_scenario_text(const std::string& text, const std::string& display_name,
                               const std::string& base_dir, const std::vector<Override>& overrides = {});

// Closest candidate by edit distance, or "" when nothing is close.
std::string did_you_mean(const std::string& word, const std::vector<std::string>& candidates);

}  // namespace kapture
