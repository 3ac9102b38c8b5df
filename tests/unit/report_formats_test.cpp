// junit.xml, summary.md and report.html, built from hand-made summary.json
// documents: one testcase per expectation, failures carrying measured and
// threshold, escaping, and what an aborted run looks like.
#include <doctest/doctest.h>

#include <string>

#include "report/HtmlReport.h"
#include "report/JunitReport.h"
#include "report/MarkdownSummary.h"

using namespace kapture;

namespace {

size_t occurrences(const std::string& haystack, const std::string& needle) {
  size_t n = 0;
  for (size_t at = haystack.find(needle); at != std::string::npos; at = haystack.find(needle, at + needle.size())) ++n;
  return n;
}

bool contains(const std::string& haystack, const std::string& needle) { return haystack.find(needle) != std::string::npos; }

nlohmann::json summary(int exit_code, const std::string& headline) {
  nlohmann::json j = nlohmann::json::parse(R"({
    "schema_version": 1,
    "scenario": {"name": "small", "file": "tests/small.yaml", "description": ""},
    "seed": 7, "target": "embedded", "engine_version": "0.1.0", "started": "2026-11-25T15:04:28.123Z", "duration_s": 7.5,
    "verdict": {"exit_code": 0, "headline": "", "passed": false, "interrupted": false},
    "phases": [{"name": "load", "start_s": 0, "end_s": 3, "ended_by": "duration",
                "metrics": {"counters": {"produce.sent": 1500}, "latency": {"count": 1500, "p50_ms": 1.5, "p99_ms": 4.25},
                            "rates_per_s": {"acked": 500}}},
               {"name": "later", "start_s": 3, "end_s": 3, "ended_by": ""}],
    "run": {"counters": {"produce.sent": 1500, "produce.acked": 1500, "produce.failed": 0, "chaos.injected": 1, "chaos.undone": 1,
                         "scale.steps": 0},
            "latency": {"count": 1500, "p50_ms": 1.5, "p99_ms": 4.25, "max_ms": 9.0}, "rates_per_s": {"acked": 500}},
    "chaos": [{"phase": "load", "verb": "broker-down", "description": "broker-down broker 1", "details": {}, "start_s": 1, "end_s": 3,
               "undone": true}],
    "expectations": [
      {"expect": "count(produce.failed) == 0", "pass": true, "line": 24, "measured": 0, "measured_text": "0", "threshold": 0,
       "threshold_text": "== 0", "unit": ""},
      {"expect": "p99(produce.latency) < 1us", "pass": false, "line": 25, "measured": 4250, "measured_text": "4.25ms",
       "threshold": 1, "threshold_text": "< 1us", "unit": "us"},
      {"expect": "ledger.lost == 0", "pass": false, "line": 26, "measured": null, "measured_text": "no data", "threshold": 0,
       "threshold_text": "== 0", "unit": ""}
    ]
  })");
  j["verdict"]["exit_code"] = exit_code;
  j["verdict"]["headline"] = headline;
  j["verdict"]["passed"] = exit_code == 0;
  return j;
}

}  // namespace

