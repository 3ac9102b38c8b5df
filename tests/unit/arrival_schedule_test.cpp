// Open-loop arrival schedules: constant, ramp and Poisson, split over workers.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "workloads/ArrivalSchedule.h"

using namespace kapture;

namespace {

constexpr int64_t kSecond = 1'000'000;

LoadSpec rate(double per_s, Arrivals arrivals = Arrivals::Constant) {
  LoadSpec l;
  l.kind = LoadSpec::Kind::Rate;
  l.rate = per_s;
  l.arrivals = arrivals;
  return l;
}

LoadSpec ramp(double from, double to) {
  LoadSpec l;
  l.kind = LoadSpec::Kind::Ramp;
  l.from = from;
  l.to = to;
  return l;
}

std::vector<int64_t> drain(ArrivalSchedule& s, size_t limit = 10'000'000) {
  std::vector<int64_t> out;
  while (auto t = s.next()) {
    out.push_back(*t);
    if (out.size() > limit) break;  // a schedule that never ends is a failure, not a hang
  }
  return out;
}

std::vector<int64_t> events(const LoadSpec& l, int64_t start, int64_t duration, int worker = 0, int workers = 1, uint64_t seed = 1) {
  ArrivalSchedule s(l, start, duration, worker, workers, seed);
  return drain(s);
}

std::vector<int64_t> union_of_workers(const LoadSpec& l, int64_t start, int64_t duration, int workers, uint64_t seed = 1) {
  std::vector<int64_t> all;
  for (int w = 0; w < workers; ++w) {
    auto e = events(l, start, duration, w, workers, seed);
    CHECK(std::is_sorted(e.begin(), e.end()));
    all.insert(all.end(), e.begin(), e.end());
  }
  std::sort(all.begin(), all.end());
  return all;
}

std::vector<int> per_second(const std::vector<int64_t>& ev, int64_t start, int seconds) {
  std::vector<int> counts(static_cast<size_t>(seconds), 0);
  for (int64_t t : ev) {
    int64_t s = (t - start) / kSecond;
    REQUIRE(s >= 0);
    REQUIRE(s < seconds);
    ++counts[static_cast<size_t>(s)];
  }
  return counts;
}

void check_within(const std::vector<int64_t>& ev, int64_t start, int64_t duration) {
  for (int64_t t : ev) {
    CAPTURE(t);
    CHECK(t >= start);
    CHECK(t < start + duration);
  }
}

}  // namespace

