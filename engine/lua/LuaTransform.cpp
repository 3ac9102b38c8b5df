#include "lua/LuaTransform.h"

#include <ctime>

#include "lua/LuaJson.h"

namespace kapture {
namespace {

int64_t coarse_ms() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

}  // namespace

Result<std::unique_ptr<LuaTransform>> LuaTransform::create(const GeneratorSpec& spec, const std::vector<std::string>& allow, uint64_t seed,
                                                           int worker, bool probe) {
  LuaSandbox sandbox;
  sandbox.allow = allow;
  if (probe) {
    sandbox.jit = false;
    sandbox.instruction_limit = 10'000'000;
  }
  std::unique_ptr<LuaTransform> t(new LuaTransform(spec, sandbox));
  lua_State* L = t->lua_.get();
  if (!L) return runtime_error("cannot create a Lua state (out of memory)");
  lua_newtable(L);
  lua_pushnumber(L, static_cast<lua_Number>(seed));
  lua_setfield(L, -2, "seed");
  lua_pushinteger(L, worker);
  lua_setfield(L, -2, "worker");
  register_lua_json(L);
  lua_setglobal(L, "kapture");
  lua_getglobal(L, "math");
  lua_getfield(L, -1, "randomseed");
  lua_pushnumber(L, static_cast<lua_Number>((seed * 7919u + static_cast<uint64_t>(worker)) % 2147483647u));
  lua_call(L, 1, 0);
  lua_pop(L, 1);
  if (auto err = t->lua_.run_file(spec.lua_path, spec.display_path)) return *err;
  lua_getglobal(L, "init");
  if (lua_isfunction(L, -1)) {
    push_json(L, spec.params.is_null() ? nlohmann::json::object() : spec.params);
    if (auto err = t->lua_.pcall(1, 0)) return *err;
  } else {
    lua_pop(L, 1);
  }
  lua_getglobal(L, spec.function.c_str());
  if (!lua_isfunction(L, -1)) {
    lua_pop(L, 1);
    return usage_error("the script defines no function '" + spec.function + "' (the ETL calls " + spec.function + "(record) per record)",
                       SourceLocation{spec.display_path, 0, 0});
  }
  return t;  // the function stays at stack index 1
}

Result<std::optional<nlohmann::json>> LuaTransform::apply(const nlohmann::json& record) {
  lua_State* L = lua_.get();
  lua_pushvalue(L, 1);
  push_json(L, record);
  busy_since_ms_.store(coarse_ms(), std::memory_order_relaxed);
  Status st = lua_.pcall(1, 1);
  busy_since_ms_.store(0, std::memory_order_relaxed);
  if (st) return *st;
  std::optional<nlohmann::json> out;
  if (lua_type(L, -1) == LUA_TTABLE) {
    std::string text, error;
    if (!lua_to_json(L, -1, text, error)) {
      lua_pop(L, 1);
      return usage_error(spec_.function + "() returned a record that is not JSON: " + error, SourceLocation{spec_.display_path, 0, 0});
    }
    out = nlohmann::json::parse(text, nullptr, false);
  } else if (lua_type(L, -1) != LUA_TNIL) {
    std::string type = lua_typename(L, lua_type(L, -1));
    lua_pop(L, 1);
    return usage_error(spec_.function + "() must return a record table or nil (to drop it), not " + type,
                       SourceLocation{spec_.display_path, 0, 0});
  }
  lua_pop(L, 1);
  return out;
}

Status probe_transform(const GeneratorSpec& spec, const std::vector<std::string>& allow, uint64_t seed) {
  auto t = LuaTransform::create(spec, allow, seed, 0, true);
  if (!t) return t.error();
  nlohmann::json sample = {{"id", "tx-0-0"}, {"created_ms", 0}, {"products", nlohmann::json::array()}};
  auto r = (*t)->apply(sample);
  if (!r) return r.error();
  return std::nullopt;
}

}  // namespace kapture
