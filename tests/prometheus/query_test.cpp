// prometheus_instant against a real Prometheus that scraped a run of the
// engine (tests/integration/prometheus_live.sh sets PROMETHEUS_URL, and
// KAPTURE_STEADY_AT to a Unix time inside the run's `steady` phase).
#include <doctest/doctest.h>

#include <cmath>
#include <cstdlib>
#include <optional>
#include <string>

#include "slo/PrometheusQuery.h"

using namespace kapture;

namespace {

std::optional<std::string> env(const char* name) {
  const char* v = std::getenv(name);
  if (!v || !*v) return std::nullopt;
  return std::string(v);
}

}  // namespace

TEST_SUITE("query") {
  TEST_CASE("numbers from a scraped run") {
    auto url = env("PROMETHEUS_URL");
    if (!url) {
      MESSAGE("PROMETHEUS_URL not set: skipped (tests/integration/prometheus_live.sh runs this)");
      return;
    }
    auto two = prometheus_instant(*url, "1 + 1", std::nullopt);
    REQUIRE(two);
    CHECK(*two == 2);
    auto inf = prometheus_instant(*url, "1 / 0", std::nullopt);
    REQUIRE(inf);
    CHECK(std::isinf(*inf));

    // The total; the same family has a series per topic too.
    auto acked = prometheus_instant(*url, "kapture_produce_acked_total{topic=\"\"}", std::nullopt);
    REQUIRE_MESSAGE(acked, acked.error().message);
    CHECK(*acked > 1000);
    auto quantiles = prometheus_instant(*url, "count(kapture_produce_latency_seconds{topic=\"\"})", std::nullopt);
    REQUIRE(quantiles);
    CHECK(*quantiles == 4);

    // Evaluated at a time in the steady phase: the phase series then.
    auto steady_at = env("KAPTURE_STEADY_AT");
    REQUIRE(steady_at);
    double at = std::stod(*steady_at);
    auto steady = prometheus_instant(*url, "kapture_phase_info{phase=\"steady\"}", at);
    REQUIRE_MESSAGE(steady, steady.error().message);
    CHECK(*steady == 1);
    auto index = prometheus_instant(*url, "kapture_phase_index", at);
    REQUIRE(index);
    CHECK(*index == 1);
  }

  TEST_CASE("no data is distinct from an error") {
    auto url = env("PROMETHEUS_URL");
    if (!url) return;
    auto none = prometheus_instant(*url, "kapture_no_such_metric", std::nullopt);
    REQUIRE_FALSE(none);
    CHECK(is_prometheus_no_data(none.error()));
    // Long before the run: the series did not exist yet.
    auto early = prometheus_instant(*url, "kapture_produce_acked_total{topic=\"\"}", 1000000000.0);
    REQUIRE_FALSE(early);
    CHECK(is_prometheus_no_data(early.error()));
  }

  TEST_CASE("errors are values that say what went wrong") {
    auto url = env("PROMETHEUS_URL");
    if (!url) return;
    auto many = prometheus_instant(*url, "kapture_produce_latency_seconds{topic=\"\"}", std::nullopt);
    REQUIRE_FALSE(many);
    CHECK_FALSE(is_prometheus_no_data(many.error()));
    CHECK(many.error().message.find("returned 4 series") != std::string::npos);
    CHECK(many.error().message.find("aggregate") != std::string::npos);

    // Prometheus' own parser message comes through.
    auto bad = prometheus_instant(*url, "sum(kapture_produce_acked_total", std::nullopt);
    REQUIRE_FALSE(bad);
    CAPTURE(bad.error().message);
    CHECK(bad.error().kind == ErrorKind::Usage);
    CHECK(bad.error().message.find("bad_data: ") != std::string::npos);
    CHECK(bad.error().message.find("1:32: parse error: unclosed left parenthesis") != std::string::npos);

    auto range = prometheus_instant(*url, "kapture_produce_acked_total[1m]", std::nullopt);
    REQUIRE_FALSE(range);
    CHECK(range.error().message.find("range vector") != std::string::npos);

    auto text = prometheus_instant(*url, "\"hello\"", std::nullopt);
    REQUIRE_FALSE(text);
    CHECK(text.error().message.find("string result") != std::string::npos);

    // A server that is not Prometheus' API.
    auto wrong = prometheus_instant(*url + "/nope", "1", std::nullopt);
    REQUIRE_FALSE(wrong);
    CHECK(wrong.error().message.find("answered HTTP 404") != std::string::npos);
  }
}

// No server needed: nothing listens on port 1.
TEST_CASE("an unreachable Prometheus is named") {
  auto r = prometheus_instant("http://127.0.0.1:1", "up", std::nullopt);
  REQUIRE_FALSE(r);
  CHECK(r.error().kind == ErrorKind::Unreachable);
  CHECK(r.error().message.find("Prometheus at http://127.0.0.1:1 is unreachable") != std::string::npos);
}
