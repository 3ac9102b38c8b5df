// Where a benchmark phase stops and which step is the knee.
#include <doctest/doctest.h>

#include "timeline/BenchmarkPhase.h"

using namespace kapture;

namespace {

BenchmarkStep step(double target, double achieved, int threads = 0, std::string broken = "") {
  BenchmarkStep s;
  s.target = target;
  s.threads = threads;
  s.achieved = achieved;
  s.broken = std::move(broken);
  return s;
}

BenchmarkSpec by_rate() {
  BenchmarkSpec spec;
  spec.from = 1000;
  spec.step = 1000;
  spec.max = 5000;
  return spec;
}

}  // namespace

TEST_CASE("benchmark: the knee is the last step that still rose") {
  BenchmarkSpec spec = by_rate();
  BenchmarkRecord b;
  CHECK(benchmark_continues(spec, b, step(1000, 1000)));
  CHECK(b.knee == 0);
  CHECK(benchmark_continues(spec, b, step(2000, 1990)));
  CHECK(b.knee == 1);
  // +1000/s asked, +400/s got: less than half the step.
  CHECK_FALSE(benchmark_continues(spec, b, step(3000, 2390)));
  CHECK(b.knee == 1);
  CHECK(b.stopped_because == "throughput stopped rising");
  CHECK(b.steps.size() == 3);
}

TEST_CASE("benchmark: a broken expectation ends it at the step before") {
  BenchmarkSpec spec = by_rate();
  BenchmarkRecord b;
  CHECK(benchmark_continues(spec, b, step(1000, 1000)));
  CHECK_FALSE(benchmark_continues(spec, b, step(2000, 2000, 0, "p99(produce.latency) < 100ms (measured 230ms)")));
  CHECK(b.knee == 0);
  CHECK(b.stopped_because.rfind("expectation broke: p99", 0) == 0);
  BenchmarkRecord first;
  CHECK_FALSE(benchmark_continues(spec, first, step(1000, 1000, 0, "x")));
  CHECK(first.knee == -1);  // not even the first step held
}

TEST_CASE("benchmark: max reached without a knee; by threads, rise is per thread") {
  BenchmarkSpec spec = by_rate();
  spec.max = 2000;
  BenchmarkRecord b;
  CHECK(benchmark_continues(spec, b, step(1000, 1000)));
  CHECK_FALSE(benchmark_continues(spec, b, step(2000, 2000)));
  CHECK(b.knee == 1);
  CHECK(b.stopped_because == "reached max without a knee");

  BenchmarkSpec threads;
  threads.by_threads = true;
  threads.from = 1;
  threads.step = 2;
  threads.max = 9;
  BenchmarkRecord t;
  CHECK(benchmark_continues(threads, t, step(0, 500, 1)));
  // 2 more threads at 500/s each would add 1000/s; half of that is needed.
  CHECK(benchmark_continues(threads, t, step(0, 1100, 3)));
  CHECK_FALSE(benchmark_continues(threads, t, step(0, 1200, 5)));
  CHECK(t.knee == 1);
}
