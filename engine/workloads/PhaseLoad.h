#pragma once
// The load a workload's worker threads follow, as the timeline sets it at
// each phase, and the names of what they created. A new load or stop()
// wakes sleeping workers at once: a phase's first arrival is due the moment
// the phase starts.
#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include "metrics/RunClock.h"
#include "scenario/Scenario.h"

namespace kapture {

class PhaseLoad {
 public:
  struct Current {
    LoadSpec load;
    int64_t start_us = 0, duration_us = 0;
    uint64_t version = 0;
  };

  void set(const LoadSpec& load, int64_t start_us, int64_t duration_us) {
    {
      std::lock_guard lock(mu_);
      current_ = Current{load, start_us, duration_us, current_.version + 1};
      version_.store(current_.version, std::memory_order_release);
    }
    wake_cv_.notify_all();
  }
  // Cheap enough to ask on every turn of a worker's loop.
  bool changed_since(uint64_t seen_version) const { return version_.load(std::memory_order_acquire) != seen_version; }
  Current current() const {
    std::lock_guard lock(mu_);
    return current_;
  }
  void stop() {
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
    }
    wake_cv_.notify_all();
  }
  bool stopped() const { return stopping_.load(std::memory_order_relaxed); }
  // Until `until_us` on the run clock, a load newer than `seen_version`, or stop().
  void sleep_until(const RunClock& clock, uint64_t seen_version, int64_t until_us) {
    std::unique_lock lock(mu_);
    wake_cv_.wait_until(lock, clock.at(until_us), [&] { return stopping_.load() || current_.version != seen_version; });
  }

 private:
  mutable std::mutex mu_;
  Current current_;
  std::atomic<uint64_t> version_{0};
  std::atomic<bool> stopping_{false};
  std::condition_variable wake_cv_;
};

// The names of every object a workload created, for a kube-watch that observes it.
class CreatedNames {
 public:
  void add(const std::string& name) {
    std::lock_guard lock(mu_);
    names_.push_back(name);
  }
  std::vector<std::string> sorted() const {
    std::lock_guard lock(mu_);
    std::vector<std::string> out = names_;
    std::sort(out.begin(), out.end());
    return out;
  }

 private:
  mutable std::mutex mu_;
  std::vector<std::string> names_;
};

}  // namespace kapture
