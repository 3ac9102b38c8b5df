#include "lua/LuaJson.h"

#include <cmath>
#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

namespace kapture {
namespace {

void append_string(std::string& out, const char* s, size_t len) {
  out.push_back('"');
  for (size_t i = 0; i < len; ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out.push_back(static_cast<char>(c));
        }
    }
  }
  out.push_back('"');
}

bool encode(lua_State* L, int index, std::string& out, std::string& error, int depth) {
  if (depth > 32) {
    error = "value nested more than 32 levels deep (a cycle?)";
    return false;
  }
  if (index < 0) index = lua_gettop(L) + index + 1;
  switch (lua_type(L, index)) {
    case LUA_TNIL: out += "null"; return true;
    case LUA_TBOOLEAN: out += lua_toboolean(L, index) ? "true" : "false"; return true;
    case LUA_TNUMBER: {
      double d = lua_tonumber(L, index);
      if (!std::isfinite(d)) {
        error = "NaN or infinity cannot be written as JSON";
        return false;
      }
      char buf[32];
      if (d == std::floor(d) && std::fabs(d) < 9.007199254740992e15)
        std::snprintf(buf, sizeof buf, "%lld", static_cast<long long>(d));
      else
        std::snprintf(buf, sizeof buf, "%.14g", d);
      out += buf;
      return true;
    }
    case LUA_TSTRING: {
      size_t len;
      const char* s = lua_tolstring(L, index, &len);
      append_string(out, s, len);
      return true;
    }
    case LUA_TTABLE: {
      size_t n = lua_objlen(L, index);
      // An array when its keys are exactly 1..n; otherwise an object.
      bool array = n > 0;
      if (array) {
        lua_pushnil(L);
        size_t keys = 0;
        while (lua_next(L, index)) {
          ++keys;
          lua_pop(L, 1);
        }
        array = keys == n;
      }
      if (array) {
        out.push_back('[');
        for (size_t i = 1; i <= n; ++i) {
          if (i > 1) out.push_back(',');
          lua_rawgeti(L, index, static_cast<int>(i));
          bool ok = encode(L, -1, out, error, depth + 1);
          lua_pop(L, 1);
          if (!ok) return false;
        }
        out.push_back(']');
        return true;
      }
      // Keys are written sorted: LuaJIT randomises string hashes per state,
      // so pairs() order differs between runs, and the same seed must give
      // byte-identical records.
      struct Key {
        std::string text;
        bool number;
        double n;
      };
      std::vector<Key> keys;
      lua_pushnil(L);
      while (lua_next(L, index)) {
        int kt = lua_type(L, -2);
        if (kt == LUA_TSTRING) {
          size_t klen;
          const char* k = lua_tolstring(L, -2, &klen);
          keys.push_back({std::string(k, klen), false, 0});
        } else if (kt == LUA_TNUMBER) {
          double n = lua_tonumber(L, -2);
          char buf[32];
          if (n == std::floor(n) && std::fabs(n) < 9.007199254740992e15) std::snprintf(buf, sizeof buf, "%lld", static_cast<long long>(n));
          else std::snprintf(buf, sizeof buf, "%.14g", n);
          keys.push_back({buf, true, n});
        } else {
          lua_pop(L, 2);
          error = "table keys must be strings or numbers to become JSON";
          return false;
        }
        lua_pop(L, 1);
      }
      std::sort(keys.begin(), keys.end(), [](const Key& a, const Key& b) { return a.text < b.text; });
      out.push_back('{');
      bool first = true;
      for (const auto& k : keys) {
        if (!first) out.push_back(',');
        first = false;
        append_string(out, k.text.data(), k.text.size());
        out.push_back(':');
        if (k.number) lua_pushnumber(L, k.n);
        else lua_pushlstring(L, k.text.data(), k.text.size());
        lua_rawget(L, index);
        bool ok = encode(L, -1, out, error, depth + 1);
        lua_pop(L, 1);
        if (!ok) return false;
      }
      out.push_back('}');
      return true;
    }
    default:
      error = std::string("a ") + lua_typename(L, lua_type(L, index)) + " cannot be written as JSON";
      return false;
  }
}

int lua_json(lua_State* L) {
  std::string out, error;
  bool ok;
  try {
    ok = encode(L, 1, out, error, 0);
  } catch (...) {
    // Never let a C++ exception cross into Lua.
    ok = false;
    error = "out of memory while encoding JSON";
  }
  if (!ok) return luaL_error(L, "kapture.json: %s", error.c_str());
  lua_pushlstring(L, out.data(), out.size());
  return 1;
}

}  // namespace

bool lua_to_json(lua_State* L, int index, std::string& out, std::string& error) {
  return encode(L, index, out, error, 0);
}

void push_json(lua_State* L, const nlohmann::json& j) {
  switch (j.type()) {
    case nlohmann::json::value_t::object:
      lua_createtable(L, 0, static_cast<int>(j.size()));
      for (auto it = j.begin(); it != j.end(); ++it) {
        push_json(L, it.value());
        lua_setfield(L, -2, it.key().c_str());
      }
      break;
    case nlohmann::json::value_t::array: {
      lua_createtable(L, static_cast<int>(j.size()), 0);
      int i = 1;
      for (const auto& v : j) {
        push_json(L, v);
        lua_rawseti(L, -2, i++);
      }
      break;
    }
    case nlohmann::json::value_t::string: {
      const auto& str = j.get_ref<const std::string&>();
      lua_pushlstring(L, str.data(), str.size());
      break;
    }
    case nlohmann::json::value_t::boolean: lua_pushboolean(L, j.get<bool>()); break;
    case nlohmann::json::value_t::number_integer:
    case nlohmann::json::value_t::number_unsigned:
    case nlohmann::json::value_t::number_float: lua_pushnumber(L, j.get<double>()); break;
    default: lua_pushnil(L); break;
  }
}

void register_lua_json(lua_State* L) {
  lua_pushcfunction(L, lua_json);
  lua_setfield(L, -2, "json");
}

}  // namespace kapture
