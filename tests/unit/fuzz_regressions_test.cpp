// What the fuzzers (tests/fuzz, scripts/fuzz) found, kept as tests: every
// input under tests/fuzz/regressions/TARGET/ goes through what that target
// calls, here in the GCC build, and each finding has a case of its own that
// says what the engine does with it now.
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "common/Units.h"
#include "drivers/kube/ExecCredential.h"
#include "drivers/kube/KubeconfigFile.h"
#include "scenario/ScenarioLoader.h"
#include "slo/SloExpression.h"

using namespace kapture;
namespace fs = std::filesystem;

namespace {

const std::string kRoot = KAPTURE_TEST_DATA;

// The inputs a fuzz target once failed on, in name order.
std::vector<std::pair<std::string, std::string>> regressions(const std::string& target) {
  std::vector<std::pair<std::string, std::string>> out;
  fs::path dir = fs::path(kRoot) / "tests" / "fuzz" / "regressions" / target;
  if (!fs::is_directory(dir)) return out;
  for (const auto& entry : fs::directory_iterator(dir)) {
    std::ifstream in(entry.path(), std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    out.emplace_back(entry.path().filename().string(), text.str());
  }
  std::sort(out.begin(), out.end());
  return out;
}

// Every aggregate measures `value`.
class FixedData : public SloData {
 public:
  explicit FixedData(double value) : value_(value) {}
  bool aggregate(const SloNode&, const std::string&, double& out) const override {
    out = value_;
    return true;
  }
  bool recovery(const SloExpression&, double& out) const override {
    out = value_;
    return true;
  }

 private:
  double value_;
};

std::string repeat(const std::string& s, size_t n) {
  std::string out;
  out.reserve(s.size() * n);
  for (size_t i = 0; i < n; ++i) out += s;
  return out;
}

}  // namespace

TEST_CASE("fuzz regressions: every saved input is handled, as the fuzz target handles it") {
  // input.first and .second, not a structured binding: INFO captures in a
  // lambda, which clang before 16 cannot do with a binding.
  for (const auto& input : regressions("fuzz_scenario")) {
    const std::string& text = input.second;
    INFO("fuzz_scenario/" << input.first);
    LoadOutcome out = load_scenario_text(text, "fuzz.yaml", kRoot, {});
    CHECK(out.scenario.has_value() == out.errors.empty());
  }
  for (const auto& input : regressions("fuzz_expression")) {
    const std::string& text = input.second;
    INFO("fuzz_expression/" << input.first);
    auto e = parse_slo(text);
    if (e) (void)evaluate_slo(*e, FixedData(1));
  }
  for (const auto& input : regressions("fuzz_units")) {
    const std::string& text = input.second;
    INFO("fuzz_units/" << input.first);
    (void)parse_duration_us(text);
    (void)parse_rate_per_s(text);
    (void)parse_size_bytes(text);
  }
  for (const auto& input : regressions("fuzz_kubeconfig")) {
    const std::string& text = input.second;
    INFO("fuzz_kubeconfig/" << input.first);
    (void)parse_kubeconfig(text, "/fuzz/kube/config");
  }
}

// fuzz_expression, deep-parentheses: 776 '(' overflowed the stack, the
// parser recursing once per parenthesis.
TEST_CASE("fuzz regressions: parentheses nest 32 deep at most") {
  auto deep = parse_slo(repeat("(", 776));
  REQUIRE_FALSE(deep.ok());
  CHECK(deep.error().message == "parentheses nested more than 32 deep");
  CHECK(deep.error().where.column == 33);  // the 33rd '('

  auto ok = parse_slo(repeat("(", 32) + "count(produce.failed)" + repeat(")", 32) + " == 0");
  CHECK(ok.ok());
  CHECK_FALSE(parse_slo(repeat("(", 33) + "count(produce.failed)" + repeat(")", 33) + " == 0").ok());

  // recovery_time(recovery_time(...)) is refused before its condition is
  // parsed (that, too, recursed once per level), with the message it had.
  std::string nested = repeat("recovery_time(", 2000) + "count(produce.failed) == 0" + repeat(") < 1s", 2000) + " after leader-down";
  auto r = parse_slo(nested);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message == "recovery_time's condition is checked second by second: no 'during', 'over' or nested recovery_time");
  CHECK(r.error().where.column == 15);
}

// Found while fixing the above: a chain `1 + 1 + ...` is a tree as deep as it
// is long, which evaluate_slo walked recursively.
TEST_CASE("fuzz regressions: a long chain of terms evaluates without recursion") {
  std::string chain = "count(produce.acked)" + repeat(" + count(produce.acked)", 99999) + " == 100000";
  auto e = parse_slo(chain);
  REQUIRE(e.ok());
  SloOutcome out = evaluate_slo(*e, FixedData(1));
  CHECK(out.lhs == 100000);
  CHECK(out.pass);
  CHECK_FALSE(out.no_data);

  // Left to right, operands before their operator: 10 - 2 * 3 - 1 == 3.
  auto mixed = parse_slo("count(produce.acked) * 10 - 2 * 3 - count(produce.acked) == 3");
  REQUIRE(mixed.ok());
  CHECK(evaluate_slo(*mixed, FixedData(1)).pass);
}

