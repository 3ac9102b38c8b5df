// The expectation grammar: what parses into which nodes, which errors point at
// which column, and how expressions evaluate over fixed numbers.
#include <doctest/doctest.h>

#include <map>
#include <string>
#include <vector>

#include "slo/SloExpression.h"
#include "slo_parse.h"

using namespace kapture;
using slo_test::contains;
using slo_test::parse_err;
using slo_test::parse_ok;

namespace {

// Fixed numbers by "agg(metric)@window"; records which windows were asked for.
class FakeData : public SloData {
 public:
  std::map<std::string, double> values;
  mutable std::vector<std::string> asked;

  void set(const std::string& agg, const std::string& metric, const std::string& window, double v) {
    values[agg + "(" + metric + ")@" + window] = v;
  }
  bool aggregate(const SloNode& node, const std::string& window, double& out) const override {
    std::string key = node.agg_text + "(" + node.metric + ")@" + window;
    asked.push_back(key);
    auto it = values.find(key);
    if (it == values.end()) return false;
    out = it->second;
    return true;
  }
};

}  // namespace

TEST_CASE("slo: percentile against a duration, with a trailing during") {
  auto e = parse_ok("p99(produce.latency) < 250ms during steady");
  REQUIRE(e.nodes.size() == 2);
  REQUIRE(e.lhs == 0);
  REQUIRE(e.rhs == 1);
  CHECK(e.cmp == "<");
  const SloNode& agg = e.nodes[0];
  CHECK(agg.kind == SloNode::Kind::Aggregate);
  CHECK(agg.agg == SloNode::Agg::Percentile);
  CHECK(agg.percentile == 99.0);
  CHECK(agg.agg_text == "p99");
  CHECK(agg.metric == "produce.latency");
  CHECK(agg.metric_offset == 4);
  CHECK(agg.dim == SloDimension::Time);
  CHECK(agg.during == "steady");
  CHECK(agg.during_offset == 36);
  const SloNode& num = e.nodes[1];
  CHECK(num.kind == SloNode::Kind::Number);
  CHECK(num.number == 250'000.0);
  CHECK(num.dim == SloDimension::Time);
  CHECK(num.during.empty());
  CHECK(e.has_during());
  REQUIRE(e.phases_named().size() == 1);
  CHECK(e.phases_named()[0] == std::pair<std::string, size_t>("steady", 36));
  REQUIRE(e.metrics_named().size() == 1);
  CHECK(e.metrics_named()[0] == std::pair<std::string, size_t>("produce.latency", 4));
  CHECK(e.text == "p99(produce.latency) < 250ms during steady");
}

TEST_CASE("slo: rate against a rate threshold") {
  auto e = parse_ok("rate(produce.acked) >= 1900/s during steady");
  REQUIRE(e.nodes.size() == 2);
  CHECK(e.cmp == ">=");
  CHECK(e.nodes[e.lhs].agg == SloNode::Agg::Rate);
  CHECK(e.nodes[e.lhs].dim == SloDimension::Rate);
  CHECK(e.nodes[e.lhs].during == "steady");
  CHECK(e.nodes[e.rhs].number == 1900.0);
  CHECK(e.nodes[e.rhs].dim == SloDimension::Rate);
  auto per_minute = parse_ok("rate(produce.acked) > 120/m");
  CHECK(per_minute.nodes[per_minute.rhs].number == doctest::Approx(2.0));
}

TEST_CASE("slo: counts, with no during meaning the whole run") {
  auto e = parse_ok("count(produce.failed) == 0");
  REQUIRE(e.nodes.size() == 2);
  CHECK(e.cmp == "==");
  CHECK(e.nodes[0].agg == SloNode::Agg::Count);
  CHECK(e.nodes[0].metric == "produce.failed");
  CHECK(e.nodes[0].dim == SloDimension::Number);
  CHECK(e.nodes[0].during.empty());
  CHECK(e.nodes[1].dim == SloDimension::Number);
  CHECK_FALSE(e.has_during());

  auto both = parse_ok("count(produce.acked) == count(produce.sent)");
  REQUIRE(both.nodes.size() == 2);
  CHECK(both.nodes[both.lhs].metric == "produce.acked");
  CHECK(both.nodes[both.rhs].metric == "produce.sent");
  CHECK(both.nodes[both.rhs].metric_offset == 30);
  CHECK(both.metrics_named().size() == 2);

  auto bytes = parse_ok("count(produce.bytes) >= 1MiB");
  CHECK(bytes.nodes[0].dim == SloDimension::Bytes);
  CHECK(bytes.nodes[1].number == 1048576.0);
}

TEST_CASE("slo: a during after each aggregate gives each its own window") {
  auto e = parse_ok("p99(produce.latency) during chaos <= 2 * p99(produce.latency) during baseline");
  CHECK(e.cmp == "<=");
  REQUIRE(e.nodes.size() == 4);
  const SloNode& lhs = e.nodes[e.lhs];
  CHECK(lhs.kind == SloNode::Kind::Aggregate);
  CHECK(lhs.during == "chaos");
  CHECK(lhs.during_offset == 28);
  const SloNode& rhs = e.nodes[e.rhs];
  REQUIRE(rhs.kind == SloNode::Kind::Binary);
  CHECK(rhs.op == '*');
  CHECK(rhs.dim == SloDimension::Time);
  CHECK(e.nodes[rhs.lhs].kind == SloNode::Kind::Number);
  CHECK(e.nodes[rhs.lhs].number == 2.0);
  const SloNode& base = e.nodes[rhs.rhs];
  CHECK(base.kind == SloNode::Kind::Aggregate);
  CHECK(base.during == "baseline");
  auto phases = e.phases_named();
  REQUIRE(phases.size() == 2);
  CHECK(phases[0].first == "chaos");
  CHECK(phases[1].first == "baseline");

  // A trailing during fills only the aggregates that have none.
  auto mixed = parse_ok("p99(produce.latency) during chaos <= 2 * p99(produce.latency) during steady");
  CHECK(mixed.nodes[mixed.lhs].during == "chaos");
  CHECK(mixed.nodes[mixed.nodes[mixed.rhs].rhs].during == "steady");
  auto trailing = parse_ok("p99(produce.latency) <= 2 * p50(produce.latency) during steady");
  for (const auto& n : trailing.nodes)
    if (n.kind == SloNode::Kind::Aggregate) CHECK(n.during == "steady");
}

TEST_CASE("slo: percentile spellings") {
  auto dotted = parse_ok("p99.9(produce.latency) < 1s");
  CHECK(dotted.nodes[0].percentile == doctest::Approx(99.9));
  CHECK(dotted.nodes[0].agg_text == "p99.9");
  CHECK(dotted.nodes[1].number == 1'000'000.0);
  auto shorthand = parse_ok("p999(produce.latency) < 1s");
  CHECK(shorthand.nodes[0].percentile == doctest::Approx(99.9));
  auto four = parse_ok("p9999(produce.latency) < 1s");
  CHECK(four.nodes[0].percentile == doctest::Approx(99.99));
  CHECK(parse_ok("p50(produce.send_latency) < 1s").nodes[0].percentile == 50.0);
  CHECK(parse_ok("p100(produce.latency) < 1s").nodes[0].percentile == 100.0);
  auto bad = parse_err("p0(produce.latency) < 1s");
  CHECK(contains(bad.message, "bad percentile 'p0'"));
  CHECK(bad.where.column == 1);
}

TEST_CASE("slo: arithmetic precedence and parentheses") {
  auto e = parse_ok("count(produce.failed) < 1 + 2 * 3");
  const SloNode& rhs = e.nodes[e.rhs];
  REQUIRE(rhs.kind == SloNode::Kind::Binary);
  CHECK(rhs.op == '+');
  CHECK(e.nodes[rhs.rhs].op == '*');
  auto p = parse_ok("count(produce.failed) < (1 + 2) * 3");
  CHECK(p.nodes[p.rhs].op == '*');
  auto ratio = parse_ok("count(produce.failed) / count(produce.sent) < 0.01");
  CHECK(ratio.nodes[ratio.lhs].dim == SloDimension::Number);
  auto halved = parse_ok("p99(produce.latency) / 2 < 1ms");
  CHECK(halved.nodes[halved.lhs].dim == SloDimension::Time);
}

TEST_CASE("slo errors carry the column of the problem") {
  SUBCASE("unknown metric lists the known ones") {
    auto e = parse_err("p99(produce.latncy) < 250ms");
    CHECK(e.where.column == 5);
    CHECK(e.kind == ErrorKind::Usage);
    CHECK(contains(e.message, "unknown metric 'produce.latncy'"));
    CHECK(contains(e.message, "known: produce.latency"));
    CHECK(contains(e.message, "produce.acked"));
    CHECK(contains(e.message, "chaos.injected"));
  }
  SUBCASE("unknown aggregate") {
    auto e = parse_err("median(produce.latency) < 250ms");
    CHECK(e.where.column == 1);
    CHECK(contains(e.message, "unknown aggregate 'median'"));
  }
  SUBCASE("percentile of a counter") {
    auto e = parse_err("p99(produce.acked) < 5");
    CHECK(e.where.column == 1);
    CHECK(contains(e.message, "'p99' needs a histogram metric; produce.acked is a counter"));
  }
  SUBCASE("last of a counter, count of a gauge") {
    CHECK(contains(parse_err("last(produce.acked) == 0").message, "'last' needs a gauge metric"));
    CHECK(contains(parse_err("count(produce.in_flight) == 0").message, "is a gauge (use last)"));
  }
  SUBCASE("a bare number against a latency asks for a unit") {
    auto e = parse_err("p99(produce.latency) < 250");
    CHECK(e.where.column == 22);
    CHECK(e.message == "cannot compare a duration with a plain number (write the threshold with a unit, e.g. 250ms)");
    auto r = parse_err("rate(produce.acked) >= 1900");
    CHECK(contains(r.message, "e.g. 1000/s"));
    auto d = parse_err("p99(produce.latency) < 1900/s");
    CHECK(d.message == "cannot compare a duration with a rate");
  }
  SUBCASE("missing comparison") {
    auto e = parse_err("p99(produce.latency)");
    CHECK(e.where.column == 21);
    CHECK(contains(e.message, "expected a comparison (<, <=, >, >=, ==, !=) but found end of expression"));
    auto f = parse_err("p99(produce.latency) 250ms");
    CHECK(f.where.column == 22);
    CHECK(contains(f.message, "but found '250ms'"));
  }
  SUBCASE("stray character") {
    auto e = parse_err("p99(produce.latency) < 250ms;");
    CHECK(e.where.column == 29);
    CHECK(e.message == "unexpected character ';'");
    auto at = parse_err("count(produce.failed) == 0 @");
    CHECK(at.where.column == 28);
  }
  SUBCASE("= instead of ==") {
    auto e = parse_err("count(produce.failed) = 0");
    CHECK(e.where.column == 23);
    CHECK(contains(e.message, "unknown operator '='"));
    CHECK(contains(e.message, "'=='"));
    auto bang = parse_err("count(produce.failed) ! 0");
    CHECK(contains(bang.message, "'!='"));
  }
  SUBCASE("unbalanced parentheses") {
    auto open = parse_err("(count(produce.failed) == 0");
    CHECK(open.where.column == 24);
    CHECK(contains(open.message, "expected ')' but found '=='"));
    auto close = parse_err("count(produce.failed)) == 0");
    CHECK(close.where.column == 22);
    CHECK(contains(close.message, "but found ')'"));
    auto inner = parse_err("count(produce.failed == 0");
    CHECK(inner.where.column == 22);
    CHECK(contains(inner.message, "expected ')'"));
    auto end = parse_err("count(produce.failed) < (1 + 2");
    CHECK(end.where.column == 31);
    CHECK(contains(end.message, "found end of expression"));
  }
  SUBCASE("during without a phase, unknown unit, mixed dimensions") {
    auto d = parse_err("p99(produce.latency) < 250ms during");
    CHECK(d.where.column == 36);
    CHECK(contains(d.message, "expected a phase name after 'during'"));
    auto u = parse_err("p99(produce.latency) < 250xs");
    CHECK(u.where.column == 24);
    CHECK(contains(u.message, "unknown unit in '250xs'"));
    auto m = parse_err("p99(produce.latency) + rate(produce.acked) > 1ms");
    CHECK(m.where.column == 22);
    CHECK(contains(m.message, "cannot add or subtract a duration and a rate"));
    auto mul = parse_err("p99(produce.latency) * p99(produce.latency) > 1ms");
    CHECK(contains(mul.message, "cannot multiply"));
  }
  SUBCASE("empty and junk") {
    CHECK(parse_err("").where.column == 1);
    CHECK(contains(parse_err("< 5").message, "expected a number or an aggregate"));
    CHECK(contains(parse_err("p99 < 5ms").message, "expected '(' after 'p99'"));
    CHECK(contains(parse_err("p99() < 5ms").message, "expected a metric name"));
  }
}

TEST_CASE("evaluate_slo: pass, fail and no data") {
  auto e = parse_ok("p99(produce.latency) < 250ms during steady");
  FakeData d;
  d.set("p99", "produce.latency", "steady", 200'000);
  SloOutcome o = evaluate_slo(e, d);
  CHECK(o.pass);
  CHECK_FALSE(o.no_data);
  CHECK(o.lhs == 200'000.0);
  CHECK(o.rhs == 250'000.0);
  CHECK(o.dim == SloDimension::Time);
  REQUIRE(d.asked.size() == 1);
  CHECK(d.asked[0] == "p99(produce.latency)@steady");

  d.set("p99", "produce.latency", "steady", 250'000);  // strict <
  CHECK_FALSE(evaluate_slo(e, d).pass);

  FakeData whole_run_only;
  whole_run_only.set("p99", "produce.latency", "", 1);
  SloOutcome nd = evaluate_slo(e, whole_run_only);
  CHECK(nd.no_data);
  CHECK_FALSE(nd.pass);
}

TEST_CASE("evaluate_slo: counts and equality") {
  auto zero = parse_ok("count(produce.failed) == 0");
  FakeData d;
  d.set("count", "produce.failed", "", 0);
  CHECK(evaluate_slo(zero, d).pass);
  REQUIRE(d.asked.size() == 1);
  CHECK(d.asked[0] == "count(produce.failed)@");  // no during: the whole run
  d.set("count", "produce.failed", "", 1);
  CHECK_FALSE(evaluate_slo(zero, d).pass);

  auto same = parse_ok("count(produce.acked) == count(produce.sent)");
  FakeData c;
  c.set("count", "produce.acked", "", 1000);
  c.set("count", "produce.sent", "", 1000);
  CHECK(evaluate_slo(same, c).pass);
  c.set("count", "produce.sent", "", 1001);
  SloOutcome o = evaluate_slo(same, c);
  CHECK_FALSE(o.pass);
  CHECK(o.lhs == 1000.0);
  CHECK(o.rhs == 1001.0);
  c.values.erase("count(produce.sent)@");
  SloOutcome missing = evaluate_slo(same, c);
  CHECK(missing.no_data);
  CHECK_FALSE(missing.pass);

  auto differ = parse_ok("count(produce.acked) != count(produce.sent)");
  c.set("count", "produce.sent", "", 999);
  CHECK(evaluate_slo(differ, c).pass);
  c.set("count", "produce.sent", "", 1000);
  CHECK_FALSE(evaluate_slo(differ, c).pass);
}

TEST_CASE("evaluate_slo: rates with >=") {
  auto e = parse_ok("rate(produce.acked) >= 1900/s during steady");
  FakeData d;
  d.set("rate", "produce.acked", "steady", 1900);
  CHECK(evaluate_slo(e, d).pass);
  d.set("rate", "produce.acked", "steady", 1899.5);
  CHECK_FALSE(evaluate_slo(e, d).pass);
  d.set("rate", "produce.acked", "steady", 2500);
  SloOutcome o = evaluate_slo(e, d);
  CHECK(o.pass);
  CHECK(o.dim == SloDimension::Rate);
}

TEST_CASE("evaluate_slo: arithmetic across windows") {
  auto e = parse_ok("p99(produce.latency) during chaos <= 2 * p99(produce.latency) during baseline");
  FakeData d;
  d.set("p99", "produce.latency", "baseline", 250'000);
  d.set("p99", "produce.latency", "chaos", 500'000);
  SloOutcome o = evaluate_slo(e, d);
  CHECK(o.pass);  // equal is allowed by <=
  CHECK(o.lhs == 500'000.0);
  CHECK(o.rhs == 500'000.0);
  d.set("p99", "produce.latency", "chaos", 500'001);
  CHECK_FALSE(evaluate_slo(e, d).pass);
  d.set("p99", "produce.latency", "chaos", 100'000);
  CHECK(evaluate_slo(e, d).pass);

  auto prec = parse_ok("count(produce.failed) < 1 + 2 * 3");
  FakeData f;
  f.set("count", "produce.failed", "", 6);
  SloOutcome po = evaluate_slo(prec, f);
  CHECK(po.rhs == 7.0);
  CHECK(po.pass);
  f.set("count", "produce.failed", "", 7);
  CHECK_FALSE(evaluate_slo(prec, f).pass);
  auto paren = parse_ok("count(produce.failed) < (1 + 2) * 3");
  CHECK(evaluate_slo(paren, f).rhs == 9.0);
  auto minus = parse_ok("count(produce.failed) < 10 - 4 - 3");  // left associative: 3
  CHECK(evaluate_slo(minus, f).rhs == 3.0);
  auto div = parse_ok("count(produce.failed) < 12 / 2 / 3");  // left associative: 2
  CHECK(evaluate_slo(div, f).rhs == 2.0);

  auto ratio = parse_ok("count(produce.failed) / count(produce.sent) < 0.01");
  FakeData r;
  r.set("count", "produce.failed", "", 5);
  r.set("count", "produce.sent", "", 1000);
  CHECK(evaluate_slo(ratio, r).pass);
  r.set("count", "produce.failed", "", 20);
  CHECK_FALSE(evaluate_slo(ratio, r).pass);
  r.set("count", "produce.failed", "", 0);
  r.set("count", "produce.sent", "", 0);
  SloOutcome zz = evaluate_slo(ratio, r);
  CHECK(zz.lhs == 0.0);  // 0/0 counts as 0, not NaN
  CHECK(zz.pass);
}

TEST_CASE("format_slo_value shows each dimension in its unit") {
  CHECK(format_slo_value(250'000, SloDimension::Time) == "250ms");
  CHECK(format_slo_value(1'500'000, SloDimension::Time) == "1.5s");
  CHECK(format_slo_value(500, SloDimension::Time) == "500us");
  CHECK(format_slo_value(1980, SloDimension::Rate) == "1980/s");
  CHECK(format_slo_value(12, SloDimension::Number) == "12");
  CHECK(format_slo_value(5.2 * 1024 * 1024, SloDimension::Bytes) == "5.2MiB");  // as SloExpression.h documents
  CHECK(format_slo_value(200, SloDimension::Bytes) == "200B");
  CHECK(format_slo_value(4096, SloDimension::Bytes) == "4KiB");
  CHECK(format_slo_value(3.0 * 1024 * 1024 * 1024, SloDimension::Bytes) == "3GiB");
}