TEST_CASE("junit: one testcase per expectation, failures with measured value and threshold") {
  std::string x = junit_xml(summary(1, "FAIL: 2 of 3 expectations failed"));
  CHECK(contains(x, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"));
  CHECK(occurrences(x, "<testsuite ") == 1);
  CHECK(contains(x, "<testsuite name=\"small\" tests=\"3\" failures=\"2\" errors=\"0\" skipped=\"0\" time=\"7.5\" timestamp=\"2026-11-25T15:04:28\">"));
  CHECK(occurrences(x, "<testcase ") == 3);
  CHECK(contains(x, "<testcase name=\"count(produce.failed) == 0\" classname=\"small\" file=\"tests/small.yaml\" line=\"24\"/>"));
  CHECK(contains(x, "<testcase name=\"p99(produce.latency) &lt; 1us\""));
  CHECK(contains(x, "<failure type=\"expectation\" message=\"measured 4.25ms, threshold &lt; 1us\">"));
  // No data fails a completed run, as the verdict counts it.
  CHECK(contains(x, "<failure type=\"no_data\" message=\"no data: nothing was measured for it, threshold == 0\">"));
  CHECK_FALSE(contains(x, "<skipped"));
  CHECK_FALSE(contains(x, "name=\"run\""));
  CHECK(contains(x, "<property name=\"exit_code\" value=\"1\"/>"));
}

TEST_CASE("junit: an aborted run skips what had no data and adds the run's error") {
  nlohmann::json s = summary(2, "ERROR: fails-midrun.lua:5: record 500 is \"poisoned\" & <bad>");
  s["verdict"]["error"] = "fails-midrun.lua:5: record 500 is \"poisoned\" & <bad>";
  std::string x = junit_xml(s);
  CHECK(contains(x, "tests=\"4\" failures=\"1\" errors=\"1\" skipped=\"1\""));
  CHECK(contains(x, "<skipped message=\"not evaluated: the run ended early (ERROR: fails-midrun.lua:5: record 500 is &quot;poisoned&quot; &amp; &lt;bad&gt;)\"/>"));
  CHECK(contains(x, "<testcase name=\"run\" classname=\"small\">"));
  CHECK(contains(x, "<error type=\"error\" message=\"ERROR: fails-midrun.lua:5"));
  CHECK(junit_xml(summary(130, "INTERRUPTED")).find("<error type=\"interrupted\"") != std::string::npos);
  CHECK(junit_xml(summary(4, "INVALID")).find("<error type=\"invalid_run\"") != std::string::npos);
  // An invalid run completed: no data still fails.
  CHECK_FALSE(contains(junit_xml(summary(4, "INVALID")), "<skipped"));
}

TEST_CASE("junit: escaping") {
  CHECK(xml_escape("a<b>&\"c'") == "a&lt;b&gt;&amp;&quot;c&apos;");
  CHECK(xml_escape("line1\nline2\ttab\r") == "line1&#10;line2&#9;tab&#13;");
  CHECK(xml_escape(std::string("bell\x07 nul\0!", 11)) == "bell nul!");
  CHECK(xml_escape("ünïcödé") == "ünïcödé");
}

TEST_CASE("summary.md: verdict, expectations, key metrics, phases, chaos") {
  std::string md = summary_markdown(summary(1, "FAIL: 2 of 3 expectations failed"));
  CHECK(md.rfind("# FAIL: small\n", 0) == 0);
  CHECK(contains(md, "**FAIL: 2 of 3 expectations failed** (exit 1)"));
  CHECK(contains(md, "| duration | 7.5s |"));
  CHECK(contains(md, "| PASS | `count(produce.failed) == 0` | 0 | == 0 |"));
  CHECK(contains(md, "| **FAIL** | `p99(produce.latency) < 1us` | 4.25ms | &lt; 1us |"));
  CHECK(contains(md, "| **FAIL** | `ledger.lost == 0` | no data | == 0 |"));
  CHECK(contains(md, "| throughput (acknowledged, over the timeline) | 500.0/s |"));
  CHECK(contains(md, "| produce.latency p50 / p99 / max | 1.50ms / 4.25ms / 9.00ms |"));
  CHECK(contains(md, "| load | 0.0s | 3.0s | duration | 1500 | 500.0 | 1.50ms | 4.25ms |"));
  CHECK(contains(md, "| later | 3.0s | 3.0s | did not run |"));
  CHECK(contains(md, "1 chaos injection(s), 1 undone; 0 scale step(s); 1 event(s) in all."));
  CHECK(contains(md, "- +1.0s to +3.0s (load): broker-down broker 1"));
  CHECK(summary_markdown(summary(0, "PASS: all 3 expectations held")).rfind("# PASS: small\n", 0) == 0);
}

TEST_CASE("summary.md: pipes in an expectation do not break the table") {
  nlohmann::json s = summary(0, "PASS");
  s["expectations"] = nlohmann::json::array({{{"expect", "lua: a|b.lua check"}, {"pass", true}, {"line", 3}, {"lua", true},
                                              {"measured_text", "rows | 3\nok"}, {"threshold_text", "ok"}}});
  std::string md = summary_markdown(s);
  CHECK(contains(md, "| PASS | `lua: a\\|b.lua check` | rows \\| 3 ok | ok |"));
}

TEST_CASE("report.html: text that says </script> stays text, in the page and in the embedded data") {
  nlohmann::json s = summary(1, "FAIL: </script><script>alert(1)</script>");
  const std::string evil = "x</script><script>alert(1)</script><!--";
  s["scenario"]["name"] = evil;
  s["expectations"][0]["expect"] = "count(produce.failed) == 0 </script>";
  s["phases"][0]["name"] = evil;
  std::string csv = "second,phase,intended,sent,acked,failed\n0,load,500,500,498,0\n1,load,500,500,502,\n";
  std::vector<nlohmann::json> events = {
      {{"t", 1.25}, {"type", "chaos_inject"}, {"phase", "load"}, {"verb", "broker-down"}, {"description", "down </script> 1"}},
      {{"t", 3.0}, {"type", "chaos_undo"}, {"phase", "load"}, {"verb", "broker-down"}, {"description", "down </script> 1"}},
      {{"t", 2.0}, {"type", "leaders_recovered"}}};
  std::string html = render_html_report(s, csv, events);

  // Only the page's own two <script> elements close; nothing opens a comment.
  CHECK(occurrences(html, "</script>") == 2);
  CHECK(occurrences(html, "<script") == 2);
  CHECK_FALSE(contains(html, "<!--"));
  CHECK(contains(html, "<h1>FAIL: x&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;&lt;!--</h1>"));
  CHECK(contains(html, "<td><code>count(produce.failed) == 0 &lt;/script&gt;</code></td>"));

  // The embedded data reads back as the original text.
  const std::string open = "<script type=\"application/json\" id=\"report-data\">";
  size_t from = html.find(open) + open.size();
  nlohmann::json data = nlohmann::json::parse(html.substr(from, html.find("</script>", from) - from));
  CHECK(data["phases"][0]["name"] == evil);
  REQUIRE(data["markers"].size() == 2);  // chaos only: other events are not markers
  CHECK(data["markers"][0]["label"] == "+1.2s chaos injected broker-down: down </script> 1 [phase load]");
  CHECK(data["markers"][1]["kind"] == "chaos_undo");
  CHECK(json_for_script({{"a", "</script><!--"}}) == R"({"a":"\u003c/script>\u003c!--"})");

  // One row per expectation, by result; charts only for columns with values.
  CHECK(occurrences(html, "<tr class=\"pass\">") == 1);
  CHECK(occurrences(html, "<tr class=\"fail\">") == 1);
  CHECK(occurrences(html, "<tr class=\"no-data\">") == 1);
  CHECK(contains(html, "<svg class=\"chart\" data-chart=\"throughput\""));
  CHECK(contains(html, "<svg class=\"chart\" data-chart=\"errors\""));
  CHECK(contains(html, "data-omitted=\"cpu\""));
  CHECK_FALSE(contains(html, "data-chart=\"cpu\""));
  CHECK(data["charts"][0]["series"][2]["values"] == nlohmann::json::array({498, 502}));
  CHECK(data["charts"][1]["series"][0]["values"] == nlohmann::json::array({0, nullptr}));  // an empty cell is no reading
  CHECK_FALSE(contains(html, "http://"));
  CHECK_FALSE(contains(html, "https://"));
}
