#pragma once
// Reads a few top-level scalar fields of a JSON object without building the
// document: the ETL's fast path when no transform, aggregate or table needs
// the whole record (a full parse of a 600-byte record costs ~9 us here).
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace kapture {

// Fills `out` (an object) with the wanted keys found at the top level.
// Returns false when the text is not a JSON object this scanner can read
// cleanly (escapes in a wanted value, truncated text, ...): the caller then
// parses it fully, which also decides whether it is poison.
bool scan_top_level(std::string_view json, const std::vector<std::string>& wanted, nlohmann::json& out);

}  // namespace kapture
