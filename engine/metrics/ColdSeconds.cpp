#include "metrics/ColdSeconds.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <spdlog/spdlog.h>

#include "metrics/MetricsStore.h"
#include "metrics/Varint.h"

namespace kapture {

namespace {
// Windows whose cold part is remembered; more distinct windows than this
// (sliding windows over the whole run, at its end) are summed afresh.
constexpr size_t kMemoWindows = 16;
}  // namespace

uint32_t ColdSeconds::intern(const std::string& name) {
  auto [it, fresh] = ids_.emplace(name, static_cast<uint32_t>(names_.size()));
  if (fresh) names_.push_back(name);
  return it->second;
}

const uint32_t* ColdSeconds::find_name(const std::string& name) const {
  auto it = ids_.find(name);
  return it == ids_.end() ? nullptr : &it->second;
}

bool ColdSeconds::encode(const SecondSample& s, Second& out) {
  out.values.clear();
  put_varint(out.values, s.counters.size());
  for (const auto& [name, v] : s.counters) {
    put_varint(out.values, intern(name));
    put_varint(out.values, zigzag(v));
  }
  put_varint(out.values, s.gauges.size());
  for (const auto& [name, v] : s.gauges) {
    put_varint(out.values, intern(name));
    put_double(out.values, v);
  }
  out.values.shrink_to_fit();
  out.histograms.clear();
  if (s.histograms.empty()) return true;
  if (!file_) {
    file_.reset(std::tmpfile());
    if (!file_) {
      spdlog::warn("metrics: no temporary file for past seconds ({}); they stay in memory", std::strerror(errno));
      return false;
    }
  }
  std::string bytes;
  for (const auto& [name, h] : s.histograms) {
    size_t start = bytes.size();
    h.encode(bytes);
    out.histograms.push_back(SpillRef{intern(name), static_cast<uint32_t>(bytes.size() - start), file_end_ + start});
  }
  const int fd = fileno(file_.get());
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = ::pwrite(fd, bytes.data() + done, bytes.size() - done, static_cast<off_t>(file_end_ + done));
    if (n <= 0) {
      spdlog::warn("metrics: cannot write past seconds to a temporary file ({}); they stay in memory", std::strerror(errno));
      return false;
    }
    done += static_cast<size_t>(n);
  }
  file_end_ += bytes.size();
  out.histograms.shrink_to_fit();
  return true;
}

bool ColdSeconds::put(int64_t second, const SecondSample& sample) {
  Second s;
  if (!encode(sample, s)) return false;
  seconds_[second] = std::move(s);
  return true;
}

bool ColdSeconds::add(int64_t second, const SecondSample& sample) {
  SecondSample merged = get(second);
  for (const auto& [name, v] : sample.counters) merged.counters[name] += v;
  for (const auto& [name, g] : sample.gauges) merged.gauges[name] += g;
  for (const auto& [name, h] : sample.histograms) {
    Histogram sum;
    if (auto it = merged.histograms.find(name); it != merged.histograms.end()) sum.merge(it->second);
    sum.merge(h);
    merged.histograms[name] = sum.compact();
  }
  memo_.clear();  // a cold second changed
  return put(second, merged);  // its old histograms stay in the file, unreferenced
}

bool ColdSeconds::read_histogram(const SpillRef& ref, SparseHistogram& out) const {
  std::string bytes(ref.length, '\0');
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = ::pread(fileno(file_.get()), bytes.data() + done, bytes.size() - done, static_cast<off_t>(ref.offset + done));
    if (n <= 0) return false;
    done += static_cast<size_t>(n);
  }
  std::string_view in(bytes);
  return SparseHistogram::decode(in, out);
}

