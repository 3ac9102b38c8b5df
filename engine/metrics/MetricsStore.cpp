#include "metrics/MetricsStore.h"

#include <algorithm>

namespace kapture {

void add_sample(SecondSample& into, const SecondSample& from) {
  for (const auto& [name, v] : from.counters) into.counters[name] += v;
  for (const auto& [name, g] : from.gauges) into.gauges[name] += g;
  for (const auto& [name, h] : from.histograms) {
    auto it = into.histograms.find(name);
    if (it == into.histograms.end()) {
      into.histograms.emplace(name, h);
    } else {
      Histogram merged;
      merged.merge(it->second);
      merged.merge(h);
      it->second = merged.compact();
    }
  }
}

void MetricsStore::add(int64_t second, const SecondSample& sample) {
  if (tap_) tap_(second, sample);
  std::lock_guard lock(mu_);
  // A second already folded into the totals (handed over late): add it
  // there too; its gauges are older than what the totals show.
  if (second < folded_to_) fold_into_totals(sample, false);
  if (second < cold_before_ && cold_.add(second, sample)) return;
  add_sample(seconds_[second], sample);
  retire_old_seconds();
}

// Seconds older than the live window go cold, folded into the totals first
// (totals() only walks live seconds).
void MetricsStore::retire_old_seconds() {
  if (seconds_.empty()) return;
  const int64_t keep_from = seconds_.rbegin()->first - live_seconds_;
  while (!seconds_.empty() && seconds_.begin()->first < keep_from) {
    auto it = seconds_.begin();
    // (A second below cold_before_ here is a late one ColdSeconds could not take.)
    bool moved = it->first < cold_before_ ? cold_.add(it->first, it->second) : cold_.put(it->first, it->second);
    if (!moved) return;  // no spill file: it stays live
    if (it->first >= folded_to_) {
      fold_into_totals(it->second, true);
      folded_to_ = it->first + 1;
    }
    cold_before_ = std::max(cold_before_, it->first + 1);
    seconds_.erase(it);
  }
}

void MetricsStore::add_counter(int64_t second, const std::string& name, int64_t delta) {
  if (tap_) {
    SecondSample one;
    one.counters[name] = delta;
    tap_(second, one);
  }
  std::lock_guard lock(mu_);
  if (second < folded_to_) totals_.counters[name] += delta;
  if (second < cold_before_) {
    SecondSample late;
    late.counters[name] = delta;
    if (cold_.add(second, late)) return;
  }
  seconds_[second].counters[name] += delta;
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
  int64_t total = w.from < cold_before_ ? cold_.counter_sum(name, w.from, std::min(w.to, cold_before_)) : 0;
  for (auto it = seconds_.lower_bound(w.from); it != seconds_.end() && it->first < w.to; ++it) {
    auto c = it->second.counters.find(name);
    if (c != it->second.counters.end()) total += c->second;
  }
  return total;
}

bool MetricsStore::counter_recorded(const std::string& name, SecondWindow w) const {
  std::lock_guard lock(mu_);
  if (w.from < cold_before_ && cold_.counter_recorded(name, w.from, std::min(w.to, cold_before_))) return true;
  for (auto it = seconds_.lower_bound(w.from); it != seconds_.end() && it->first < w.to; ++it)
    if (it->second.counters.count(name)) return true;
  return false;
}

Histogram MetricsStore::histogram(const std::string& name, SecondWindow w) const {
  std::lock_guard lock(mu_);
  Histogram h;
  if (w.from < cold_before_) cold_.merge_histogram(name, w.from, std::min(w.to, cold_before_), h);
  for (auto it = seconds_.lower_bound(w.from); it != seconds_.end() && it->first < w.to; ++it) {
    auto s = it->second.histograms.find(name);
    if (s != it->second.histograms.end()) h.merge(s->second);
  }
  return h;
}

std::optional<double> MetricsStore::gauge_last(const std::string& name, SecondWindow w) const {
  std::lock_guard lock(mu_);
  std::optional<double> last;
  if (w.from < cold_before_)
    for (double v : cold_.gauge_values(name, w.from, std::min(w.to, cold_before_))) last = v;
  for (auto it = seconds_.lower_bound(w.from); it != seconds_.end() && it->first < w.to; ++it) {
    auto g = it->second.gauges.find(name);
    if (g != it->second.gauges.end()) last = g->second;
  }
  return last;
}

std::optional<double> MetricsStore::gauge_max(const std::string& name, SecondWindow w) const {
  std::lock_guard lock(mu_);
  std::optional<double> best;
  if (w.from < cold_before_)
    for (double v : cold_.gauge_values(name, w.from, std::min(w.to, cold_before_))) best = best ? std::max(*best, v) : v;
  for (auto it = seconds_.lower_bound(w.from); it != seconds_.end() && it->first < w.to; ++it) {
    auto g = it->second.gauges.find(name);
    if (g != it->second.gauges.end()) best = best ? std::max(*best, g->second) : g->second;
  }
  return best;
}

std::optional<double> MetricsStore::gauge_min(const std::string& name, SecondWindow w) const {
  std::lock_guard lock(mu_);
  std::optional<double> best;
  if (w.from < cold_before_)
    for (double v : cold_.gauge_values(name, w.from, std::min(w.to, cold_before_))) best = best ? std::min(*best, v) : v;
  for (auto it = seconds_.lower_bound(w.from); it != seconds_.end() && it->first < w.to; ++it) {
    auto g = it->second.gauges.find(name);
    if (g != it->second.gauges.end()) best = best ? std::min(*best, g->second) : g->second;
  }
  return best;
}

int64_t MetricsStore::last_second() const {
  std::lock_guard lock(mu_);
  if (!seconds_.empty()) return seconds_.rbegin()->first;
  auto cold = cold_.seconds();
  return cold.empty() ? -1 : cold.back();
}

void MetricsStore::for_each_second(const std::function<void(int64_t second, const SecondSample&)>& fn) const {
  std::lock_guard lock(mu_);
  for (int64_t second : cold_.seconds()) fn(second, cold_.get(second));
  for (const auto& [second, sample] : seconds_) fn(second, sample);
}

}  // namespace kapture
