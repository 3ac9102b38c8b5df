// libFuzzer: the duration, rate and size parsers shared by scenario files,
// --set overrides and expectations, and the formatting that reports use.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "common/Units.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // A view of the fuzzer's buffer itself: a read past its end is caught.
  std::string_view text(reinterpret_cast<const char*>(data), size);
  if (auto us = kapture::parse_duration_us(text)) {
    if (*us < 0) __builtin_trap();  // signs are refused
    std::string shown = kapture::format_duration_us(*us);
    // What a report shows reads back as the same duration (when it is one
    // token: "2m30s" is not). Below about 11 days a double holds it exactly.
    auto again = kapture::parse_duration_us(shown);
    if (again && *us < 1000000000000LL && *again != *us) __builtin_trap();
  }
  if (auto rate = kapture::parse_rate_per_s(text)) {
    if (!std::isfinite(*rate) || *rate < 0) __builtin_trap();
    (void)kapture::format_rate(*rate);
  }
  if (auto bytes = kapture::parse_size_bytes(text)) {
    if (*bytes < 0) __builtin_trap();
  }
  // Durations that are differences (negative, INT64_MIN) are formatted too.
  if (size >= sizeof(int64_t)) {
    int64_t us;
    std::memcpy(&us, data, sizeof us);
    (void)kapture::format_duration_us(us);
  }
  return 0;
}
