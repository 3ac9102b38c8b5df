#pragma once
// Parsing helpers shared by the expectation tests.
#include <doctest/doctest.h>

#include <string>

#include "slo/SloExpression.h"

namespace slo_test {

inline kapture::SloExpression parse_ok(const std::string& text) {
  auto r = kapture::parse_slo(text);
  INFO(text << (r ? std::string() : " -> " + r.error().describe()));
  REQUIRE(r.ok());
  return *r;
}

// The error for `text`, which must not parse.
inline kapture::Error parse_err(const std::string& text) {
  auto r = kapture::parse_slo(text);
  INFO(text);
  REQUIRE_FALSE(r.ok());
  return r.error();
}

inline bool contains(const std::string& haystack, const std::string& needle) { return haystack.find(needle) != std::string::npos; }

}  // namespace slo_test
