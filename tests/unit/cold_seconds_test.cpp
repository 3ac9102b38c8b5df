// MetricsStore with a short live window against one that keeps everything
// live: past seconds (ColdSeconds, histograms in a temporary file) must give
// exactly the same answers for every window.
#include <doctest/doctest.h>

#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "metrics/MetricsStore.h"
#include "metrics/Varint.h"

using namespace kapture;

namespace {

SecondSample random_second(std::mt19937_64& rng, int64_t second) {
  SecondSample s;
  s.counters["produce.acked"] = static_cast<int64_t>(rng() % 1000);
  if (second % 3 == 0) s.counters["chaos.injected"] = 0;  // recorded as 0
  s.counters["produce.delta"] = static_cast<int64_t>(rng() % 200) - 100;  // negative too
  s.gauges["produce.in_flight"] = static_cast<double>(rng() % 50) + 0.5;
  if (second % 7 != 0) s.gauges["engine.rss_bytes"] = static_cast<double>(rng() % 100000000);
  for (const char* name : {"produce.latency", "produce.latency{topic=\"a\"}"}) {
    Histogram h;
    int n = static_cast<int>(rng() % 300);
    for (int i = 0; i < n; ++i) h.record(static_cast<int64_t>(rng() % 5000000));
    if (n) s.histograms[name] = h.compact();
  }
  return s;
}

bool same_histogram(const Histogram& a, const Histogram& b) {
  if (a.count() != b.count() || a.min() != b.min() || a.max() != b.max() || a.mean() != b.mean()) return false;
  for (double p : {1.0, 50.0, 90.0, 99.0, 99.9})
    if (a.percentile(p) != b.percentile(p)) return false;
  return true;
}

}  // namespace

TEST_CASE("a sparse histogram survives its byte form") {
  Histogram h;
  for (int64_t v : std::vector<int64_t>{0, 1, 127, 128, 5000, 123456789, 40000000000LL}) h.record(v, 3);
  std::string bytes;
  h.compact().encode(bytes);
  std::string_view in(bytes);
  SparseHistogram back;
  REQUIRE(SparseHistogram::decode(in, back));
  CHECK(in.empty());
  Histogram again;
  again.merge(back);
  CHECK(same_histogram(h, again));
  std::string_view cut(bytes.data(), bytes.size() - 1);
  CHECK_FALSE(SparseHistogram::decode(cut, back));  // truncated: refused, not read past
}

TEST_CASE("varints and zigzag round-trip") {
  for (int64_t v : {int64_t{0}, int64_t{1}, int64_t{-1}, int64_t{300}, std::numeric_limits<int64_t>::min(), std::numeric_limits<int64_t>::max()}) {
    std::string out;
    put_varint(out, zigzag(v));
    std::string_view in(out);
    uint64_t u = 0;
    REQUIRE(get_varint(in, u));
    CHECK(unzigzag(u) == v);
  }
}

TEST_CASE("past seconds answer every window exactly as live ones") {
  MetricsStore short_lived(5), all_live(std::numeric_limits<int64_t>::max() / 2);
  std::mt19937_64 rng(7);
  const int64_t seconds = 60;
  for (int64_t s = 0; s < seconds; ++s) {
    SecondSample sample = random_second(rng, s);
    short_lived.add(s, sample);
    all_live.add(s, sample);
    if (s == 40) {  // late hand-overs, into a second that is long past
      SecondSample late = random_second(rng, 3);
      short_lived.add(3, late);
      all_live.add(3, late);
      short_lived.add_counter(4, "produce.acked", 11);
      all_live.add_counter(4, "produce.acked", 11);
    }
    // A growing window read every second (a `during` expectation checked live).
    SecondWindow growing{2, s + 1};
    CHECK(same_histogram(short_lived.histogram("produce.latency", growing), all_live.histogram("produce.latency", growing)));
  }
  std::vector<SecondWindow> windows{{0, 60}, {0, 1}, {3, 5}, {10, 50}, {50, 60}, {53, 58}, {0, 100}, {59, 60}, {20, 20}};
  for (int64_t from = 0; from < 60; from += 5) windows.push_back({from, from + 30});  // sliding
  for (const auto& w : windows) {
    CAPTURE(w.from);
    CAPTURE(w.to);
    CHECK(short_lived.counter_sum("produce.acked", w) == all_live.counter_sum("produce.acked", w));
    CHECK(short_lived.counter_sum("produce.delta", w) == all_live.counter_sum("produce.delta", w));
    CHECK(short_lived.counter_recorded("chaos.injected", w) == all_live.counter_recorded("chaos.injected", w));
    CHECK(short_lived.counter_recorded("nope", w) == all_live.counter_recorded("nope", w));
    CHECK(short_lived.gauge_last("engine.rss_bytes", w) == all_live.gauge_last("engine.rss_bytes", w));
    CHECK(short_lived.gauge_max("produce.in_flight", w) == all_live.gauge_max("produce.in_flight", w));
    CHECK(short_lived.gauge_min("produce.in_flight", w) == all_live.gauge_min("produce.in_flight", w));
    for (const char* name : {"produce.latency", "produce.latency{topic=\"a\"}", "nope"})
      CHECK(same_histogram(short_lived.histogram(name, w), all_live.histogram(name, w)));
  }
  CHECK(short_lived.last_second() == all_live.last_second());
  auto t1 = short_lived.totals(60), t2 = all_live.totals(60);
  CHECK(t1.counters == t2.counters);
  CHECK(t1.histogram_counts == t2.histogram_counts);
  CHECK(t1.gauges == t2.gauges);
  // The timeseries: every second, in order, with the same content.
  std::vector<int64_t> order;
  std::vector<SecondSample> a, b;
  short_lived.for_each_second([&](int64_t s, const SecondSample& x) {
    order.push_back(s);
    a.push_back(x);
  });
  all_live.for_each_second([&](int64_t, const SecondSample& x) { b.push_back(x); });
  REQUIRE(order.size() == static_cast<size_t>(seconds));
  for (int64_t s = 0; s < seconds; ++s) {
    CAPTURE(s);
    CHECK(order[s] == s);
    CHECK(a[s].counters == b[s].counters);
    CHECK(a[s].gauges == b[s].gauges);
    REQUIRE(a[s].histograms.size() == b[s].histograms.size());
    for (const auto& [name, h] : b[s].histograms) {
      Histogram x, y;
      x.merge(a[s].histograms.at(name));
      y.merge(h);
      CHECK(same_histogram(x, y));
    }
  }
}
