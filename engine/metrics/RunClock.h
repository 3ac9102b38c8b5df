#pragma once
// Microseconds since the run started, on the steady clock. Passed by value to
// every thread so they agree on what "second 12" means.
#include <chrono>
#include <cstdint>

namespace kapture {

class RunClock {
 public:
  RunClock() : start_(std::chrono::steady_clock::now()), start_wall_ms_(wall_ms_now()) {}
  int64_t now_us() const {
    return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - start_).count();
  }
  // A clock whose offset 0 was the Unix time `start_wall_ms`: a distributed
  // worker follows its coordinator's clock (hosts agree through NTP).
  static RunClock starting_at_wall_ms(int64_t start_wall_ms) {
    RunClock c;
    int64_t since_us = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch()).count() -
                       start_wall_ms * 1000;
    c.start_ = std::chrono::steady_clock::now() - std::chrono::microseconds(since_us);
    c.start_wall_ms_ = start_wall_ms;
    return c;
  }
  std::chrono::steady_clock::time_point at(int64_t us) const { return start_ + std::chrono::microseconds(us); }
  // Unix time in ms of a run offset: what records carry as their creation time.
  int64_t wall_ms(int64_t us) const { return start_wall_ms_ + us / 1000; }
  // The same in microseconds: a send time a message carries, which a reader
  // in this process turns back into a run offset with exactly this base.
  int64_t wall_us(int64_t us) const { return start_wall_ms_ * 1000 + us; }
  int64_t start_wall_ms() const { return start_wall_ms_; }

 private:
  static int64_t wall_ms_now() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  }
  std::chrono::steady_clock::time_point start_;
  int64_t start_wall_ms_;
};

}  // namespace kapture
