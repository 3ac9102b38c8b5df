// MetricsStore's running totals: what a /metrics scrape reads instead of
// walking every second of the run.
#include <doctest/doctest.h>

#include "metrics/MetricsStore.h"

using namespace kapture;

namespace {

SecondSample sample(int64_t acked, int64_t latency_us, double in_flight) {
  SecondSample s;
  s.counters["produce.acked"] = acked;
  Histogram h;
  h.record(latency_us, 2);
  s.histograms["produce.latency"] = h.compact();
  s.gauges["produce.in_flight"] = in_flight;
  return s;
}

}  // namespace

TEST_CASE("metrics store: totals fold seconds once and take late arrivals") {
  MetricsStore store;
  store.add(0, sample(10, 100, 1));
  store.add(1, sample(20, 200, 2));
  store.add(2, sample(40, 400, 3));  // still being filled: not before `to`

  MetricsStore::Totals t = store.totals(2);
  CHECK(t.counters["produce.acked"] == 30);
  CHECK(t.histogram_counts["produce.latency"] == 4);
  CHECK(t.histogram_sums["produce.latency"] == doctest::Approx(600));
  CHECK(t.gauges["produce.in_flight"] == 2);  // the latest folded second's value

  // A recorder hands over second 1 late, and the ledger counts at second 0:
  // both land in the totals without refolding; the old gauge does not win.
  store.add(1, sample(5, 1000, 9));
  store.add_counter(0, "ledger.lost", 1);
  t = store.totals(3);
  CHECK(t.counters["produce.acked"] == 75);
  CHECK(t.counters["ledger.lost"] == 1);
  CHECK(t.histogram_counts["produce.latency"] == 8);
  CHECK(t.histogram_sums["produce.latency"] == doctest::Approx(600 + 2000 + 800));
  CHECK(t.gauges["produce.in_flight"] == 3);
  // The per-second view agrees.
  CHECK(store.counter_sum("produce.acked", SecondWindow{0, 3}) == 75);
  // Asking for less than what was folded returns what was folded.
  CHECK(store.totals(1).counters["produce.acked"] == 75);
}
