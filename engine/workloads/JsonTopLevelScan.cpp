#include "workloads/JsonTopLevelScan.h"

#include <algorithm>
#include <array>
#include <cstdlib>
#include <cstring>

namespace kapture {
namespace {

// What the container skip stops at: 1 a quote, 2 an opening, 3 a closing bracket.
constexpr auto kStructural = [] {
  std::array<unsigned char, 256> t{};
  t['"'] = 1;
  t['{'] = t['['] = 2;
  t['}'] = t[']'] = 3;
  return t;
}();

// Most of a record's bytes are inside strings, so strings are searched with
// memchr rather than walked byte by byte (the scan was a fifth of the ETL's
// CPU when it did).
struct Cursor {
  std::string_view s;
  size_t i = 0;
  void ws() {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\n' || s[i] == '\r' || s[i] == '\t')) ++i;
  }
  bool eat(char c) {
    ws();
    if (i < s.size() && s[i] == c) {
      ++i;
      return true;
    }
    return false;
  }
  // A string's raw contents (between the quotes); `escaped` if it had any backslash.
  bool string(std::string_view& out, bool* escaped) {
    if (i >= s.size() || s[i] != '"') return false;
    const char* p = s.data();
    const size_t n = s.size();
    const size_t start = i + 1;
    size_t j = start;
    for (;;) {
      const void* q = j < n ? std::memchr(p + j, '"', n - j) : nullptr;
      if (!q) return false;
      size_t k = static_cast<size_t>(static_cast<const char*>(q) - p);
      // A quote ends the string unless an odd run of backslashes precedes it.
      size_t b = k;
      while (b > start && p[b - 1] == '\\') --b;
      j = k + 1;
      if ((k - b) % 2 == 0) break;
    }
    out = s.substr(start, j - 1 - start);
    if (escaped) *escaped = std::memchr(out.data(), '\\', out.size()) != nullptr;
    i = j;
    return true;
  }
  bool skip_value() {
    ws();
    if (i >= s.size()) return false;
    if (s[i] == '"') {
      std::string_view v;
      return string(v, nullptr);
    }
    if (s[i] == '{' || s[i] == '[') {
      const auto* p = reinterpret_cast<const unsigned char*>(s.data());
      const size_t n = s.size();
      int depth = 0;
      while (i < n) {
        unsigned char kind = kStructural[p[i]];
        if (kind == 0) {
          ++i;
          continue;
        }
        if (kind == 1) {
          std::string_view v;
          if (!string(v, nullptr)) return false;
          continue;
        }
        ++i;
        if (kind == 2) ++depth;
        else if (--depth == 0) return true;
      }
      return false;
    }
    while (i < s.size() && s[i] != ',' && s[i] != '}') ++i;
    return i < s.size();
  }
};

}  // namespace

bool scan_top_level(std::string_view json, const std::vector<std::string>& wanted, std::vector<ScannedField>& out) {
  out.assign(wanted.size(), ScannedField{});
  Cursor c{json};
  if (!c.eat('{')) return false;
  c.ws();
  if (c.eat('}')) {
    c.ws();
    return c.i == json.size();
  }
  for (;;) {
    c.ws();
    std::string_view key;
    bool escaped;
    if (!c.string(key, &escaped) || !c.eat(':')) return false;
    c.ws();
    size_t w = escaped ? wanted.size() : std::find(wanted.begin(), wanted.end(), key) - wanted.begin();
    if (w < wanted.size()) {
      if (c.i >= json.size()) return false;
      char first = json[c.i];
      if (first == '"') {
        std::string_view v;
        if (!c.string(v, &escaped) || escaped) return false;
        out[w] = {v, true, true};
      } else if (first == '-' || (first >= '0' && first <= '9')) {
        size_t start = c.i;
        while (c.i < json.size() && json[c.i] != ',' && json[c.i] != '}' && json[c.i] != ' ' && json[c.i] != '\n' &&
               json[c.i] != '\r' && json[c.i] != '\t')
          ++c.i;
        out[w] = {json.substr(start, c.i - start), true, false};
      } else {
        out[w] = {};  // objects, arrays, literals: not what a key needs
        if (!c.skip_value()) return false;
      }
    } else if (!c.skip_value()) {
      return false;
    }
    if (c.eat(',')) continue;
    if (c.eat('}')) break;
    return false;
  }
  c.ws();
  return c.i == json.size();
}

nlohmann::json scanned_number(std::string_view text) {
  std::string num(text);
  char* end = nullptr;
  long long n = std::strtoll(num.c_str(), &end, 10);
  if (*end == 0) return n;
  return std::strtod(num.c_str(), nullptr);
}

bool scan_top_level(std::string_view json, const std::vector<std::string>& wanted, nlohmann::json& out) {
  std::vector<ScannedField> fields;
  if (!scan_top_level(json, wanted, fields)) return false;
  out = nlohmann::json::object();
  for (size_t i = 0; i < wanted.size(); ++i) {
    if (!fields[i].found) continue;
    if (fields[i].is_string) out[wanted[i]] = std::string(fields[i].text);
    else out[wanted[i]] = scanned_number(fields[i].text);
  }
  return true;
}

}  // namespace kapture
