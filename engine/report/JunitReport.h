#pragma once
// junit.xml: the run as a JUnit test suite, for CI test reporters. One
// <testsuite> named after the scenario, one <testcase> per expectation.
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace kapture {

// From a summary.json document (build_summary). A failed expectation has a
// <failure> with the measured value and the threshold; one with no data
// fails the same way (the verdict counts it as failed), unless the run ended
// early (exit 2, 3 or 130), where it is <skipped>. A run that did not
// complete (exit 2, 3, 4 or 130) adds a testcase `run` with an <error>
// carrying the headline, so reporters see what the exit code says.
std::string junit_xml(const nlohmann::json& summary);

// Escapes text for XML attributes and content: & < > " ' and line breaks as
// character references; other control characters, invalid in XML 1.0, are dropped.
std::string xml_escape(std::string_view text);

}  // namespace kapture
