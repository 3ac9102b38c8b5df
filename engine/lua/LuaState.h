#pragma once
// One sandboxed LuaJIT state: capped memory, only safe libraries, text-only
// loading. Owned by exactly one thread.
#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include <lua.hpp>

#include "common/Error.h"

namespace kapture {

struct LuaSandbox {
  std::vector<std::string> allow;          // extra libraries: "os", "io", "ffi"
  size_t memory_limit = 256u * 1024 * 1024;
  bool jit = true;                          // off when probing for runaway scripts
  long instruction_limit = 0;               // per call, only honoured with jit off; 0 = none
};

class LuaState {
 public:
  explicit LuaState(const LuaSandbox& sandbox);
  ~LuaState();
  LuaState(const LuaState&) = delete;
  LuaState& operator=(const LuaState&) = delete;

  lua_State* get() const { return L_; }
  bool ok() const { return L_ != nullptr; }

  // Loads and runs a file's top level as text (never bytecode).
  Status run_file(const std::string& path, const std::string& display);
  // pcall with a traceback; on error the message is "file:line: ..." as Lua
  // gives it. Expects function and nargs arguments on the stack.
  Status pcall(int nargs, int nresults);

  // Arms the per-call instruction budget (jit off only).
  void start_budget();

 private:
  static void* allocate(void* ud, void* ptr, size_t osize, size_t nsize);
  static void count_hook(lua_State* L, lua_Debug* ar);

  struct Allocator {
    size_t used = 0;
    size_t limit = 0;
    lua_Alloc inner = nullptr;  // LuaJIT's own
    void* inner_ud = nullptr;
  };
  std::unique_ptr<Allocator> alloc_;
  lua_State* L_ = nullptr;
  LuaSandbox sandbox_;
};

// Lua error text "path:12: message" -> Error with file and line.
Error lua_error_to_error(const std::string& text, ErrorKind kind = ErrorKind::Usage);

}  // namespace kapture
