#pragma once
// events.jsonl: one JSON object per line for each phase, step and chaos
// injection, written as they happen so an interrupted or crashed run still
// leaves its history.
#include <cstdio>
#include <mutex>
#include <string>

#include <nlohmann/json.hpp>

#include "common/Error.h"
#include "metrics/RunClock.h"

namespace kapture {

class EventLog {
 public:
  EventLog(const std::string& path, const RunClock& clock);
  ~EventLog();
  EventLog(const EventLog&) = delete;
  EventLog& operator=(const EventLog&) = delete;
  bool ok() const { return fd_ >= 0; }
  void write(const std::string& type, nlohmann::json fields);
  // Events that could not be written (disk full, I/O error): "PATH: cannot
  // write: REASON (N events lost)"; none when every event reached the file.
  Status error() const;

 private:
  std::string path_;
  int fd_ = -1;
  int errno_ = 0;   // the first failure's
  int64_t lost_ = 0;
  const RunClock& clock_;
  mutable std::mutex mu_;
};

std::string iso8601_utc_ms(int64_t unix_ms);

}  // namespace kapture