// fuzz_expression, percentile-exponent: strtod read "p1e400" as an infinite
// percentile that the p999 shorthand turned into NaN, which passed the
// bounds check; the histogram then cast NaN to an integer rank (UB).
TEST_CASE("fuzz regressions: a percentile is digits and one dot") {
  for (const char* bad : {"p1e400(produce.latency) < 1s", "p1e2(produce.latency) < 1s", "p0x10(produce.latency) < 1s",
                          "p9e-1(produce.latency) < 1s"}) {
    CAPTURE(bad);
    auto r = parse_slo(bad);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().message.find("bad percentile") != std::string::npos);
  }
  auto shorthand = parse_slo("p999(produce.latency) < 1s");
  REQUIRE(shorthand.ok());
  CHECK(shorthand->nodes[0].percentile == doctest::Approx(99.9));
  CHECK(parse_slo("p99.99(produce.latency) < 1s").ok());
}

// fuzz_scenario, benchmark-steps-overflow: a benchmark from 1000/s by
// 0.000001/s to 1e21/s has 1e27 steps, which steps() cast to int (UB; on x86
// INT_MIN, so `validate` let it through with a negative duration).
TEST_CASE("fuzz regressions: a benchmark with more steps than an int holds is refused") {
  auto files = regressions("fuzz_scenario");
  auto it = std::find_if(files.begin(), files.end(), [](const auto& f) { return f.first == "benchmark-steps-overflow"; });
  REQUIRE(it != files.end());
  LoadOutcome out = load_scenario_text(it->second, "fuzz.yaml", kRoot, {});
  REQUIRE_FALSE(out.scenario.has_value());
  REQUIRE(out.errors.size() == 1);
  CHECK(out.errors[0].message == "a benchmark of 1000001 steps is too many (at most 1000)");

  BenchmarkSpec b;
  b.from = 1e300;
  b.max = 0;
  b.step = 1e-300;  // max below from: as many steps the other way
  CHECK(b.steps() == -999999);
  b.from = 1000;
  b.max = 20000;
  b.step = 1000;
  CHECK(b.steps() == 20);
}

// fuzz_scenario, long-name: libstdc++'s std::regex_match recursed once per
// character of the scenario's name; some 20,000 characters overflowed the
// stack of `kapture-engine validate` (and of `run`).
TEST_CASE("fuzz regressions: long scenario and phase names are checked without recursion") {
  std::string name = "a" + std::string(300000, 'b');
  auto ok = load_scenario_text("name: " + name + "\ntimeline:\n  - {phase: " + name + ", duration: 1s}\n", "fuzz.yaml", kRoot, {});
  CHECK(ok.errors.empty());
  REQUIRE(ok.scenario.has_value());
  CHECK(ok.scenario->name == name);

  auto bad = load_scenario_text("name: " + name + "X\ntimeline:\n  - {phase: -" + name + ", duration: 1s}\n", "fuzz.yaml", kRoot, {});
  REQUIRE(bad.errors.size() == 2);
  CHECK(bad.errors[0].message.find("must be lowercase letters, digits") != std::string::npos);
  CHECK(bad.errors[1].where.line == 3);
}

// Found reviewing what fuzz_kubeconfig's output feeds: a kubeconfig string
// that is not UTF-8 parses (yaml-cpp keeps the bytes), and handing it to an
// exec plugin (KUBERNETES_EXEC_INFO) threw nlohmann's type_error 316.
TEST_CASE("fuzz regressions: kubeconfig strings that are not UTF-8 reach an exec plugin as Go would encode them") {
  std::string text =
      "apiVersion: v1\n"
      "clusters:\n"
      "- name: c\n"
      "  cluster:\n"
      "    server: \"https://k8s\xff.example\"\n"
      "    extensions:\n"
      "    - name: client.authentication.k8s.io/exec\n"
      "      extension: {audience: \"a\xc3\"}\n";
  auto k = parse_kubeconfig(text, "/fuzz/kube/config");
  REQUIRE(k.ok());
  const KubeconfigCluster& c = k->clusters.at("c");
  ExecClusterInfo info;
  info.server = c.server;
  info.config = c.exec_extension;
  std::string json;
  REQUIRE_NOTHROW(json = exec_info_json("client.authentication.k8s.io/v1", info));
  // U+FFFD for each bad byte, as Go's encoding/json writes it.
  CHECK(json.find("\"server\":\"https://k8s\xef\xbf\xbd.example\"") != std::string::npos);
  CHECK(json.find("\"audience\":\"a\xef\xbf\xbd\"") != std::string::npos);
}
