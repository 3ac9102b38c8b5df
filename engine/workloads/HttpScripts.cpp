#include "workloads/HttpScripts.h"

#include "lua/LuaJson.h"
#include "lua/LuaScript.h"

namespace kapture {

std::string url_origin(const std::string& url) {
  size_t scheme = url.find("://");
  if (scheme == std::string::npos) return url;
  size_t path = url.find_first_of("/?#", scheme + 3);
  return path == std::string::npos ? url : url.substr(0, path);
}

Result<std::unique_ptr<HttpScript>> HttpScript::create(const GeneratorSpec& spec, const std::vector<std::string>& allow, uint64_t seed,
                                                       int worker, int workers, const char* calls, bool probe) {
  std::unique_ptr<HttpScript> s(new HttpScript(spec, script_sandbox(allow, probe)));
  ScriptContext sc{seed, worker, workers, probe, calls};
  if (auto err = load_script(s->lua_, spec, sc)) return *err;
  return s;  // the function stays at stack index 1
}

Error HttpScript::script_error(const std::string& message) const {
  return usage_error(message, SourceLocation{spec_.display_path, 0, 0});
}

namespace {

// A string field of the table at `index`, if present.
bool string_field(lua_State* L, int index, const char* name, std::string& out, bool& wrong_type) {
  lua_getfield(L, index, name);
  bool found = false;
  if (lua_type(L, -1) == LUA_TSTRING || lua_type(L, -1) == LUA_TNUMBER) {
    size_t len = 0;
    const char* s = lua_tolstring(L, -1, &len);
    out.assign(s, len);
    found = true;
  } else if (!lua_isnil(L, -1)) {
    wrong_type = true;
  }
  lua_pop(L, 1);
  return found;
}

}  // namespace

Status HttpScript::build_request(int64_t seq, int64_t now_ms, const HttpWorkloadSpec& spec, const std::string& origin, HttpRequest& out) {
  lua_State* L = lua_.get();
  lua_pushvalue(L, 1);
  lua_pushnumber(L, static_cast<lua_Number>(seq));
  lua_pushnumber(L, static_cast<lua_Number>(now_ms));
  busy_since_ms_.store(coarse_steady_ms(), std::memory_order_relaxed);
  Status st = lua_.pcall(2, 1);
  busy_since_ms_.store(0, std::memory_order_relaxed);
  if (st) return st;
  const std::string fn = spec_.function + "()";
  out.method = spec.method;
  out.url = spec.url;
  out.body = spec.body;
  std::map<std::string, std::string> headers = spec.headers;
  int top = lua_gettop(L);
  Status result;
  if (lua_type(L, top) == LUA_TSTRING) {
    size_t len = 0;
    const char* s = lua_tolstring(L, top, &len);
    out.body.assign(s, len);
  } else if (lua_type(L, top) == LUA_TTABLE) {
    bool wrong = false;
    std::string v;
    if (string_field(L, top, "method", v, wrong)) out.method = v;
    if (wrong) result = script_error(fn + " returned a method that is not a string");
    if (!result && string_field(L, top, "url", v, wrong)) out.url = v;
    if (!result && string_field(L, top, "path", v, wrong)) out.url = origin + (v.empty() || v[0] != '/' ? "/" : "") + v;
    if (!result && wrong) result = script_error(fn + " returned a url or path that is not a string");
    if (!result) {
      lua_getfield(L, top, "body");
      if (lua_type(L, -1) == LUA_TSTRING) {
        size_t len = 0;
        const char* s = lua_tolstring(L, -1, &len);
        out.body.assign(s, len);
      } else if (lua_type(L, -1) == LUA_TTABLE) {
        // A table body goes as JSON.
        std::string err;
        out.body.clear();
        if (!lua_to_json(L, lua_gettop(L), out.body, err)) result = script_error("cannot encode the body from " + fn + " as JSON: " + err);
        if (!headers.count("Content-Type")) headers["Content-Type"] = "application/json";
      } else if (!lua_isnil(L, -1)) {
        result = script_error(fn + " returned a body that is neither a string nor a table");
      }
      lua_pop(L, 1);
    }
    if (!result) {
      lua_getfield(L, top, "headers");
      if (lua_type(L, -1) == LUA_TTABLE) {
        int h = lua_gettop(L);
        lua_pushnil(L);
        while (lua_next(L, h) != 0) {
          if (lua_type(L, -2) == LUA_TSTRING && (lua_type(L, -1) == LUA_TSTRING || lua_type(L, -1) == LUA_TNUMBER)) {
            lua_pushvalue(L, -1);  // tolstring on a copy: never convert a key in place during lua_next
            headers[lua_tostring(L, -3)] = lua_tostring(L, -1);
            lua_pop(L, 1);
          } else if (!result) {
            result = script_error(fn + " returned headers that are not a table of names to strings");
          }
          lua_pop(L, 1);
        }
      } else if (!lua_isnil(L, -1)) {
        result = script_error(fn + " returned headers that are not a table");
      }
      lua_pop(L, 1);
    }
  } else {
    result = script_error(fn + " must return a request table {method, path or url, headers, body} or a string (the body), not " +
                          std::string(lua_typename(L, lua_type(L, top))));
  }
  lua_settop(L, top - 1);
  out.headers.clear();
  for (const auto& [k, v] : headers) out.headers.push_back(k + ": " + v);
  return result;
}

Result<std::pair<bool, std::string>> HttpScript::check_response(long status, const std::map<std::string, std::string>& headers,
                                                                const std::string& body) {
  lua_State* L = lua_.get();
  int base = lua_gettop(L);
  lua_pushvalue(L, 1);
  lua_pushinteger(L, static_cast<lua_Integer>(status));
  lua_createtable(L, 0, static_cast<int>(headers.size()));
  for (const auto& [k, v] : headers) {
    lua_pushlstring(L, v.data(), v.size());
    lua_setfield(L, -2, k.c_str());
  }
  lua_pushlstring(L, body.data(), body.size());
  busy_since_ms_.store(coarse_steady_ms(), std::memory_order_relaxed);
  Status st = lua_.pcall(3, 2);
  busy_since_ms_.store(0, std::memory_order_relaxed);
  if (st) return *st;
  bool ok = lua_toboolean(L, base + 1) != 0;
  std::string message;
  if (lua_type(L, base + 2) == LUA_TSTRING) message = lua_tostring(L, base + 2);
  lua_settop(L, base);
  return std::make_pair(ok, message);
}

Status probe_http_scripts(const HttpWorkloadSpec& spec, uint64_t seed) {
  if (spec.request) {
    auto s = HttpScript::create(*spec.request, spec.allow, seed, 0, 1, "(seq, now_ms) per request", true);
    if (!s) return s.error();
    HttpRequest req;
    for (int i = 0; i < 3; ++i)
      if (auto err = (*s)->build_request(i, 0, spec, url_origin(spec.url), req)) return err;
  }
  if (spec.response) {
    auto s = HttpScript::create(*spec.response, spec.allow, seed, 0, 1, "(status, headers, body) per response", true);
    if (!s) return s.error();
  }
  return std::nullopt;
}

}  // namespace kapture
