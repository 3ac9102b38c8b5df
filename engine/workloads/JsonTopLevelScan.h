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

// The same scan without building anything: out[i] is wanted[i]'s value as
// text inside `json` (a string's contents without the quotes, a number's
// digits); `found` is false when the key is absent or its value is not a
// string or number.
struct ScannedField {
  std::string_view text;
  bool found = false;
  bool is_string = false;
};
bool scan_top_level(std::string_view json, const std::vector<std::string>& wanted, std::vector<ScannedField>& out);

// A scanned number as JSON (integer when it is one, else double), as the
// full parser would read it.
nlohmann::json scanned_number(std::string_view text);

}  // namespace kapture
