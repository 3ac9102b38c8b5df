#include "lua/LuaScript.h"

#include <ctime>

#include <spdlog/spdlog.h>

#include "lua/LuaJson.h"

namespace kapture {
namespace {

// Validation probes run every script once more; their logs would repeat the
// run's, so they go to debug.
bool probing(lua_State* L) {
  lua_getfield(L, LUA_REGISTRYINDEX, "kapture.probe");
  bool p = lua_toboolean(L, -1);
  lua_pop(L, 1);
  return p;
}

int lua_log(lua_State* L) {
  size_t len = 0;
  const char* msg = luaL_checklstring(L, 1, &len);
  if (probing(L)) return 0;
  lua_Debug ar;
  std::string where = "lua";
  if (lua_getstack(L, 1, &ar) && lua_getinfo(L, "Sl", &ar)) where = std::string(ar.short_src) + ":" + std::to_string(ar.currentline);
  spdlog::info("{}: {}", where, std::string_view(msg, len));
  return 0;
}

// print() goes to the engine's log rather than interleaving with stdout.
int lua_print(lua_State* L) {
  int n = lua_gettop(L);
  if (probing(L)) return 0;
  std::string line;
  for (int i = 1; i <= n; ++i) {
    lua_getglobal(L, "tostring");
    lua_pushvalue(L, i);
    lua_call(L, 1, 1);
    if (i > 1) line += '\t';
    if (const char* s = lua_tostring(L, -1)) line += s;
    lua_pop(L, 1);
  }
  spdlog::info("lua: {}", line);
  return 0;
}

}  // namespace

int64_t coarse_steady_ms() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

LuaSandbox script_sandbox(const std::vector<std::string>& allow, bool probe) {
  LuaSandbox sandbox;
  sandbox.allow = allow;
  if (probe) {
    sandbox.jit = false;
    sandbox.instruction_limit = 10'000'000;
  }
  return sandbox;
}

Status load_script(LuaState& lua, const GeneratorSpec& spec, const ScriptContext& ctx) {
  lua_State* L = lua.get();
  if (!L) return runtime_error("cannot create a Lua state (out of memory)");
  lua_pushboolean(L, ctx.probe);
  lua_setfield(L, LUA_REGISTRYINDEX, "kapture.probe");
  lua_newtable(L);
  lua_pushnumber(L, static_cast<lua_Number>(ctx.seed));
  lua_setfield(L, -2, "seed");
  lua_pushinteger(L, ctx.worker);
  lua_setfield(L, -2, "worker");
  lua_pushinteger(L, ctx.workers);
  lua_setfield(L, -2, "workers");
  lua_pushcfunction(L, lua_log);
  lua_setfield(L, -2, "log");
  register_lua_json(L);
  lua_setglobal(L, "kapture");
  lua_pushcfunction(L, lua_print);
  lua_setglobal(L, "print");
  lua_getglobal(L, "math");
  lua_getfield(L, -1, "randomseed");
  // Each worker gets its own stream, derived from the one scenario seed.
  lua_pushnumber(L, static_cast<lua_Number>((ctx.seed * 1000003u + static_cast<uint64_t>(ctx.worker) * 7919u) % 2147483647u));
  lua_call(L, 1, 0);
  lua_pop(L, 1);
  if (auto err = lua.run_file(spec.lua_path, spec.display_path)) return err;
  lua_getglobal(L, "init");
  if (lua_isfunction(L, -1)) {
    push_json(L, spec.params.is_null() ? nlohmann::json::object() : spec.params);
    if (auto err = lua.pcall(1, 0)) return err;
  } else {
    lua_pop(L, 1);
  }
  lua_getglobal(L, spec.function.c_str());
  if (!lua_isfunction(L, -1)) {
    lua_pop(L, 1);
    return usage_error("the script defines no function '" + spec.function + "' (called as " + spec.function + ctx.calls + ")",
                       SourceLocation{spec.display_path, 0, 0});
  }
  return std::nullopt;  // the function stays at stack index 1
}

}  // namespace kapture
