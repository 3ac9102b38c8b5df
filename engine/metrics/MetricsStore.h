#pragma once
// The only thing workloads and expectations share. Recorders (one per worker
// thread, no locks on the hot path) hand over one second at a time; the store
// merges them by second since the run started. Expectations, `until`
// conditions and reports read windows of whole seconds.
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <mutex>
#include <string>

#include "metrics/ColdSeconds.h"
#include "metrics/Histogram.h"

namespace kapture {

struct SecondSample {
  std::map<std::string, int64_t> counters;
  std::map<std::string, SparseHistogram> histograms;
  std::map<std::string, double> gauges;  // summed over recorders (e.g. in-flight of every thread)
};

// Adds `from` into `into`: counters and gauges summed, histograms merged
// bucket by bucket.
void add_sample(SecondSample& into, const SecondSample& from);

// A window of seconds [from, to).
struct SecondWindow {
  int64_t from = 0;
  int64_t to = 0;
  int64_t length() const { return to > from ? to - from : 0; }
};

class MetricsStore {
 public:
  // Seconds older than `live_seconds` before the newest move to ColdSeconds
  // (a few bytes each in memory, histograms in a temporary file): memory
  // stays flat over a long run, and every window still reads exact data.
  explicit MetricsStore(int64_t live_seconds = 60) : live_seconds_(live_seconds) {}
  void add(int64_t second, const SecondSample& sample);
  void add_counter(int64_t second, const std::string& name, int64_t delta);
  // Sees every sample as it is added, on the adding thread: a distributed
  // worker ships them to its coordinator. Set before anything records.
  using Tap = std::function<void(int64_t second, const SecondSample& sample)>;
  void set_tap(Tap tap) { tap_ = std::move(tap); }

  int64_t counter_sum(const std::string& name, SecondWindow w) const;
  bool counter_recorded(const std::string& name, SecondWindow w) const;  // any second has it, even as 0
  Histogram histogram(const std::string& name, SecondWindow w) const;
  // Gauges: the value in the last second of the window that has one.
  std::optional<double> gauge_last(const std::string& name, SecondWindow w) const;
  std::optional<double> gauge_max(const std::string& name, SecondWindow w) const;
  std::optional<double> gauge_min(const std::string& name, SecondWindow w) const;

  int64_t last_second() const;  // -1 when empty
  // Every second in order, one at a time (past ones read back), under the
  // store's lock: for writing the timeseries at the end of a run.
  void for_each_second(const std::function<void(int64_t second, const SecondSample&)>& fn) const;

  // Every series summed over the seconds before `to`: counters, histograms'
  // sample counts and sums, and each gauge's latest value. Kept as running
  // totals (seconds are folded in once, late arrivals added to them), so a
  // /metrics scrape costs the same an hour into a run as at its start. A `to`
  // below an earlier call's gets what that call folded.
  struct Totals {
    std::map<std::string, int64_t> counters;
    std::map<std::string, double> gauges;
    std::map<std::string, uint64_t> histogram_counts;
    std::map<std::string, double> histogram_sums;
  };
  Totals totals(int64_t to) const;

 private:
  void fold_into_totals(const SecondSample& s, bool gauges) const;
  void retire_old_seconds();

  mutable std::mutex mu_;
  Tap tap_;
  const int64_t live_seconds_;
  std::map<int64_t, SecondSample> seconds_;  // the live ones: [cold_before_, ...)
  ColdSeconds cold_;                         // the past ones: [0, cold_before_)
  int64_t cold_before_ = 0;
  mutable Totals totals_;           // seconds [0, folded_to_) summed
  mutable int64_t folded_to_ = 0;
};

}  // namespace kapture
