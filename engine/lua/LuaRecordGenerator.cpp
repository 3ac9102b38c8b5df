#include "lua/LuaRecordGenerator.h"

#include <chrono>
#include <ctime>

#include <spdlog/spdlog.h>

#include "lua/LuaJson.h"
#include "lua/LuaScript.h"

namespace kapture {
namespace {

// Where the generator function (kept at stack index 1) is defined: errors
// about what it returned point there.
SourceLocation defined_at(lua_State* L, const std::string& file) {
  lua_Debug ar;
  int line = 0;
  if (lua_isfunction(L, 1)) {
    lua_pushvalue(L, 1);
    if (lua_getinfo(L, ">S", &ar)) line = ar.linedefined;  // pops the function
  }
  return SourceLocation{file, line > 0 ? line : 0, 0};
}

}  // namespace

LuaRecordGenerator::LuaRecordGenerator(const ProducerWorkloadSpec& spec, LuaSandbox sandbox) : spec_(spec), lua_(sandbox) {}

Result<std::unique_ptr<LuaRecordGenerator>> LuaRecordGenerator::create(const ProducerWorkloadSpec& spec, const GeneratorContext& ctx,
                                                                       bool probe) {
  std::unique_ptr<LuaRecordGenerator> gen(new LuaRecordGenerator(spec, script_sandbox(spec.allow, probe)));
  ScriptContext sc{ctx.seed, ctx.worker, ctx.workers, probe, "(seq, now_ms) per record"};
  if (auto err = load_script(gen->lua_, *spec.generator, sc)) return *err;
  // The generator function stays at stack index 1 for cheap calls.
  return gen;
}

Status LuaRecordGenerator::fill_template(const FieldTemplate& t, int record_index, std::string& out) {
  lua_State* L = lua_.get();
  out.clear();
  for (const auto& part : t.parts) {
    if (!part.is_field) {
      out += part.text;
      continue;
    }
    if (lua_type(L, record_index) != LUA_TTABLE)
      return usage_error("the template '" + t.source + "' reads field '" + part.text + "', but " + spec_.generator->function +
                             "() returned a string, not a record table",
                         SourceLocation{spec_.generator->display_path, 0, 0});
    lua_pushvalue(L, record_index);
    for (const auto& seg : part.path) {
      if (lua_type(L, -1) != LUA_TTABLE) {
        lua_pop(L, 1);
        lua_pushnil(L);
        break;
      }
      lua_getfield(L, -1, seg.c_str());
      lua_remove(L, -2);
    }
    size_t len = 0;
    const char* s = (lua_type(L, -1) == LUA_TSTRING || lua_type(L, -1) == LUA_TNUMBER) ? lua_tolstring(L, -1, &len) : nullptr;
    if (!s) {
      lua_pop(L, 1);
      return usage_error("the record from " + spec_.generator->function + "() has no string or number field '" + part.text +
                             "' (needed by the template '" + t.source + "')",
                         SourceLocation{spec_.generator->display_path, 0, 0});
    }
    out.append(s, len);
    lua_pop(L, 1);
  }
  return std::nullopt;
}

Status LuaRecordGenerator::convert(int record, int key_index, GeneratedRecord& out, bool borrow) {
  lua_State* L = lua_.get();
  out.value.clear();
  out.is_borrowed = false;
  out.has_key = false;
  if (lua_type(L, record) == LUA_TSTRING) {
    size_t len;
    const char* s = lua_tolstring(L, record, &len);
    if (borrow) {
      out.borrowed = std::string_view(s, len);
      out.is_borrowed = true;
    } else {
      out.value.assign(s, len);
    }
    if (lua_type(L, key_index) == LUA_TSTRING) {
      s = lua_tolstring(L, key_index, &len);
      out.key.assign(s, len);
      out.has_key = true;
    }
  } else if (lua_type(L, record) == LUA_TTABLE) {
    json_error_.clear();
    if (!lua_to_json(L, record, out.value, json_error_))
      return usage_error("cannot encode the record from " + spec_.generator->function + "() as JSON: " + json_error_,
                         SourceLocation{spec_.generator->display_path, 0, 0});
  } else {
    return usage_error(spec_.generator->function + "() must return a record table or a string, not " +
                           std::string(lua_typename(L, lua_type(L, record))),
                       defined_at(L, spec_.generator->display_path));
  }
  // A literal topic is the same for every record: set once, not per record.
  if (!spec_.topic.has_fields()) {
    if (out.topic.size() != spec_.topic.source.size()) out.topic = spec_.topic.source;
  } else if (auto err = fill_template(spec_.topic, record, out.topic)) {
    return err;
  }
  if (!spec_.key.empty()) {
    if (auto err = fill_template(spec_.key, record, out.key)) return err;
    out.has_key = true;
  }
  return std::nullopt;
}

Status LuaRecordGenerator::next(int64_t seq, int64_t now_ms, GeneratedRecord& out) {
  lua_State* L = lua_.get();
  lua_pushvalue(L, 1);
  lua_pushnumber(L, static_cast<lua_Number>(seq));
  lua_pushnumber(L, static_cast<lua_Number>(now_ms));
  busy_since_ms_.store(coarse_steady_ms(), std::memory_order_relaxed);
  Status st = lua_.pcall(2, 2);
  busy_since_ms_.store(0, std::memory_order_relaxed);
  if (st) return st;
  int record = lua_gettop(L) - 1;
  Status result = convert(record, record + 1, out);
  lua_pop(L, 2);
  return result;
}

// The batch loop runs in Lua, filling two tables that are reused across
// calls, so a batch costs one crossing and no table per record. The values
// table keeps the batch's strings alive until the next call overwrites it,
// which is what lets convert() borrow them.
static const char kBatchLoop[] = R"(
local gen = ...
local values, keys = {}, {}
return function(n, seq, stride, now_ms)
  for i = 1, n do
    local v, k = gen(seq, now_ms)
    values[i] = v
    keys[i] = k or false
    seq = seq + stride
  end
  return values, keys
end
)";

