#include "lua/LuaState.h"

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

#include <luajit.h>

namespace kapture {
namespace {

constexpr int kHookEvery = 1000;  // instructions between hook calls

int traceback(lua_State* L) {
  const char* msg = lua_tostring(L, 1);
  if (!msg) msg = "(error object is not a string)";
  // Keep only the message: the file:line prefix is what users need, and a
  // full traceback would bury it.
  lua_pushstring(L, msg);
  return 1;
}

void open_lib(lua_State* L, const char* name, lua_CFunction open) {
  lua_pushcfunction(L, open);
  lua_pushstring(L, name);
  lua_call(L, 1, 0);
}

}  // namespace

// Counts what the state holds against the sandbox's limit; the memory itself
// comes from LuaJIT's own allocator, which is markedly faster than malloc for
// the short-lived strings a generator makes per record.
void* LuaState::allocate(void* ud, void* ptr, size_t osize, size_t nsize) {
  auto* a = static_cast<Allocator*>(ud);
  size_t old = ptr ? osize : 0;
  if (nsize > old && a->used + (nsize - old) > a->limit) return nullptr;  // Lua raises "not enough memory"
  void* p = a->inner(a->inner_ud, ptr, osize, nsize);
  if (p || nsize == 0) a->used = a->used - old + nsize;
  return p;
}

void LuaState::count_hook(lua_State* L, lua_Debug* ar) {
  // The budget counter lives in the registry so the hook needs no globals.
  lua_getfield(L, LUA_REGISTRYINDEX, "kapture.budget");
  lua_Number left = lua_tonumber(L, -1) - kHookEvery;
  lua_pop(L, 1);
  lua_pushnumber(L, left);
  lua_setfield(L, LUA_REGISTRYINDEX, "kapture.budget");
  if (left <= 0) {
    // Name the place the script was looping, like any other Lua error.
    if (lua_getinfo(L, "Sl", ar) && ar->currentline > 0)
      luaL_error(L, "%s:%d: script exceeded its instruction budget per call (runaway loop?)", ar->short_src,
                 ar->currentline);
    luaL_error(L, "script exceeded its instruction budget (runaway loop?)");
  }
}

LuaState::LuaState(const LuaSandbox& sandbox) : alloc_(std::make_unique<Allocator>()), sandbox_(sandbox) {
  alloc_->limit = sandbox.memory_limit;
  L_ = luaL_newstate();
  if (!L_) return;
  // Wrap LuaJIT's allocator, starting from what the new state already holds.
  alloc_->inner = lua_getallocf(L_, &alloc_->inner_ud);
  alloc_->used = static_cast<size_t>(lua_gc(L_, LUA_GCCOUNT, 0)) * 1024 + static_cast<size_t>(lua_gc(L_, LUA_GCCOUNTB, 0));
  lua_setallocf(L_, &LuaState::allocate, alloc_.get());
  open_lib(L_, "", luaopen_base);
  open_lib(L_, LUA_TABLIBNAME, luaopen_table);
  open_lib(L_, LUA_STRLIBNAME, luaopen_string);
  open_lib(L_, LUA_MATHLIBNAME, luaopen_math);
  open_lib(L_, LUA_BITLIBNAME, luaopen_bit);
  for (const auto& lib : sandbox.allow) {
    if (lib == "os") open_lib(L_, LUA_OSLIBNAME, luaopen_os);
    if (lib == "io") open_lib(L_, LUA_IOLIBNAME, luaopen_io);
    if (lib == "ffi") {
      lua_pushcfunction(L_, luaopen_ffi);
      lua_call(L_, 0, 1);
      lua_setglobal(L_, LUA_FFILIBNAME);
    }
  }
  // Whatever can load code or reach outside the state goes.
  for (const char* name : {"load", "loadstring", "dofile", "loadfile", "getfenv", "setfenv", "require", "module", "newproxy"}) {
    lua_pushnil(L_);
    lua_setglobal(L_, name);
  }
  lua_getglobal(L_, "string");
  lua_pushnil(L_);
  lua_setfield(L_, -2, "dump");
  lua_pop(L_, 1);
  if (!sandbox.jit) luaJIT_setmode(L_, 0, LUAJIT_MODE_ENGINE | LUAJIT_MODE_OFF);
  if (!sandbox.jit && sandbox.instruction_limit > 0) lua_sethook(L_, &LuaState::count_hook, LUA_MASKCOUNT, kHookEvery);
}

LuaState::~LuaState() {
  if (!L_) return;
  // lua_close releases LuaJIT's allocator arena only when it sees its own
  // allocator function, so it gets it back first.
  lua_setallocf(L_, alloc_->inner, alloc_->inner_ud);
  lua_close(L_);
}

void LuaState::start_budget() {
  if (!L_ || sandbox_.instruction_limit <= 0) return;
  lua_pushnumber(L_, static_cast<lua_Number>(sandbox_.instruction_limit));
  lua_setfield(L_, LUA_REGISTRYINDEX, "kapture.budget");
}

Status LuaState::pcall(int nargs, int nresults) {
  int base = lua_gettop(L_) - nargs;
  lua_pushcfunction(L_, traceback);
  lua_insert(L_, base);
  start_budget();
  int rc = lua_pcall(L_, nargs, nresults, base);
  lua_remove(L_, base);
  if (rc == 0) return std::nullopt;
  std::string msg = lua_tostring(L_, -1) ? lua_tostring(L_, -1) : "unknown Lua error";
  lua_pop(L_, 1);
  if (rc == LUA_ERRMEM) msg = "not enough memory (the script passed its memory limit)";
  return lua_error_to_error(msg);
}

Status LuaState::run_file(const std::string& path, const std::string& display) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return usage_error("cannot read Lua file", SourceLocation{display, 0, 0});
  std::stringstream ss;
  ss << in.rdbuf();
  std::string text = ss.str();
  if (!text.empty() && text[0] == '\x1b')
    return usage_error("precompiled Lua bytecode is not accepted (LuaJIT does not verify bytecode); ship the source", SourceLocation{display, 0, 0});
  std::string chunk = "@" + display;
  int rc = luaL_loadbuffer(L_, text.data(), text.size(), chunk.c_str());
  if (rc != 0) {
    std::string msg = lua_tostring(L_, -1) ? lua_tostring(L_, -1) : "cannot load";
    lua_pop(L_, 1);
    return lua_error_to_error(msg);
  }
  return pcall(0, 0);
}

Error lua_error_to_error(const std::string& text, ErrorKind kind) {
  // "path:12: message" (path may itself contain ':' on odd systems; take the
  // last ":<digits>: " occurrence before the message).
  size_t pos = 0;
  while ((pos = text.find(": ", pos)) != std::string::npos) {
    size_t colon = text.rfind(':', pos - 1);
    if (colon != std::string::npos && colon < pos) {
      std::string num = text.substr(colon + 1, pos - colon - 1);
      if (!num.empty() && num.find_first_not_of("0123456789") == std::string::npos) {
        Error e{kind, text.substr(pos + 2), SourceLocation{text.substr(0, colon), std::atoi(num.c_str()), 0}};
        return e;
      }
    }
    pos += 2;
  }
  return Error{kind, text, {}};
}

}  // namespace kapture
