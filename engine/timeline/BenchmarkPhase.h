#pragma once
// Kapture's benchmark mode, measured: each step of a benchmark phase over the
// metrics, and whether the next step is worth taking (the knee is the last
// step that kept rising and held every expectation).
#include <cstdint>
#include <vector>

#include "metrics/MetricsStore.h"
#include "scenario/Scenario.h"
#include "timeline/RunRecord.h"

namespace kapture {

// Step k over its seconds minus the first (a warm-up: the new rate reaching
// the brokers), judged by the expectations about the load as a whole (no
// phase, window, recovery or ledger of their own).
BenchmarkStep measure_benchmark_step(const BenchmarkSpec& spec, int k, int64_t phase_start_us, const MetricsStore& metrics,
                                     const std::vector<ExpectationSpec>& expectations);

// Records the step and moves the knee; false when the phase should end here
// (an expectation broke, throughput stopped rising, or max was reached).
bool benchmark_continues(const BenchmarkSpec& spec, BenchmarkRecord& b, const BenchmarkStep& st);

}  // namespace kapture
