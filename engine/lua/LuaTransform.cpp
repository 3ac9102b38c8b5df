#include "lua/LuaTransform.h"

#include <ctime>

#include "lua/LuaJson.h"
#include "lua/LuaScript.h"

namespace kapture {
Result<std::unique_ptr<LuaTransform>> LuaTransform::create(const GeneratorSpec& spec, const std::vector<std::string>& allow, uint64_t seed,
                                                           int worker, bool probe) {
  std::unique_ptr<LuaTransform> t(new LuaTransform(spec, script_sandbox(allow, probe)));
  ScriptContext sc{seed, worker, 1, probe, "(record) per record"};
  if (auto err = load_script(t->lua_, spec, sc)) return *err;
  return t;  // the function stays at stack index 1
}

Result<std::optional<nlohmann::json>> LuaTransform::apply(const nlohmann::json& record) {
  lua_State* L = lua_.get();
  lua_pushvalue(L, 1);
  push_json(L, record);
  busy_since_ms_.store(coarse_steady_ms(), std::memory_order_relaxed);
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
