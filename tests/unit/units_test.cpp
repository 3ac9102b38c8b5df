// Durations, rates and sizes: the one parser every scenario field, --set
// override and SLO threshold goes through.
#include <doctest/doctest.h>

#include <cstdint>
#include <optional>
#include <string>

#include "common/Units.h"

using namespace kapture;

TEST_CASE("parse_duration_us accepts a number with one unit") {
  CHECK(parse_duration_us("250ms") == std::optional<int64_t>(250'000));
  CHECK(parse_duration_us("1.5s") == std::optional<int64_t>(1'500'000));
  CHECK(parse_duration_us("2m") == std::optional<int64_t>(120'000'000));
  CHECK(parse_duration_us("1h") == std::optional<int64_t>(3'600'000'000LL));
  CHECK(parse_duration_us("500us") == std::optional<int64_t>(500));
  CHECK(parse_duration_us("0s") == std::optional<int64_t>(0));
  CHECK(parse_duration_us("30s") == std::optional<int64_t>(30'000'000));
  CHECK(parse_duration_us("0.25ms") == std::optional<int64_t>(250));
  CHECK(parse_duration_us("1.0005s") == std::optional<int64_t>(1'000'500));
}

TEST_CASE("parse_duration_us rejects anything else") {
  for (const char* bad : {"10 sec", "-5s", "1e3s", "5", "ms", "", "s", "1.s", "5 s", " 5s", "5s ", "5sec", "5S", "5MS",
                          "+5s", "1.2.3s", "5d", "2m30s", "nan", "infs", "1..5s"}) {
    CAPTURE(bad);
    CHECK_FALSE(parse_duration_us(bad).has_value());
  }
  // Centuries are a typo, not a duration.
  CHECK_FALSE(parse_duration_us("99999999999h").has_value());
}

TEST_CASE("parse_rate_per_s accepts per second, minute and hour") {
  CHECK(parse_rate_per_s("2000/s") == std::optional<double>(2000.0));
  CHECK(parse_rate_per_s("120/m") == std::optional<double>(2.0));
  CHECK(parse_rate_per_s("36000/h") == std::optional<double>(10.0));
  CHECK(parse_rate_per_s("0/s") == std::optional<double>(0.0));
  CHECK(parse_rate_per_s("0.5/s") == std::optional<double>(0.5));
}

TEST_CASE("parse_rate_per_s rejects malformed rates and leaves 'max' to the caller") {
  for (const char* bad : {"max", "2000", "2000/", "/s", "2000/x", "2000/sec", "2000 /s", "2000/ s", "-5/s", "1e3/s", "2000/s/s",
                          "abc/s", ""}) {
    CAPTURE(bad);
    CHECK_FALSE(parse_rate_per_s(bad).has_value());
  }
}

TEST_CASE("parse_size_bytes: decimal and binary units, whole bytes only") {
  CHECK(parse_size_bytes("200B") == std::optional<int64_t>(200));
  CHECK(parse_size_bytes("4KiB") == std::optional<int64_t>(4096));
  CHECK(parse_size_bytes("1MiB") == std::optional<int64_t>(1'048'576));
  CHECK(parse_size_bytes("1GiB") == std::optional<int64_t>(1'073'741'824));
  CHECK(parse_size_bytes("10KB") == std::optional<int64_t>(10'000));
  CHECK(parse_size_bytes("5MB") == std::optional<int64_t>(5'000'000));
  CHECK(parse_size_bytes("1.5KiB") == std::optional<int64_t>(1536));
  for (const char* bad : {"1.5B", "200", "B", "4kib", "4 KiB", "-1B", "1e3B", "4KIB", "4Kb", "", "0.1B"}) {
    CAPTURE(bad);
    CHECK_FALSE(parse_size_bytes(bad).has_value());
  }
}

TEST_CASE("format_duration_us picks the largest exact unit") {
  CHECK(format_duration_us(0) == "0s");
  CHECK(format_duration_us(500) == "500us");
  CHECK(format_duration_us(1) == "1us");
  CHECK(format_duration_us(250'000) == "250ms");
  CHECK(format_duration_us(1'500) == "1.5ms");
  CHECK(format_duration_us(1'000'000) == "1s");
  CHECK(format_duration_us(1'500'000) == "1.5s");
  CHECK(format_duration_us(40'000'000) == "40s");
  CHECK(format_duration_us(120'000'000) == "2m");
  CHECK(format_duration_us(150'000'000) == "2m30s");  // the form Units.h documents
  CHECK(format_duration_us(3'600'000'000LL) == "1h");
  CHECK(format_duration_us(5'400'000'000LL) == "1h30m");
  CHECK(format_duration_us(3'723'000'000LL) == "1h2m3s");
  // No digits are lost to %g's six significant figures.
  CHECK(format_duration_us(1'234'567) == "1.234567s");
  CHECK(format_duration_us(59'999'999) == "59.999999s");
  CHECK(format_duration_us(1'000'000'000'000LL) == "277h46m40s");
  CHECK(format_duration_us(90'500'000) == "90.5s");  // not whole seconds: one unit, so it parses back
  CHECK(format_duration_us(-1'500'000) == "-1.5s");
}

TEST_CASE("format_duration_us output parses back to the same value when it has one unit") {
  for (int64_t us : {int64_t{1}, int64_t{999}, int64_t{1'000}, int64_t{250'000}, int64_t{1'500'000}, int64_t{59'000'000},
                     int64_t{60'000'000}, int64_t{90'500'000}, int64_t{7'200'000'000LL}, int64_t{1'234'567}, int64_t{12'345}}) {
    std::string text = format_duration_us(us);
    CAPTURE(text);
    CHECK(parse_duration_us(text) == std::optional<int64_t>(us));
  }
}

TEST_CASE("format_rate") {
  CHECK(format_rate(2000) == "2000/s");
  CHECK(format_rate(0.5) == "0.5/s");
  CHECK(format_rate(0) == "0/s");
}
