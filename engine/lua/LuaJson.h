#pragma once
// Lua value -> JSON text, in C so generators need not carry an encoder.
#include <string>

#include <lua.hpp>
#include <nlohmann/json.hpp>

namespace kapture {

// Appends the JSON for the value at `index`. Returns false (with `error` set)
// for values JSON cannot hold: functions, cycles, NaN, non-string keys.
bool lua_to_json(lua_State* L, int index, std::string& out, std::string& error);

// Pushes a JSON value as the Lua value it reads as (objects and arrays as tables).
void push_json(lua_State* L, const nlohmann::json& j);

// Registers kapture.json(value) -> string in the table on top of the stack.
void register_lua_json(lua_State* L);

}  // namespace kapture
