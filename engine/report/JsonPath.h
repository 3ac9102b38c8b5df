#pragma once
// Reading nested values out of summary.json without throwing: a missing key
// or a value of another type is simply absent.
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "drivers/JsonFields.h"  // json_at

namespace kapture {

inline std::optional<double> json_number(const nlohmann::json& j, const std::vector<std::string>& path) {
  const nlohmann::json* v = json_at(j, path);
  if (!v || !v->is_number()) return std::nullopt;
  return v->get<double>();
}

inline std::string json_string(const nlohmann::json& j, const std::vector<std::string>& path, const std::string& fallback = "") {
  const nlohmann::json* v = json_at(j, path);
  if (!v || !v->is_string()) return fallback;
  return v->get<std::string>();
}

inline bool json_bool(const nlohmann::json& j, const std::vector<std::string>& path) {
  const nlohmann::json* v = json_at(j, path);
  return v && v->is_boolean() && v->get<bool>();
}

}  // namespace kapture
