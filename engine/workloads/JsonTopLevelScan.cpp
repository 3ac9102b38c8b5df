#include "workloads/JsonTopLevelScan.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>

namespace kapture {
namespace {

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
    size_t j = i + 1;
    const size_t start = j;
    bool esc = false;
    while (j < n && p[j] != '"') {
      if (p[j] == '\\') {
        esc = true;
        ++j;
      }
      ++j;
    }
    if (j >= n) return false;
    if (escaped) *escaped = esc;
    out = s.substr(start, j - start);
    i = j + 1;
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
      const char* p = s.data();
      const size_t n = s.size();
      int depth = 0;
      while (i < n) {
        char c = p[i];
        if (c == '"') {
          std::string_view v;
          if (!string(v, nullptr)) return false;
          continue;
        }
        ++i;
        if (c == '{' || c == '[') {
          ++depth;
        } else if ((c == '}' || c == ']') && --depth == 0) {
          return true;
        }
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