Status LuaRecordGenerator::next_batch(int64_t seq, int64_t stride, int64_t now_ms, std::vector<GeneratedRecord>& out, size_t n) {
  lua_State* L = lua_.get();
  if (lua_gettop(L) < 2) {
    // Made on first use: trusted engine code, loaded from C (the script's
    // sandbox has no load functions).
    if (luaL_loadbuffer(L, kBatchLoop, sizeof kBatchLoop - 1, "=kapture.batch") != 0) {
      std::string msg = lua_tostring(L, -1);
      lua_pop(L, 1);
      return runtime_error("internal: " + msg);
    }
    lua_pushvalue(L, 1);
    if (auto err = lua_.pcall(1, 1)) return err;  // leaves the batch function at index 2
  }
  if (out.size() < n) out.resize(n);
  lua_pushvalue(L, 2);
  lua_pushnumber(L, static_cast<lua_Number>(n));
  lua_pushnumber(L, static_cast<lua_Number>(seq));
  lua_pushnumber(L, static_cast<lua_Number>(stride));
  lua_pushnumber(L, static_cast<lua_Number>(now_ms));
  busy_since_ms_.store(coarse_steady_ms(), std::memory_order_relaxed);
  Status st = lua_.pcall(4, 2);
  busy_since_ms_.store(0, std::memory_order_relaxed);
  if (st) return st;
  int values = lua_gettop(L) - 1, keys = lua_gettop(L);
  Status result;
  for (size_t i = 0; i < n && !result; ++i) {
    lua_rawgeti(L, values, static_cast<int>(i + 1));
    lua_rawgeti(L, keys, static_cast<int>(i + 1));
    result = convert(lua_gettop(L) - 1, lua_gettop(L), out[i], true);
    lua_pop(L, 2);
  }
  lua_pop(L, 2);
  return result;
}

Status probe_generator(const ProducerWorkloadSpec& spec, uint64_t seed) {
  auto gen = LuaRecordGenerator::create(spec, GeneratorContext{seed, 0, 1}, true);
  if (!gen) return gen.error();
  GeneratedRecord rec;
  for (int i = 0; i < 3; ++i) {
    if (auto err = (*gen)->next(i, 0, rec)) return err;
  }
  return std::nullopt;
}

}  // namespace kapture
