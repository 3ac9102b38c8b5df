// Label filters, sliding windows and recovery_time: how they parse, where
// their errors point, and what they measure over a real MetricsStore.
#include <doctest/doctest.h>

#include <cmath>
#include <string>

#include "slo/MetricsSloData.h"
#include "slo/SloExpression.h"
#include "slo_parse.h"

using namespace kapture;
using slo_test::contains;
using slo_test::parse_err;
using slo_test::parse_ok;

namespace {

// One latency per second (in microseconds) from second 0.
// (MetricsStore holds a mutex: filled in place, not returned.)
void latencies(MetricsStore& store, const std::vector<int64_t>& per_second_us, const std::string& series = "produce.latency") {
  for (size_t s = 0; s < per_second_us.size(); ++s) {
    if (per_second_us[s] < 0) continue;  // a second with no sample
    Histogram h;
    h.record(per_second_us[s], 10);
    SecondSample sample;
    sample.histograms[series] = h.compact();
    store.add(static_cast<int64_t>(s), sample);
  }
}

SloContext whole(int64_t seconds) {
  SloContext ctx;
  ctx.run = SecondWindow{0, seconds};
  return ctx;
}

}  // namespace

TEST_CASE("slo labels: a filter is part of the metric, canonical and checked") {
  auto e = parse_ok(R"(p99(produce.latency{topic="bps.texas"}) < 250ms)");
  CHECK(e.nodes[e.lhs].metric == R"(produce.latency{topic="bps.texas"})");
  CHECK(metric_base_name(e.nodes[e.lhs].metric) == "produce.latency");
  auto spaced = parse_ok(R"(count(produce.acked{ topic = "a" }) > 0)");
  CHECK(spaced.nodes[spaced.lhs].metric == R"(produce.acked{topic="a"})");
  auto bare = parse_ok(R"(produce.failed{topic="a"} == 0)");
  CHECK(bare.nodes[bare.lhs].metric == R"(produce.failed{topic="a"})");
  CHECK(bare.nodes[bare.lhs].agg == SloNode::Agg::Count);

  Error unknown = parse_err(R"(p99(produce.latency{state="TX"}) < 1s)");
  CHECK(unknown.where.column == 21);
  CHECK(contains(unknown.message, "no label 'state'"));
  CHECK(contains(unknown.message, "topic"));
  Error none = parse_err(R"(count(etl.written{topic="a"}) > 0)");
  CHECK(contains(none.message, "has no labels"));
  Error unquoted = parse_err("p99(produce.latency{topic=a}) < 1s");
  CHECK(unquoted.where.column == 27);
  CHECK(contains(unquoted.message, "quoted"));
  Error open = parse_err(R"(p99(produce.latency{topic="a") < 1s)");
  CHECK(open.where.column == 20);
}

TEST_CASE("slo windows: over, for N consecutive, and the phase they slide over") {
  auto e = parse_ok("p99(produce.latency) < 100ms over 10s");
  CHECK(e.over_us == 10'000'000);
  CHECK(e.consecutive == 0);
  CHECK(e.nodes[e.lhs].during.empty());

  auto c = parse_ok("p99(produce.latency) < 100ms over 5s for 3 consecutive windows during steady");
  CHECK(c.consecutive == 3);
  CHECK(c.range_phase == "steady");
  CHECK(c.nodes[c.lhs].during.empty());  // the windows slide over steady; the aggregate follows them
  CHECK(c.phases_named().size() == 1);

  auto mixed = parse_ok("p99(produce.latency) <= 2 * p99(produce.latency) during baseline over 10s");
  CHECK(mixed.nodes[mixed.lhs].during.empty());
  CHECK(mixed.range_phase.empty());
  CHECK(mixed.phases_named().size() == 1);  // the baseline aggregate keeps its own window
  CHECK(mixed.over_us == 10'000'000);

  Error frac = parse_err("p99(produce.latency) < 100ms over 1500ms");
  CHECK(frac.where.column == 35);
  CHECK(contains(frac.message, "whole seconds"));
  Error count = parse_err("p99(produce.latency) < 100ms over 10s for three consecutive");
  CHECK(count.where.column == 43);
  Error twice = parse_err("p99(produce.latency) < 100ms over 10s over 5s");
  CHECK(twice.where.column == 39);
}

