#include "webapp/Routes.h"

#include <cctype>
#include <cstdlib>

#include <nlohmann/json.hpp>

namespace kapture {

namespace {

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string percent_decode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out += ' ';
    } else if (s[i] == '%' && i + 2 < s.size() && hex_digit(s[i + 1]) >= 0 && hex_digit(s[i + 2]) >= 0) {
      out += static_cast<char>(hex_digit(s[i + 1]) * 16 + hex_digit(s[i + 2]));
      i += 2;
    } else {
      out += s[i];  // a stray '%' stays as it is
    }
  }
  return out;
}

// A query parameter as a bounded integer, or the 400 that says what it must be.
std::optional<Answer> int_param(const QueryParams& query, const char* name, int64_t lo, int64_t hi, int64_t& out) {
  auto it = query.find(name);
  if (it == query.end()) return std::nullopt;  // `out` keeps its default
  const std::string& v = it->second;
  char* end = nullptr;
  long long x = std::strtoll(v.c_str(), &end, 10);
  if (v.empty() || *end || x < lo || x > hi)
    return json_error(400, std::string(name) + " must be an integer from " + std::to_string(lo) + " to " + std::to_string(hi));
  out = x;
  return std::nullopt;
}

}  // namespace

QueryParams parse_query(std::string_view query) {
  QueryParams params;
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (pair.empty()) continue;
    size_t eq = pair.find('=');
    std::string_view value = eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1);
    params.emplace(percent_decode(pair.substr(0, eq)), percent_decode(value));
  }
  return params;
}

std::string query_value(const QueryParams& query, const std::string& name) {
  auto it = query.find(name);
  return it == query.end() ? std::string() : it->second;
}

Answer json_error(int status, const std::string& message) { return Answer{status, "application/json", nlohmann::json{{"error", message}}.dump() + "\n"}; }

Answer delivery_answer(const std::string& topic, const Result<Delivery>& delivery) {
  if (!delivery) return json_error(503, delivery.error().message);
  return Answer{200, "application/json",
                nlohmann::json{{"topic", topic}, {"partition", delivery->partition}, {"offset", delivery->offset}}.dump() + "\n"};
}

Answer stream_refused(const Error& error) { return json_error(error.kind == ErrorKind::Usage ? 404 : 503, error.message); }

std::optional<std::string> topic_in_path(const std::string& path) {
  // By hand, not std::regex: libstdc++'s matcher recurses once per character.
  static constexpr std::string_view prefix = "/api/topics/";
  if (path.size() <= prefix.size() || path.compare(0, prefix.size(), prefix) != 0) return std::nullopt;
  std::string topic = path.substr(prefix.size());
  for (char c : topic)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-')) return std::nullopt;
  return topic;
}

std::variant<BlocksQuery, Answer> parse_blocks(const QueryParams& query) {
  BlocksQuery q;
  if (auto bad = int_param(query, "size", 0, 64 << 20, q.size)) return *bad;
  if (auto bad = int_param(query, "n", 1, 1000000, q.n)) return *bad;
  if (auto bad = int_param(query, "periodMS", 0, 3600000, q.period_ms)) return *bad;
  return q;
}

}  // namespace kapture
