#include "metrics/DependencyFaults.h"

#include <spdlog/spdlog.h>

#include "report/EventLog.h"

namespace kapture {

namespace {
// A failing client may retry thousands of times a second: the outage keeps
// only the first error, and a run keeps at most this many outages.
constexpr size_t kMaxOutages = 1000;

double seconds(int64_t us) { return static_cast<double>(us / 1000) / 1000.0; }
}  // namespace

void DependencyFaults::failed(const std::string& dependency, const std::string& endpoint, const std::string& error) {
  const int64_t now = clock_.now_us();
  std::lock_guard lock(mu_);
  Key key{dependency, endpoint};
  if (auto it = open_.find(key); it != open_.end()) {
    outages_[it->second].failures++;
    return;
  }
  if (outages_.size() >= kMaxOutages) return;
  outages_.push_back(DependencyOutage{dependency, endpoint, now, -1, 1, error.substr(0, 300)});
  open_[key] = outages_.size() - 1;
  open_count_.fetch_add(1, std::memory_order_release);
  spdlog::info("{} at {} unreachable: {}", dependency, endpoint, error);
  if (events_) events_->write("dependency_down", {{"dependency", dependency}, {"endpoint", endpoint}, {"error", error.substr(0, 300)}});
}

void DependencyFaults::ok(const std::string& dependency, const std::string& endpoint) {
  if (open_count_.load(std::memory_order_acquire) == 0) return;
  const int64_t now = clock_.now_us();
  std::lock_guard lock(mu_);
  auto it = open_.find(Key{dependency, endpoint});
  if (it == open_.end()) return;
  DependencyOutage& o = outages_[it->second];
  o.to_us = now;
  open_.erase(it);
  open_count_.fetch_sub(1, std::memory_order_release);
  spdlog::info("{} at {} reachable again after {:.1f}s", dependency, endpoint, seconds(o.to_us - o.from_us));
  if (events_)
    events_->write("dependency_up", {{"dependency", dependency},
                                     {"endpoint", endpoint},
                                     {"down_s", seconds(o.to_us - o.from_us)},
                                     {"failures", o.failures}});
}

std::vector<DependencyOutage> DependencyFaults::outages() const {
  std::lock_guard lock(mu_);
  return outages_;
}

nlohmann::json DependencyFaults::to_json() const {
  nlohmann::json out = nlohmann::json::array();
  const int64_t now = clock_.now_us();
  for (const auto& o : outages()) {
    out.push_back({{"dependency", o.dependency},
                   {"endpoint", o.endpoint},
                   {"from_s", seconds(o.from_us)},
                   {"to_s", o.to_us < 0 ? nlohmann::json(nullptr) : nlohmann::json(seconds(o.to_us))},
                   {"duration_s", seconds((o.to_us < 0 ? now : o.to_us) - o.from_us)},
                   {"failures", o.failures},
                   {"error", o.error}});
  }
  return out;
}

}  // namespace kapture
