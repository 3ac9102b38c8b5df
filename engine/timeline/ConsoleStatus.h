#pragma once
// What a running timeline prints to stderr: on a terminal one status line
// refreshed every second, off a terminal (CI logs) a plain line every 5 s,
// and event lines (chaos, phases) that clear the status line first.
#include <cstdint>
#include <string>

#include "metrics/MetricsStore.h"
#include "timeline/LiveStatus.h"

namespace kapture {

class ConsoleStatus {
 public:
  explicit ConsoleStatus(bool quiet);
  void say(const std::string& line);
  // The status after `second` (the last whole second) of the run.
  void show(const LiveSnapshot& s, int64_t second, const MetricsStore& metrics);
  // Moves off the status line before the summary is printed.
  void end_line();

 private:
  bool quiet_;
  bool tty_;
  bool shown_ = false;  // the status line is on screen, not yet ended
};

}  // namespace kapture
