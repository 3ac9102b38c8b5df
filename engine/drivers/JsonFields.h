#pragma once
// Reading fields of a record document by dotted path, the way key templates,
// the sinks and the field mapping all do.
#include <cstdio>
#include <initializer_list>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace kapture {

// The value at `path` ("store", "location", "state"), or null when a step is missing.
template <typename Path>
const nlohmann::json* json_at(const nlohmann::json& doc, const Path& path) {
  const nlohmann::json* cur = &doc;
  for (const auto& seg : path) {
    if (!cur->is_object()) return nullptr;
    auto it = cur->find(seg);
    if (it == cur->end()) return nullptr;
    cur = &*it;
  }
  return cur;
}

inline const nlohmann::json* json_at(const nlohmann::json& doc, std::initializer_list<const char*> path) {
  return json_at<std::initializer_list<const char*>>(doc, path);
}

// A string or number as template text (numbers as Lua's tostring prints them).
inline bool json_scalar_text(const nlohmann::json& v, std::string& out) {
  if (v.is_string()) {
    out = v.get<std::string>();
    return true;
  }
  if (v.is_number_integer()) {
    out = std::to_string(v.get<int64_t>());
    return true;
  }
  if (v.is_number_unsigned()) {
    out = std::to_string(v.get<uint64_t>());
    return true;
  }
  if (v.is_number_float()) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.14g", v.get<double>());
    out = buf;
    return true;
  }
  return false;
}

}  // namespace kapture
