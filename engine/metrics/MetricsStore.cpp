#include "metrics/MetricsStore.h"

#include <algorithm>

namespace kapture {

void MetricsStore::add(int64_t second, const SecondSample& sample) {
  std::lock_guard lock(mu_);
  // A second already folded into the totals (handed over late): add it
  // there too; its gauges are older than what the totals show.
  if (second < folded_to_) fold_into_totals(sample, false);
  auto& s = seconds_[second];
  for (const auto& [name, v] : sample.counters) s.counters[name] += v;
  for (const auto& [name, g] : sample.gauges) s.gauges[name] += g;
  for (const auto& [name, h] : sample.histograms) {
    auto it = s.histograms.find(name);
    if (it == s.histograms.end()) {
      s.histograms.emplace(name, h);
    } else {
      Histogram merged;
      merged.merge(it->second);
      merged.merge(h);
      it->second = merged.compact();
    }
  }
}

void MetricsStore::add_counter(int64_t second, const std::string& name, int64_t delta) {
  std::lock_guard lock(mu_);
  seconds_[second].counters[name] += delta;
  if (second < folded_to_) totals_.counters[name] += delta;
}

void MetricsStore::fold_into_totals(const SecondSample& s, bool gauges) const {
  for (const auto& [name, v] : s.counters) totals_.counters[name] += v;
  if (gauges)
    for (const auto& [name, v] : s.gauges) totals_.gauges[name] = v;
  for (const auto& [name, h] : s.histograms) {
    totals_.histogram_counts[name] += h.count();
    totals_.histogram_sums[name] += h.sum();
  }
}

MetricsStore::Totals MetricsStore::totals(int64_t to) const {
  std::lock_guard lock(mu_);
  for (auto it = seconds_.lower_bound(folded_to_); it != seconds_.end() && it->first < to; ++it) fold_into_totals(it->second, true);
  folded_to_ = std::max(folded_to_, to);
  return totals_;
}

int64_t MetricsStore::counter_sum(const std::string& name, SecondWindow w) const {
  std::lock_guard lock(mu_);
  int64_t total = 0;
  for (auto it = seconds_.lower_bound(w.from); it != seconds_.end() && it->first < w.to; ++it) {
    auto c = it->second.counters.find(name);
    if (c != it->second.counters.end()) total += c->second;
  }
  return total;
}

bool MetricsStore::counter_recorded(const std::string& name, SecondWindow w) const {
  std::lock_guard lock(mu_);
  for (auto it = seconds_.lower_bound(w.from); it != seconds_.end() && it->first < w.to; ++it)
    if (it->second.counters.count(name)) return true;
  return false;
}

Histogram MetricsStore::histogram(const std::string& name, SecondWindow w) const {
  std::lock_guard lock(mu_);
  Histogram h;
  for (auto it = seconds_.lower_bound(w.from); it != seconds_.end() && it->first < w.to; ++it) {
    auto s = it->second.histograms.find(name);
    if (s != it->second.histograms.end()) h.merge(s->second);
  }
  return h;
}

std::optional<double> MetricsStore::gauge_last(const std::string& name, SecondWindow w) const {
  std::lock_guard lock(mu_);
  std::optional<double> last;
  for (auto it = seconds_.lower_bound(w.from); it != seconds_.end() && it->first < w.to; ++it) {
    auto g = it->second.gauges.find(name);
    if (g != it->second.gauges.end()) last = g->second;
  }
  return last;
}

std::optional<double> MetricsStore::gauge_max(const std::string& name, SecondWindow w) const {
  std::lock_guard lock(mu_);
  std::optional<double> best;
  for (auto it = seconds_.lower_bound(w.from); it != seconds_.end() && it->first < w.to; ++it) {
    auto g = it->second.gauges.find(name);
    if (g != it->second.gauges.end()) best = best ? std::max(*best, g->second) : g->second;
  }
  return best;
}

std::optional<double> MetricsStore::gauge_min(const std::string& name, SecondWindow w) const {
  std::lock_guard lock(mu_);
  std::optional<double> best;
  for (auto it = seconds_.lower_bound(w.from); it != seconds_.end() && it->first < w.to; ++it) {
    auto g = it->second.gauges.find(name);
    if (g != it->second.gauges.end()) best = best ? std::min(*best, g->second) : g->second;
  }
  return best;
}

int64_t MetricsStore::last_second() const {
  std::lock_guard lock(mu_);
  return seconds_.empty() ? -1 : seconds_.rbegin()->first;
}

std::map<int64_t, SecondSample> MetricsStore::snapshot() const {
  std::lock_guard lock(mu_);
  return seconds_;
}

}  // namespace kapture
