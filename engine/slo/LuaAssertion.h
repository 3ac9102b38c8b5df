#pragma once
// A scenario's own invariant in Lua: function(ctx) returning ok and a
// message. ctx.redis(...) runs a Redis command, ctx.sql(query) a read-only
// query (rows as tables of column -> string), ctx.metric(agg, name[, phase])
// reads the run's metrics like an expectation does.
#include <map>
#include <string>

#include "drivers/postgres/PostgresSink.h"
#include "drivers/redis/RedisSink.h"
#include "metrics/MetricsStore.h"
#include "scenario/Scenario.h"

namespace kapture {

struct LuaAssertionContext {
  RedisSink* redis = nullptr;        // null when the run has no Redis
  PostgresSink* postgres = nullptr;  // null when the run has no PostgreSQL
  const MetricsStore* metrics = nullptr;
  std::map<std::string, SecondWindow> phases;
  SecondWindow run;
};

struct LuaAssertionResult {
  bool pass = false;
  std::string message;
};

LuaAssertionResult run_lua_assertion(const GeneratorSpec& spec, const std::vector<std::string>& allow, LuaAssertionContext& ctx);

}  // namespace kapture
