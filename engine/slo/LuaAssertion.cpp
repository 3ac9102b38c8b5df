#include "slo/LuaAssertion.h"

#include "lua/LuaJson.h"
#include "lua/LuaState.h"
#include "slo/MetricsSloData.h"
#include "slo/SloExpression.h"

namespace kapture {
namespace {

LuaAssertionContext* context_of(lua_State* L) {
  return static_cast<LuaAssertionContext*>(lua_touserdata(L, lua_upvalueindex(1)));
}

// Errors are raised after every C++ object is gone: no exception and no
// destructor is skipped across the Lua boundary.
int raise(lua_State* L, const std::string& message) {
  lua_pushlstring(L, message.data(), message.size());
  return lua_error(L);
}

int lua_redis(lua_State* L) {
  std::string error;
  {
    LuaAssertionContext* ctx = context_of(L);
    if (!ctx->redis) {
      error = "ctx.redis: this run has no Redis";
    } else {
      std::vector<std::string> argv;
      for (int i = 1; i <= lua_gettop(L); ++i) {
        size_t len;
        const char* s = lua_tolstring(L, i, &len);
        if (!s) {
          error = "ctx.redis: arguments must be strings or numbers";
          break;
        }
        argv.emplace_back(s, len);
      }
      if (error.empty()) {
        auto reply = ctx->redis->command(argv);
        if (!reply) error = "ctx.redis: " + reply.error().message;
        else {
          push_json(L, *reply);
          return 1;
        }
      }
    }
  }
  return raise(L, error);
}

int lua_sql(lua_State* L) {
  std::string error;
  {
    LuaAssertionContext* ctx = context_of(L);
    const char* q = lua_tostring(L, 1);
    if (!ctx->postgres) error = "ctx.sql: this run has no PostgreSQL";
    else if (!q) error = "ctx.sql: expects a query string";
    else {
      auto rows = ctx->postgres->query(q);
      if (!rows) error = "ctx.sql: " + rows.error().message;
      else {
        push_json(L, *rows);
        return 1;
      }
    }
  }
  return raise(L, error);
}

int lua_metric(lua_State* L) {
  std::string error;
  {
    LuaAssertionContext* ctx = context_of(L);
    const char* agg = lua_tostring(L, 1);
    const char* name = lua_tostring(L, 2);
    const char* phase = lua_tostring(L, 3);
    if (!agg || !name) {
      error = "ctx.metric: expects (aggregate, metric[, phase]), e.g. ctx.metric('p99', 'produce.latency', 'steady')";
    } else {
      // Reuse the expectation grammar so aggregates mean the same thing.
      std::string text = std::string(agg) + "(" + name + ") == 0";
      auto e = parse_slo(text);
      if (!e) {
        error = "ctx.metric: " + e.error().message;
      } else {
        MetricsSloData data(*ctx->metrics, ctx->phases, ctx->run);
        double v = 0;
        if (!data.aggregate(e->nodes[e->lhs], phase ? phase : "", v)) lua_pushnil(L);
        else lua_pushnumber(L, v);
        return 1;
      }
    }
  }
  return raise(L, error);
}

}  // namespace

LuaAssertionResult run_lua_assertion(const GeneratorSpec& spec, const std::vector<std::string>& allow, LuaAssertionContext& ctx) {
  LuaSandbox sandbox;
  sandbox.allow = allow;
  LuaState lua(sandbox);
  lua_State* L = lua.get();
  if (!L) return {false, "cannot create a Lua state"};
  if (auto err = lua.run_file(spec.lua_path, spec.display_path)) return {false, err->describe()};
  lua_getglobal(L, spec.function.c_str());
  if (!lua_isfunction(L, -1)) return {false, spec.display_path + ": defines no function '" + spec.function + "'"};
  lua_newtable(L);
  const std::pair<const char*, lua_CFunction> functions[] = {{"redis", lua_redis}, {"sql", lua_sql}, {"metric", lua_metric}};
  for (const auto& [name, fn] : functions) {
    lua_pushlightuserdata(L, &ctx);
    lua_pushcclosure(L, fn, 1);
    lua_setfield(L, -2, name);
  }
  push_json(L, spec.params.is_null() ? nlohmann::json::object() : spec.params);
  lua_setfield(L, -2, "params");
  if (auto err = lua.pcall(1, 2)) return {false, err->describe()};
  LuaAssertionResult r;
  r.pass = lua_toboolean(L, -2);
  if (const char* m = lua_tostring(L, -1)) r.message = m;
  lua_pop(L, 2);
  return r;
}

}  // namespace kapture
