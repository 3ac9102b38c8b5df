#include "common/Units.h"

#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>

namespace kapture {
namespace {

// Splits "12.5ms" into 12.5 and "ms". Rejects signs, spaces and exponents so
// that "1e3s" or "-5s" are errors, not surprises.
bool split_number(std::string_view text, double& number, std::string_view& unit) {
  size_t i = 0;
  bool digits = false, dot = false;
  while (i < text.size()) {
    char c = text[i];
    if (c >= '0' && c <= '9') {
      digits = true;
    } else if (c == '.' && !dot) {
      dot = true;
    } else {
      break;
    }
    ++i;
  }
  if (!digits || text[i - 1] == '.') return false;
  std::string num(text.substr(0, i));
  char* end = nullptr;
  number = std::strtod(num.c_str(), &end);
  if (end != num.c_str() + num.size() || !std::isfinite(number)) return false;
  unit = text.substr(i);
  return true;
}

}  // namespace

std::optional<int64_t> parse_duration_us(std::string_view text) {
  double n;
  std::string_view unit;
  if (!split_number(text, n, unit)) return std::nullopt;
  double scale;
  if (unit == "us") scale = 1;
  else if (unit == "ms") scale = 1e3;
  else if (unit == "s") scale = 1e6;
  else if (unit == "m") scale = 60e6;
  else if (unit == "h") scale = 3600e6;
  else return std::nullopt;
  double us = n * scale;
  if (us > 9.0e15) return std::nullopt;  // centuries: certainly a typo
  return static_cast<int64_t>(std::llround(us));
}

std::optional<double> parse_rate_per_s(std::string_view text) {
  auto slash = text.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  double n;
  std::string_view rest;
  if (!split_number(text.substr(0, slash), n, rest) || !rest.empty()) return std::nullopt;
  std::string_view unit = text.substr(slash + 1);
  if (unit == "s") return n;
  if (unit == "m") return n / 60.0;
  if (unit == "h") return n / 3600.0;
  return std::nullopt;
}

std::optional<int64_t> parse_size_bytes(std::string_view text) {
  double n;
  std::string_view unit;
  if (!split_number(text, n, unit)) return std::nullopt;
  double scale;
  if (unit == "B") scale = 1;
  else if (unit == "KB") scale = 1e3;
  else if (unit == "MB") scale = 1e6;
  else if (unit == "GB") scale = 1e9;
  else if (unit == "KiB") scale = 1024.0;
  else if (unit == "MiB") scale = 1024.0 * 1024;
  else if (unit == "GiB") scale = 1024.0 * 1024 * 1024;
  else return std::nullopt;
  double bytes = n * scale;
  if (bytes > 1e15 || bytes != std::floor(bytes)) return std::nullopt;
  return static_cast<int64_t>(bytes);
}

std::string format_duration_us(int64_t us) {
  if (us == 0) return "0s";
  if (us < 0) {
    // Built by append: GCC 12 warns falsely (-Wrestrict) on "x" + std::string&&.
    std::string out = "-";
    out += format_duration_us(us == INT64_MIN ? INT64_MAX : -us);
    return out;
  }
  char buf[64];
  // Whole seconds from a minute up read as hours, minutes and seconds
  // ("2m30s", "1h30m"); anything else in the largest unit that shows it
  // exactly ("1.5s", "250ms", "500us"), never rounded to six digits by %g.
  if (us >= 60000000LL && us % 1000000 == 0) {
    int64_t h = us / 3600000000LL, m = us % 3600000000LL / 60000000LL, s = us % 60000000LL / 1000000;
    std::string out;
    if (h) out += std::to_string(h) + "h";
    if (m) out += std::to_string(m) + "m";
    if (s) out += std::to_string(s) + "s";
    return out;
  }
  int64_t scale = us >= 1000000 ? 1000000 : us >= 1000 ? 1000 : 1;
  const char* unit = scale == 1000000 ? "s" : scale == 1000 ? "ms" : "us";
  int digits = scale == 1000000 ? 6 : scale == 1000 ? 3 : 0;
  int64_t whole = us / scale, frac = us % scale;
  if (frac == 0) {
    std::snprintf(buf, sizeof buf, "%lld%s", static_cast<long long>(whole), unit);
    return buf;
  }
  std::snprintf(buf, sizeof buf, "%lld.%0*lld", static_cast<long long>(whole), digits, static_cast<long long>(frac));
  std::string out = buf;
  while (out.back() == '0') out.pop_back();
  return out + unit;
}

std::string format_rate(double per_s) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%g/s", per_s);
  return buf;
}

}  // namespace kapture
