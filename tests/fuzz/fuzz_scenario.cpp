// libFuzzer: the scenario loader, from YAML syntax through the schema rules to
// the semantic checks (phases, steps, expectations, file references). The
// base directory is the repository, so `lua:` and `body_file:` paths of the
// shipped scenarios resolve as they do in `validate`. Loading only reads: it
// looks files up and reads `body_file`s, and never writes one, runs Lua or
// starts a process (only the parsing sources are linked in: tests/fuzz/CMakeLists.txt).
#include <cstddef>
#include <cstdint>
#include <string>

#include "scenario/ScenarioLoader.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  kapture::LoadOutcome out = kapture::load_scenario_text(text, "fuzz.yaml", KAPTURE_SOURCE_DIR, {});
  for (const auto& e : out.errors) (void)e.describe();
  // A scenario loads, or the loader says why not: never both, never neither.
  if (out.scenario.has_value() != out.errors.empty()) __builtin_trap();
  return 0;
}
