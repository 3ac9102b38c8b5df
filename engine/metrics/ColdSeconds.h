#pragma once
// The seconds of a run that are no longer live, kept so that a 30-minute or
// 3-hour run costs about the same memory as a 1-minute one: counters and
// gauges stay in memory as a few bytes each (interned names, varints), and
// histograms, which are most of a second (hundreds of buckets per series at
// a thousand records a second), go to an unlinked temporary file and are read
// back only when a window reaches that far. MetricsStore moves a second here
// once it is older than its live window; this class is not thread-safe (the
// store's lock covers it).
#include <cstdint>
#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "metrics/Histogram.h"

namespace kapture {

struct SecondSample;

class ColdSeconds {
 public:
  ColdSeconds() = default;
  ColdSeconds(const ColdSeconds&) = delete;
  ColdSeconds& operator=(const ColdSeconds&) = delete;

  // Takes a second. False (and nothing taken) when its histograms cannot be
  // written out: the caller keeps the second live then.
  bool put(int64_t second, const SecondSample& sample);
  // Adds to a second already here (a late hand-over): merged and stored again.
  bool add(int64_t second, const SecondSample& sample);

  int64_t counter_sum(const std::string& name, int64_t from, int64_t to) const;
  bool counter_recorded(const std::string& name, int64_t from, int64_t to) const;
  // The gauge's values in [from, to), oldest first.
  std::vector<double> gauge_values(const std::string& name, int64_t from, int64_t to) const;
  void merge_histogram(const std::string& name, int64_t from, int64_t to, Histogram& into) const;
  // One whole second back (empty if it is not here).
  SecondSample get(int64_t second) const;
  std::vector<int64_t> seconds() const;

 private:
  struct FileCloser {
    void operator()(std::FILE* f) const { std::fclose(f); }
  };
  struct SpillRef {
    uint32_t name;
    uint32_t length;
    uint64_t offset;
  };
  struct Second {
    std::string values;              // counters, then gauges: (name, value) pairs
    std::vector<SpillRef> histograms;
  };
  uint32_t intern(const std::string& name);
  const uint32_t* find_name(const std::string& name) const;
  bool encode(const SecondSample& s, Second& out);
  bool read_histogram(const SpillRef& ref, SparseHistogram& out) const;
  void merge_range(uint32_t name, int64_t from, int64_t to, Histogram& into) const;

  std::vector<std::string> names_;
  std::unordered_map<std::string, uint32_t> ids_;
  std::map<int64_t, Second> seconds_;
  std::unique_ptr<std::FILE, FileCloser> file_;
  uint64_t file_end_ = 0;
  // A window read again and again as it grows (a `during PHASE` expectation
  // checked every second): what its cold part added up to so far, by (name,
  // first second). Cleared when a late hand-over changes a cold second.
  struct Memo {
    int64_t to;
    Histogram histogram;
  };
  mutable std::map<std::pair<uint32_t, int64_t>, Memo> memo_;
};

}  // namespace kapture