TEST_CASE("slo recovery_time: a condition, a threshold and a step") {
  auto e = parse_ok("recovery_time(p99(produce.latency) < 100ms) < 20s after kill-leader");
  REQUIRE(e.recovery.size() == 1);
  CHECK(e.after == "kill-leader");
  CHECK(e.after_offset == 56);
  CHECK(e.nodes[e.lhs].agg == SloNode::Agg::Recovery);
  CHECK(e.nodes[e.lhs].dim == SloDimension::Time);
  REQUIRE(e.metrics_named().size() == 1);
  CHECK(e.metrics_named()[0].second == 18);  // a column in the whole text

  Error inner = parse_err("recovery_time(p99(produce.latncy) < 100ms) < 20s after x");
  CHECK(inner.where.column == 19);
  CHECK(contains(inner.message, "unknown metric"));
  Error no_after = parse_err("recovery_time(p99(produce.latency) < 100ms) < 20s");
  CHECK(contains(no_after.message, "after"));
  Error unit = parse_err("recovery_time(p99(produce.latency) < 100ms) < 20 after x");
  CHECK(contains(unit.message, "cannot compare"));
  Error middle = parse_err("1s < recovery_time(p99(produce.latency) < 1ms)");
  CHECK(contains(middle.message, "must start the expression"));
  Error windowed = parse_err("recovery_time(p99(produce.latency) < 100ms) < 20s after x over 10s");
  CHECK(contains(windowed.message, "does not apply"));
}

