#pragma once
// Durations, rates and sizes parse the same way everywhere: scenario files,
// --set overrides and SLO expressions.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace kapture {

// Microseconds. "250ms", "1.5s", "2m", "1h", "500us".
std::optional<int64_t> parse_duration_us(std::string_view text);

// Events per second. "2000/s", "120/m", "36000/h". "max" is handled by callers.
std::optional<double> parse_rate_per_s(std::string_view text);

// Bytes. "200B", "4KiB", "1MiB", "1GiB", "10KB" (1000), "5MB".
std::optional<int64_t> parse_size_bytes(std::string_view text);

std::string format_duration_us(int64_t us);  // "250ms", "1.5s", "2m30s"
std::string format_rate(double per_s);         // "2000/s", "0.5/s"

}  // namespace kapture
