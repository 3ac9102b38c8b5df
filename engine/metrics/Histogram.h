#pragma once
// Log-linear histogram (the HdrHistogram idea): values below 128 have exact
// buckets; above, every power of two is split into 128 linear sub-buckets, so
// a bucket is at most 1/128 of its value wide and the midpoint we report is
// within 0.4% of any sample in it. Memory is bounded (fixed bucket count) and
// two histograms merge by adding counts, which is what per-second snapshots,
// phase windows and (later) distributed workers need.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace kapture {

class SparseHistogram;

class Histogram {
 public:
  static constexpr int kSubBits = 7;
  static constexpr int64_t kSubCount = 1 << kSubBits;  // 128
  static constexpr int kMaxExponent = 42;               // ~50 days in microseconds
  static constexpr size_t kBucketCount = kSubCount + (kMaxExponent - kSubBits + 1) * kSubCount;

  Histogram() : counts_(kBucketCount, 0) {}

  void record(int64_t value, uint64_t times = 1);
  void merge(const Histogram& other);
  void merge(const SparseHistogram& other);
  void reset();

  uint64_t count() const { return count_; }
  int64_t min() const { return count_ ? min_ : 0; }
  int64_t max() const { return count_ ? max_ : 0; }
  double mean() const { return count_ ? static_cast<double>(sum_) / static_cast<double>(count_) : 0.0; }
  // p in [0, 100]. The value below which p percent of samples fall, to within
  // the bucket resolution; exact min and max at the ends.
  int64_t percentile(double p) const;

  SparseHistogram compact() const;

  static size_t bucket_of(int64_t value);
  static int64_t bucket_low(size_t bucket);
  static int64_t bucket_high(size_t bucket);  // inclusive

 private:
  friend class SparseHistogram;
  std::vector<uint64_t> counts_;
  uint64_t count_ = 0;
  int64_t min_ = 0, max_ = 0;
  __int128 sum_ = 0;
};

// The non-zero buckets only: how per-second snapshots are stored so a long run
// costs kilobytes per second, not the dense array.
class SparseHistogram {
 public:
  uint64_t count() const { return count_; }
  bool empty() const { return count_ == 0; }
  double sum() const { return static_cast<double>(sum_); }

  // A compact byte form (varints: bucket gaps and counts), for seconds kept
  // on disk; decode() takes it from the front of `in` and fails on garbage.
  void encode(std::string& out) const;
  static bool decode(std::string_view& in, SparseHistogram& out);

 private:
  friend class Histogram;
  std::vector<std::pair<uint32_t, uint64_t>> buckets_;
  uint64_t count_ = 0;
  int64_t min_ = 0, max_ = 0;
  __int128 sum_ = 0;
};

}  // namespace kapture
