#include "report/JunitReport.h"

#include <sstream>

#include "report/JsonPath.h"
#include "report/SummaryFile.h"
#include "slo/Verdict.h"

namespace kapture {

std::string xml_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char ch : text) {
    switch (ch) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      case '\n': out += "&#10;"; break;
      case '\r': out += "&#13;"; break;
      case '\t': out += "&#9;"; break;
      default:
        if (static_cast<unsigned char>(ch) >= 0x20) out += ch;  // UTF-8 bytes pass through
    }
  }
  return out;
}

namespace {

struct Counts {
  int tests = 0, failures = 0, errors = 0, skipped = 0;
};

void counts_attrs(std::ostringstream& o, const Counts& c, double seconds) {
  o << " tests=\"" << c.tests << "\" failures=\"" << c.failures << "\" errors=\"" << c.errors << "\" skipped=\"" << c.skipped
    << "\" time=\"" << seconds << "\"";
}

void property(std::ostringstream& o, const std::string& name, const std::string& value) {
  o << "      <property name=\"" << xml_escape(name) << "\" value=\"" << xml_escape(value) << "\"/>\n";
}

// "measured 12.3ms, threshold < 1us" (a Lua expectation: its own message).
std::string failure_message(const nlohmann::json& e, bool no_data) {
  std::string measured = json_string(e, {"measured_text"});
  if (json_bool(e, {"lua"})) return measured.empty() ? "the Lua expectation returned false" : measured;
  std::string note = json_string(e, {"note"});
  if (!note.empty()) note = " (" + note + ")";
  if (no_data) return "no data: nothing was measured for it, threshold " + json_string(e, {"threshold_text"}) + note;
  return "measured " + measured + ", threshold " + json_string(e, {"threshold_text"}) + note;
}

}  // namespace

std::string junit_xml(const nlohmann::json& summary) {
  std::string name = json_string(summary, {"scenario", "name"}, "scenario");
  std::string file = json_string(summary, {"scenario", "file"});
  double seconds = json_number(summary, {"duration_s"}).value_or(0);
  int exit_code = static_cast<int>(json_number(summary, {"verdict", "exit_code"}).value_or(kExitUsage));
  std::string headline = json_string(summary, {"verdict", "headline"});
  bool ended_early = exit_code == kExitUsage || exit_code == kExitUnreachable || exit_code == kExitInterrupted;
  bool incomplete = ended_early || exit_code == kExitInvalidRun;

  Counts c;
  std::ostringstream cases;
  const nlohmann::json* expectations = json_at(summary, {"expectations"});
  if (expectations && expectations->is_array()) {
    for (const auto& e : *expectations) {
      ++c.tests;
      cases << "    <testcase name=\"" << xml_escape(json_string(e, {"expect"})) << "\" classname=\"" << xml_escape(name) << "\"";
      if (!file.empty()) cases << " file=\"" << xml_escape(file) << "\"";
      if (auto line = json_number(e, {"line"}); line && *line > 0) cases << " line=\"" << static_cast<int>(*line) << "\"";
      if (json_bool(e, {"pass"})) {
        cases << "/>\n";
        continue;
      }
      bool no_data = expectation_no_data(e);
      if (no_data && ended_early) {
        ++c.skipped;
        cases << ">\n      <skipped message=\"" << xml_escape("not evaluated: the run ended early (" + headline + ")") << "\"/>\n";
      } else {
        ++c.failures;
        std::string message = failure_message(e, no_data);
        cases << ">\n      <failure type=\"" << (no_data ? "no_data" : "expectation") << "\" message=\"" << xml_escape(message) << "\">"
              << xml_escape(json_string(e, {"expect"})) << ": " << xml_escape(message) << "</failure>\n";
      }
      cases << "    </testcase>\n";
    }
  }
  if (incomplete) {
    ++c.tests;
    ++c.errors;
    std::string type = exit_code == kExitInterrupted ? "interrupted" : exit_code == kExitInvalidRun ? "invalid_run" : "error";
    cases << "    <testcase name=\"run\" classname=\"" << xml_escape(name) << "\">\n      <error type=\"" << type << "\" message=\""
          << xml_escape(headline) << "\">" << xml_escape(json_string(summary, {"verdict", "error"}, headline)) << "</error>\n    </testcase>\n";
  }

  std::ostringstream o;
  o << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"kapture-engine\"";
  counts_attrs(o, c, seconds);
  o << ">\n  <testsuite name=\"" << xml_escape(name) << "\"";
  counts_attrs(o, c, seconds);
  // JUnit's timestamp has no zone and no fraction; the run's start is UTC.
  std::string started = json_string(summary, {"started"});
  if (started.size() >= 19) o << " timestamp=\"" << xml_escape(started.substr(0, 19)) << "\"";
  o << ">\n    <properties>\n";
  property(o, "scenario.file", file);
  if (const nlohmann::json* seed = json_at(summary, {"seed"})) property(o, "seed", seed->dump());
  property(o, "target", json_string(summary, {"target"}));
  property(o, "engine_version", json_string(summary, {"engine_version"}));
  property(o, "exit_code", std::to_string(exit_code));
  property(o, "verdict", headline);
  o << "    </properties>\n" << cases.str() << "  </testsuite>\n</testsuites>\n";
  return o.str();
}

}  // namespace kapture
