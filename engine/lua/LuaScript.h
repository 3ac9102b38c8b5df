#pragma once
// What every scenario script gets before its top level runs, and how it is
// loaded: the `kapture` table (seed, worker, workers, log, json), print() to
// the engine log, math.random seeded per worker from the scenario seed, then
// the file, init(params), and the named function left at stack index 1 for
// cheap calls. Shared by generators and transforms.
#include <cstdint>
#include <string>

#include "lua/LuaState.h"
#include "scenario/Scenario.h"

namespace kapture {

struct ScriptContext {
  uint64_t seed = 0;
  int worker = 0;
  int workers = 1;
  bool probe = false;   // validation run: logs go quiet
  std::string calls;    // for the "no such function" message, e.g. "(seq, now_ms) per record"
};

// The sandbox for a script of a workload: the JIT off and an instruction
// budget when probing (count hooks do not fire inside compiled traces).
LuaSandbox script_sandbox(const std::vector<std::string>& allow, bool probe);

Status load_script(LuaState& lua, const GeneratorSpec& spec, const ScriptContext& ctx);

// Milliseconds on the coarse monotonic clock: what scripts' busy_since marks
// and the runaway watchdog compare. Read twice per Lua call, so it must be
// cheap (a few ns, where the precise clock costs tens).
int64_t coarse_steady_ms();

}  // namespace kapture