namespace {
// Calls fn(id, value) for each counter of an encoded second, then returns
// the rest (the gauges).
template <typename Fn>
std::string_view each_counter(std::string_view in, Fn fn) {
  uint64_t n = 0, id = 0, v = 0;
  if (!get_varint(in, n)) return {};
  for (uint64_t i = 0; i < n; ++i) {
    if (!get_varint(in, id) || !get_varint(in, v)) return {};
    fn(static_cast<uint32_t>(id), unzigzag(v));
  }
  return in;
}

template <typename Fn>
void each_gauge(std::string_view in, Fn fn) {
  uint64_t n = 0, id = 0;
  double v = 0;
  if (!get_varint(in, n)) return;
  for (uint64_t i = 0; i < n; ++i) {
    if (!get_varint(in, id) || !get_double(in, v)) return;
    fn(static_cast<uint32_t>(id), v);
  }
}
}  // namespace

int64_t ColdSeconds::counter_sum(const std::string& name, int64_t from, int64_t to) const {
  const uint32_t* id = find_name(name);
  if (!id) return 0;
  int64_t total = 0;
  for (auto it = seconds_.lower_bound(from); it != seconds_.end() && it->first < to; ++it)
    each_counter(it->second.values, [&](uint32_t n, int64_t v) {
      if (n == *id) total += v;
    });
  return total;
}

bool ColdSeconds::counter_recorded(const std::string& name, int64_t from, int64_t to) const {
  const uint32_t* id = find_name(name);
  if (!id) return false;
  bool seen = false;
  for (auto it = seconds_.lower_bound(from); it != seconds_.end() && it->first < to && !seen; ++it)
    each_counter(it->second.values, [&](uint32_t n, int64_t) { seen = seen || n == *id; });
  return seen;
}

std::vector<double> ColdSeconds::gauge_values(const std::string& name, int64_t from, int64_t to) const {
  std::vector<double> out;
  const uint32_t* id = find_name(name);
  if (!id) return out;
  for (auto it = seconds_.lower_bound(from); it != seconds_.end() && it->first < to; ++it)
    each_gauge(each_counter(it->second.values, [](uint32_t, int64_t) {}), [&](uint32_t n, double v) {
      if (n == *id) out.push_back(v);
    });
  return out;
}

void ColdSeconds::merge_range(uint32_t name, int64_t from, int64_t to, Histogram& into) const {
  SparseHistogram h;
  for (auto it = seconds_.lower_bound(from); it != seconds_.end() && it->first < to; ++it)
    for (const auto& ref : it->second.histograms)
      if (ref.name == name && read_histogram(ref, h)) into.merge(h);
}

void ColdSeconds::merge_histogram(const std::string& name, int64_t from, int64_t to, Histogram& into) const {
  const uint32_t* id = find_name(name);
  if (!id || !file_ || from >= to) return;
  auto key = std::make_pair(*id, from);
  auto it = memo_.find(key);
  if (it == memo_.end()) {
    if (memo_.size() >= kMemoWindows) memo_.clear();
    it = memo_.emplace(key, Memo{from, Histogram()}).first;
  }
  Memo& m = it->second;
  if (to < m.to) {  // a shorter window than remembered: summed afresh
    merge_range(*id, from, to, into);
    return;
  }
  merge_range(*id, m.to, to, m.histogram);
  m.to = to;
  into.merge(m.histogram);
}

SecondSample ColdSeconds::get(int64_t second) const {
  SecondSample s;
  auto it = seconds_.find(second);
  if (it == seconds_.end()) return s;
  auto rest = each_counter(it->second.values, [&](uint32_t n, int64_t v) { s.counters[names_[n]] += v; });
  each_gauge(rest, [&](uint32_t n, double v) { s.gauges[names_[n]] = v; });
  for (const auto& ref : it->second.histograms) {
    SparseHistogram h;
    if (read_histogram(ref, h)) s.histograms[names_[ref.name]] = std::move(h);
  }
  return s;
}

std::vector<int64_t> ColdSeconds::seconds() const {
  std::vector<int64_t> out;
  out.reserve(seconds_.size());
  for (const auto& [second, s] : seconds_) out.push_back(second);
  return out;
}

}  // namespace kapture
