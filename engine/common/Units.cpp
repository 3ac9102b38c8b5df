#include "common/Units.h"

#include <charconv>
#include <cmath>
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
  char buf[64];
  if (us == 0) return "0s";
  if (us % 3600000000LL == 0 && us != 0) {
    std::snprintf(buf, sizeof buf, "%lldh", static_cast<long long>(us / 3600000000LL));
  } else if (us % 60000000LL == 0 && us != 0) {
    std::snprintf(buf, sizeof buf, "%lldm", static_cast<long long>(us / 60000000LL));
  } else if (us >= 1000000) {
    std::snprintf(buf, sizeof buf, "%gs", static_cast<double>(us) / 1e6);
  } else if (us >= 1000) {
    std::snprintf(buf, sizeof buf, "%gms", static_cast<double>(us) / 1e3);
  } else {
    std::snprintf(buf, sizeof buf, "%lldus", static_cast<long long>(us));
  }
  return buf;
}

std::string format_rate(double per_s) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%g/s", per_s);
  return buf;
}

}  // namespace kapture
