#pragma once
// A worker thread's metrics for the current second, recorded without locks
// and handed to the MetricsStore when the second is over. Subclasses say what
// a second holds (fill) and how to start the next one (clear).
#include <cstdint>

#include "metrics/MetricsStore.h"

namespace kapture {

class SecondRecorder {
 public:
  explicit SecondRecorder(MetricsStore& store) : store_(store) {}
  virtual ~SecondRecorder() = default;

  // Hands over the current second when `now_us` is in a later one.
  void roll(int64_t now_us) {
    int64_t second = now_us / 1000000;
    if (second == current_) return;
    flush();
    current_ = second;
  }
  // Hands over the current second as it is (end of run).
  void flush() {
    SecondSample s;
    fill(s);
    store_.add(current_, s);
    clear();
  }

 protected:
  virtual void fill(SecondSample& s) const = 0;
  virtual void clear() = 0;
  static void put(SecondSample& s, const char* name, const Histogram& h) {
    if (h.count()) s.histograms.emplace(name, h.compact());
  }

 private:
  MetricsStore& store_;
  int64_t current_ = 0;
};

}  // namespace kapture