TEST_CASE("constant 1000/s over 10s: 10000 evenly spaced events inside the phase") {
  const int64_t start = 7 * kSecond;
  auto ev = events(rate(1000), start, 10 * kSecond);
  REQUIRE(ev.size() == 10'000);
  CHECK(ev.front() == start);
  check_within(ev, start, 10 * kSecond);
  int64_t min_gap = INT64_MAX, max_gap = 0;
  for (size_t i = 1; i < ev.size(); ++i) {
    min_gap = std::min(min_gap, ev[i] - ev[i - 1]);
    max_gap = std::max(max_gap, ev[i] - ev[i - 1]);
  }
  CHECK(min_gap >= 999);
  CHECK(max_gap <= 1001);
  // Absolute times come from the index, so no drift accumulates.
  CHECK(ev.back() == start + 9'999'000);
}

TEST_CASE("constant schedule split across 4 workers is the 1-worker schedule exactly") {
  const int64_t start = 3 * kSecond;
  auto one = events(rate(1000), start, 10 * kSecond);
  auto four = union_of_workers(rate(1000), start, 10 * kSecond, 4);
  CHECK(four.size() == one.size());
  CHECK(four == one);
  // Each worker gets a quarter.
  for (int w = 0; w < 4; ++w) CHECK(events(rate(1000), start, 10 * kSecond, w, 4).size() == 2500);
  // An uneven split still adds up.
  auto three = union_of_workers(rate(1000), start, 10 * kSecond, 3);
  CHECK(three == one);
}

TEST_CASE("odd rates keep every event inside [start, start + duration)") {
  // Rates whose last event falls a fraction of a microsecond before the end
  // must not round onto the next phase's first microsecond.
  for (double r : {100.0 / 3600.0, 1000.00004, 7.0, 333.0, 2.0 / 3.0, 0.9999999}) {
    for (int64_t dur : {1 * kSecond, 36 * kSecond, 10 * kSecond}) {
      CAPTURE(r);
      CAPTURE(dur);
      auto ev = events(rate(r), kSecond, dur);
      check_within(ev, kSecond, dur);
      // Events k / r for k = 0, 1, ... while inside the phase: about r * D of them.
      CHECK(std::fabs(static_cast<double>(ev.size()) - r * static_cast<double>(dur) / kSecond) <= 1.0);
    }
  }
  // A ramp's last event too.
  for (double to : {1000.00004, 999.99996, 3.0}) {
    CAPTURE(to);
    auto ev = events(ramp(0.00001, to), 0, 10 * kSecond);
    check_within(ev, 0, 10 * kSecond);
  }
}

TEST_CASE("ramp 0 -> 1000/s over 10s follows the linear rate") {
  const int64_t start = 20 * kSecond;
  auto ev = events(ramp(0, 1000), start, 10 * kSecond);
  CHECK(std::is_sorted(ev.begin(), ev.end()));
  CHECK(std::abs(static_cast<int64_t>(ev.size()) - 5000) <= 1);
  check_within(ev, start, 10 * kSecond);
  auto counts = per_second(ev, start, 10);
  for (int s = 0; s < 10; ++s) {
    // integral of 100 t over [s, s+1]
    int expected = 100 * s + 50;
    CAPTURE(s);
    CAPTURE(counts[static_cast<size_t>(s)]);
    CHECK(std::abs(counts[static_cast<size_t>(s)] - expected) <= 2);
  }
  // Density at the end: the last second carries 950/50 = 19x the first, and
  // ~10x the average of the whole ramp's first half.
  CHECK(counts[9] >= 18 * counts[0]);
  // Split across workers, the ramp is the same ramp.
  CHECK(union_of_workers(ramp(0, 1000), start, 10 * kSecond, 4) == ev);
}

TEST_CASE("ramp 2000 -> 0/s over 10s falls linearly and stops") {
  auto ev = events(ramp(2000, 0), 0, 10 * kSecond);
  CHECK(std::abs(static_cast<int64_t>(ev.size()) - 10000) <= 1);
  check_within(ev, 0, 10 * kSecond);
  auto counts = per_second(ev, 0, 10);
  for (int s = 0; s < 10; ++s) {
    int expected = 1900 - 200 * s;
    CAPTURE(s);
    CHECK(std::abs(counts[static_cast<size_t>(s)] - expected) <= 2);
  }
  CHECK(union_of_workers(ramp(2000, 0), 0, 10 * kSecond, 3) == ev);
}

TEST_CASE("ramp with equal ends is a constant rate") {
  auto flat = events(ramp(500, 500), 0, 4 * kSecond);
  auto constant = events(rate(500), 0, 4 * kSecond);
  CHECK(flat == constant);
}

TEST_CASE("Poisson 1000/s over 100s: count, mean gap and coefficient of variation") {
  const int64_t start = 50 * kSecond, duration = 100 * kSecond;
  auto ev = events(rate(1000, Arrivals::Poisson), start, duration, 0, 1, 42);
  CHECK(std::is_sorted(ev.begin(), ev.end()));
  check_within(ev, start, duration);
  const double n = static_cast<double>(ev.size());
  const double sigma = std::sqrt(100'000.0);
  CHECK(std::fabs(n - 100'000.0) <= 4 * sigma);

  std::vector<double> gaps;
  gaps.push_back(static_cast<double>(ev.front() - start));
  for (size_t i = 1; i < ev.size(); ++i) gaps.push_back(static_cast<double>(ev[i] - ev[i - 1]));
  double mean = 0;
  for (double g : gaps) mean += g;
  mean /= static_cast<double>(gaps.size());
  double var = 0;
  for (double g : gaps) var += (g - mean) * (g - mean);
  var /= static_cast<double>(gaps.size() - 1);
  double cv = std::sqrt(var) / mean;
  CAPTURE(mean);
  CAPTURE(cv);
  CHECK(mean == doctest::Approx(1000.0).epsilon(0.02));
  CHECK(std::fabs(cv - 1.0) <= 0.05);

  // Not a constant schedule in disguise: gaps vary widely.
  CHECK(*std::max_element(gaps.begin(), gaps.end()) > 5000);
  CHECK(*std::min_element(gaps.begin(), gaps.end()) < 50);
}

TEST_CASE("Poisson split over workers is still ~1000/s in total") {
  auto all = union_of_workers(rate(1000, Arrivals::Poisson), 0, 20 * kSecond, 4, 9);
  const double sigma = std::sqrt(20'000.0);
  CHECK(std::fabs(static_cast<double>(all.size()) - 20'000.0) <= 4 * sigma);
  check_within(all, 0, 20 * kSecond);
  // Workers draw independent streams, not copies of one.
  CHECK(events(rate(1000, Arrivals::Poisson), 0, kSecond, 0, 4, 9) != events(rate(1000, Arrivals::Poisson), 0, kSecond, 1, 4, 9));
}

TEST_CASE("Poisson is reproducible from the seed") {
  auto a = events(rate(1000, Arrivals::Poisson), 0, 5 * kSecond, 0, 1, 123);
  auto b = events(rate(1000, Arrivals::Poisson), 0, 5 * kSecond, 0, 1, 123);
  auto c = events(rate(1000, Arrivals::Poisson), 0, 5 * kSecond, 0, 1, 124);
  REQUIRE_FALSE(a.empty());
  CHECK(a == b);
  CHECK(a != c);
  size_t same = 0;
  for (size_t i = 0; i < std::min(a.size(), c.size()); ++i) same += a[i] == c[i];
  CHECK(same < a.size() / 10);
}

TEST_CASE("rate 0 gives no events; max gives no schedule") {
  ArrivalSchedule zero(rate(0), 0, 10 * kSecond, 0, 1, 1);
  CHECK(zero.idle());
  CHECK_FALSE(zero.next().has_value());
  ArrivalSchedule zero_poisson(rate(0, Arrivals::Poisson), 0, 10 * kSecond, 0, 1, 1);
  CHECK_FALSE(zero_poisson.next().has_value());
  ArrivalSchedule zero_ramp(ramp(0, 0), 0, 10 * kSecond, 0, 1, 1);
  CHECK_FALSE(zero_ramp.next().has_value());

  LoadSpec max;
  max.kind = LoadSpec::Kind::Max;
  ArrivalSchedule m(max, 0, 10 * kSecond, 0, 1, 1);
  CHECK(m.is_max());
  CHECK_FALSE(m.idle());
  CHECK_FALSE(m.next().has_value());

  // A finished schedule goes idle and stays finished.
  ArrivalSchedule s(rate(2), 0, kSecond, 0, 1, 1);
  CHECK_FALSE(s.idle());
  CHECK(s.next() == std::optional<int64_t>(0));
  CHECK(s.next() == std::optional<int64_t>(500'000));
  CHECK_FALSE(s.next().has_value());
  CHECK(s.idle());
  CHECK_FALSE(s.next().has_value());

  // A default-constructed schedule has nothing to send.
  ArrivalSchedule none;
  CHECK_FALSE(none.next().has_value());
}