TEST_CASE("slo windows over a store: every window, consecutive windows, the worst one") {
  // 20 seconds at 10 ms, with a one-second spike of 500 ms at second 8.
  std::vector<int64_t> lat(20, 10'000);
  lat[8] = 500'000;
  MetricsStore store;
  latencies(store, lat);
  // The whole run's p99 hides a spike that every 5 s window containing it shows.
  CHECK(evaluate_on_store(parse_ok("p90(produce.latency) < 100ms"), store, whole(20)).pass);
  SloOutcome every = evaluate_on_store(parse_ok("p90(produce.latency) < 100ms over 5s"), store, whole(20));
  CHECK_FALSE(every.pass);
  CHECK(every.lhs >= 400'000);
  CHECK(contains(every.note, "5 of 16 window(s) failed"));
  // Windows 0-5 .. 3-8 hold before the spike (4 in a row), 9-14 .. 15-20 after it (7).
  SloOutcome four = evaluate_on_store(parse_ok("p90(produce.latency) < 100ms over 5s for 4 consecutive"), store, whole(20));
  CHECK(four.pass);
  CHECK(contains(four.note, "held in"));
  CHECK(evaluate_on_store(parse_ok("p90(produce.latency) < 100ms over 5s for 7 consecutive"), store, whole(20)).pass);
  CHECK_FALSE(evaluate_on_store(parse_ok("p90(produce.latency) < 100ms over 5s for 8 consecutive"), store, whole(20)).pass);
  // While the run goes only the newest window is judged: the spike's windows
  // were judged (and reported) when they were the newest.
  SloContext live = whole(20);
  live.final = false;
  CHECK(evaluate_on_store(parse_ok("p90(produce.latency) < 100ms over 5s"), store, live).pass);
  live.run = SecondWindow{0, 10};
  CHECK_FALSE(evaluate_on_store(parse_ok("p90(produce.latency) < 100ms over 5s"), store, live).pass);
  // Seconds with no samples are skipped; no window with data at all is no data.
  MetricsStore nothing;
  SloOutcome empty = evaluate_on_store(parse_ok("p90(produce.latency) < 100ms over 5s"), nothing, whole(20));
  CHECK(empty.no_data);
  CHECK_FALSE(empty.pass);
  // The windows slide over a phase only.
  SloContext ctx = whole(20);
  ctx.phases["calm"] = SecondWindow{12, 20};
  CHECK(evaluate_on_store(parse_ok("p90(produce.latency) < 100ms over 5s during calm"), store, ctx).pass);
}

TEST_CASE("slo recovery_time over a store: first of 3 good seconds after each injection") {
  // Latency bad from second 5 to 11 (an injection at 5.2 s), good after.
  std::vector<int64_t> lat(30, 10'000);
  for (int s = 5; s <= 11; ++s) lat[s] = 800'000;
  lat[7] = -1;  // a second with nothing acknowledged: not recovered
  MetricsStore store;
  latencies(store, lat);
  SloContext ctx = whole(30);
  ctx.steps["broker-kill"] = {5'200'000};
  auto e = parse_ok("recovery_time(p99(produce.latency) < 100ms) < 10s after broker-kill");
  SloOutcome o = evaluate_on_store(e, store, ctx);
  CHECK(o.lhs == doctest::Approx(12'000'000 - 5'200'000));
  CHECK(o.pass);
  CHECK_FALSE(evaluate_on_store(parse_ok("recovery_time(p99(produce.latency) < 100ms) < 5s after broker-kill"), store, ctx).pass);
  // Two injections: the slower counts.
  ctx.steps["broker-kill"] = {1'000'000, 5'200'000};
  CHECK(evaluate_on_store(e, store, ctx).lhs == doctest::Approx(6'800'000));
  // Never recovered: infinite once the run is over, a lower bound while it runs.
  std::vector<int64_t> never(30, 10'000);
  for (int s = 20; s < 30; ++s) never[s] = 800'000;
  MetricsStore bad;
  latencies(bad, never);
  SloContext late = whole(30);
  late.steps["broker-kill"] = {20'000'000};
  SloOutcome inf = evaluate_on_store(e, bad, late);
  CHECK(std::isinf(inf.lhs));
  CHECK_FALSE(inf.pass);
  CHECK(contains(inf.note, "never recovered"));
  late.final = false;
  late.run = SecondWindow{0, 26};
  SloOutcome so_far = evaluate_on_store(e, bad, late);
  CHECK(so_far.lhs == doctest::Approx(6'000'000));
  CHECK(so_far.pass);  // 6 s < 10 s: not violated yet
  // `after STEP ends` counts from the undo instead.
  auto ends = parse_ok("recovery_time(p99(produce.latency) < 100ms) < 5s after broker-kill ends");
  CHECK(ends.after == "broker-kill");
  CHECK(ends.after_end);
  SloContext undone = whole(30);
  undone.steps["broker-kill"] = {5'200'000};
  undone.steps["broker-kill ends"] = {11'500'000};
  SloOutcome from_undo = evaluate_on_store(ends, store, undone);
  CHECK(from_undo.lhs == doctest::Approx(500'000));  // good from second 12 on
  CHECK(from_undo.pass);
  CHECK(contains(from_undo.note, "undo(s) of broker-kill"));
  // A step that never ran is no data.
  SloContext none = whole(30);
  CHECK(evaluate_on_store(e, store, none).no_data);
}

TEST_CASE("slo labels over a store: the filtered series, not the total") {
  MetricsStore store;
  SecondSample s;
  s.counters["produce.acked"] = 30;
  s.counters[R"(produce.acked{topic="a"})"] = 10;
  s.counters[R"(produce.acked{topic="b"})"] = 20;
  store.add(0, s);
  CHECK(evaluate_on_store(parse_ok(R"(count(produce.acked{topic="a"}) == 10)"), store, whole(1)).pass);
  CHECK(evaluate_on_store(parse_ok(R"(count(produce.acked{topic="b"}) == 20)"), store, whole(1)).pass);
  CHECK(evaluate_on_store(parse_ok("count(produce.acked) == 30"), store, whole(1)).pass);
}
