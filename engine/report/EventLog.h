#pragma once
// events.jsonl: one JSON object per line for each phase, step and chaos
// injection, written as they happen so an interrupted or crashed run still
// leaves its history.
#include <cstdio>
#include <mutex>
#include <string>

#include <nlohmann/json.hpp>

#include "metrics/RunClock.h"

namespace kapture {

class EventLog {
 public:
  EventLog(const std::string& path, const RunClock& clock);
  ~EventLog();
  EventLog(const EventLog&) = delete;
  EventLog& operator=(const EventLog&) = delete;
  bool ok() const { return file_ != nullptr; }
  void write(const std::string& type, nlohmann::json fields);

 private:
  std::FILE* file_ = nullptr;
  const RunClock& clock_;
  std::mutex mu_;
};

std::string iso8601_utc_ms(int64_t unix_ms);

}  // namespace kapture
