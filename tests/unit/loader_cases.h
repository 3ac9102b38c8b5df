#pragma once
// Helpers for the loader tests: a base scenario text varied one piece at a
// time, loaded as "bad.yaml", and the error each variant must give.
#include <doctest/doctest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "scenario/ScenarioLoader.h"

namespace loader_test {

inline const std::string kRoot = KAPTURE_TEST_DATA;
inline const std::string kUnitDir = kRoot + "/tests/unit";

// `base` with `from` (which must occur exactly once) replaced by `to`.
inline std::string with(const std::string& from, const std::string& to, const std::string& base) {
  size_t pos = base.find(from);
  REQUIRE_MESSAGE(pos != std::string::npos, "'" << from << "' is not in the base scenario");
  REQUIRE_MESSAGE(base.find(from, pos + 1) == std::string::npos, "'" << from << "' occurs twice");
  std::string out = base;
  out.replace(pos, from.size(), to);
  return out;
}

inline kapture::LoadOutcome load(const std::string& text, const std::vector<kapture::Override>& overrides = {}) {
  return kapture::load_scenario_text(text, "bad.yaml", kUnitDir, overrides);
}

inline std::string all_errors(const kapture::LoadOutcome& o) {
  std::string s;
  for (const auto& e : o.errors) s += "  " + e.describe() + "\n";
  return s;
}

// The text must fail to load with an error that starts with `prefix`
// ("bad.yaml:L:C: ") and contains `phrase`.
inline void expect_error(const std::string& text, const std::string& prefix, const std::string& phrase) {
  kapture::LoadOutcome o = load(text);
  INFO("errors:\n" << all_errors(o));
  CHECK_FALSE(o.scenario.has_value());
  REQUIRE_FALSE(o.errors.empty());
  auto it = std::find_if(o.errors.begin(), o.errors.end(),
                         [&](const kapture::Error& e) { return e.describe().find(phrase) != std::string::npos; });
  REQUIRE_MESSAGE(it != o.errors.end(), "no error mentions \"" << phrase << "\"");
  std::string d = it->describe();
  CHECK_MESSAGE(d.rfind(prefix, 0) == 0, "'" << d << "' does not start with '" << prefix << "'");
  CHECK(it->kind == kapture::ErrorKind::Usage);
}

}  // namespace loader_test
