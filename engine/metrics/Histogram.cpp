#include "metrics/Histogram.h"

#include <algorithm>
#include <bit>
#include <cmath>

#include "metrics/Varint.h"

namespace kapture {

size_t Histogram::bucket_of(int64_t value) {
  if (value < 0) value = 0;
  if (value < kSubCount) return static_cast<size_t>(value);
  int exponent = 63 - std::countl_zero(static_cast<uint64_t>(value));
  if (exponent > kMaxExponent) return kBucketCount - 1;
  int64_t sub = (value >> (exponent - kSubBits)) - kSubCount;
  return static_cast<size_t>(kSubCount + (exponent - kSubBits) * kSubCount + sub);
}

int64_t Histogram::bucket_low(size_t bucket) {
  if (bucket < static_cast<size_t>(kSubCount)) return static_cast<int64_t>(bucket);
  int64_t b = static_cast<int64_t>(bucket) - kSubCount;
  int exponent = static_cast<int>(b / kSubCount) + kSubBits;
  int64_t sub = b % kSubCount;
  return (kSubCount + sub) << (exponent - kSubBits);
}

int64_t Histogram::bucket_high(size_t bucket) {
  if (bucket < static_cast<size_t>(kSubCount)) return static_cast<int64_t>(bucket);
  int64_t b = static_cast<int64_t>(bucket) - kSubCount;
  int exponent = static_cast<int>(b / kSubCount) + kSubBits;
  return bucket_low(bucket) + (int64_t{1} << (exponent - kSubBits)) - 1;
}

void Histogram::record(int64_t value, uint64_t times) {
  if (value < 0) value = 0;
  counts_[bucket_of(value)] += times;
  if (count_ == 0 || value < min_) min_ = value;
  if (count_ == 0 || value > max_) max_ = value;
  count_ += times;
  sum_ += static_cast<__int128>(value) * times;
}

void Histogram::merge(const Histogram& other) {
  if (other.count_ == 0) return;
  for (size_t i = 0; i < kBucketCount; ++i) counts_[i] += other.counts_[i];
  if (count_ == 0 || other.min_ < min_) min_ = other.min_;
  if (count_ == 0 || other.max_ > max_) max_ = other.max_;
  count_ += other.count_;
  sum_ += other.sum_;
}

void Histogram::merge(const SparseHistogram& other) {
  if (other.count_ == 0) return;
  for (auto [bucket, n] : other.buckets_) counts_[bucket] += n;
  if (count_ == 0 || other.min_ < min_) min_ = other.min_;
  if (count_ == 0 || other.max_ > max_) max_ = other.max_;
  count_ += other.count_;
  sum_ += other.sum_;
}

void Histogram::reset() {
  if (count_ == 0) return;
  std::fill(counts_.begin(), counts_.end(), 0);
  count_ = 0;
  min_ = max_ = 0;
  sum_ = 0;
}

int64_t Histogram::percentile(double p) const {
  if (count_ == 0) return 0;
  if (p <= 0) return min_;
  if (p >= 100) return max_;
  // Rank of the sample we want (1-based, nearest-rank definition).
  auto rank = static_cast<uint64_t>(std::ceil(p / 100.0 * static_cast<double>(count_)));
  if (rank == 0) rank = 1;
  uint64_t seen = 0;
  for (size_t i = 0; i < kBucketCount; ++i) {
    seen += counts_[i];
    if (seen >= rank) {
      int64_t mid = bucket_low(i) + (bucket_high(i) - bucket_low(i)) / 2;
      return std::clamp(mid, min_, max_);
    }
  }
  return max_;
}

SparseHistogram Histogram::compact() const {
  SparseHistogram s;
  s.count_ = count_;
  s.min_ = min_;
  s.max_ = max_;
  s.sum_ = sum_;
  if (count_ == 0) return s;
  for (size_t i = 0; i < kBucketCount; ++i) {
    if (counts_[i]) s.buckets_.emplace_back(static_cast<uint32_t>(i), counts_[i]);
  }
  return s;
}

void SparseHistogram::encode(std::string& out) const {
  put_varint(out, count_);
  put_varint(out, zigzag(min_));
  put_varint(out, zigzag(max_));
  // The sum is 128 bits: two halves.
  put_varint(out, static_cast<uint64_t>(static_cast<unsigned __int128>(sum_)));
  put_varint(out, static_cast<uint64_t>(static_cast<unsigned __int128>(sum_) >> 64));
  put_varint(out, buckets_.size());
  uint32_t previous = 0;
  for (auto [bucket, n] : buckets_) {
    put_varint(out, bucket - previous);  // buckets are in increasing order
    put_varint(out, n);
    previous = bucket;
  }
}

bool SparseHistogram::decode(std::string_view& in, SparseHistogram& out) {
  uint64_t count, min, max, sum_low, sum_high, n;
  if (!get_varint(in, count) || !get_varint(in, min) || !get_varint(in, max) || !get_varint(in, sum_low) ||
      !get_varint(in, sum_high) || !get_varint(in, n) || n > Histogram::kBucketCount)
    return false;
  SparseHistogram h;
  h.count_ = count;
  h.min_ = unzigzag(min);
  h.max_ = unzigzag(max);
  h.sum_ = static_cast<__int128>((static_cast<unsigned __int128>(sum_high) << 64) | sum_low);
  h.buckets_.reserve(n);
  uint64_t bucket = 0;
  for (uint64_t i = 0; i < n; ++i) {
    uint64_t gap, c;
    if (!get_varint(in, gap) || !get_varint(in, c)) return false;
    bucket += gap;
    if (bucket >= Histogram::kBucketCount) return false;
    h.buckets_.emplace_back(static_cast<uint32_t>(bucket), c);
  }
  out = std::move(h);
  return true;
}

}  // namespace kapture
