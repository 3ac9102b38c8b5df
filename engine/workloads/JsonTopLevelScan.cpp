#include "workloads/JsonTopLevelScan.h"

#include <algorithm>
#include <cstdlib>

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
  bool string(std::string_view& out, bool& escaped) {
    if (i >= s.size() || s[i] != '"') return false;
    size_t start = ++i;
    escaped = false;
    while (i < s.size() && s[i] != '"') {
      if (s[i] == '\\') {
        escaped = true;
        ++i;
      }
      ++i;
    }
    if (i >= s.size()) return false;
    out = s.substr(start, i - start);
    ++i;
    return true;
  }
  bool skip_value() {
    ws();
    if (i >= s.size()) return false;
    if (s[i] == '"') {
      std::string_view v;
      bool e;
      return string(v, e);
    }
    if (s[i] == '{' || s[i] == '[') {
      int depth = 0;
      while (i < s.size()) {
        char c = s[i];
        if (c == '"') {
          std::string_view v;
          bool e;
          if (!string(v, e)) return false;
          continue;
        }
        if (c == '{' || c == '[') ++depth;
        if (c == '}' || c == ']') {
          if (--depth == 0) {
            ++i;
            return true;
          }
        }
        ++i;
      }
      return false;
    }
    while (i < s.size() && s[i] != ',' && s[i] != '}') ++i;
    return i < s.size();
  }
};

}  // namespace

bool scan_top_level(std::string_view json, const std::vector<std::string>& wanted, nlohmann::json& out) {
  Cursor c{json};
  if (!c.eat('{')) return false;
  out = nlohmann::json::object();
  c.ws();
  if (c.eat('}')) return true;
  for (;;) {
    c.ws();
    std::string_view key;
    bool escaped;
    if (!c.string(key, escaped) || !c.eat(':')) return false;
    c.ws();
    bool want = !escaped && std::find(wanted.begin(), wanted.end(), key) != wanted.end();
    if (want) {
      if (c.i >= json.size()) return false;
      char first = json[c.i];
      if (first == '"') {
        std::string_view v;
        if (!c.string(v, escaped) || escaped) return false;
        out[std::string(key)] = std::string(v);
      } else if (first == '-' || (first >= '0' && first <= '9')) {
        size_t start = c.i;
        while (c.i < json.size() && json[c.i] != ',' && json[c.i] != '}' && json[c.i] != ' ') ++c.i;
        std::string num(json.substr(start, c.i - start));
        char* end = nullptr;
        long long n = std::strtoll(num.c_str(), &end, 10);
        if (*end == 0) out[std::string(key)] = n;
        else out[std::string(key)] = std::strtod(num.c_str(), nullptr);
      } else if (!c.skip_value()) {
        return false;  // objects, arrays, literals: not what a key needs
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

}  // namespace kapture
