#include "report/EventLog.h"

#include <ctime>

namespace kapture {

std::string iso8601_utc_ms(int64_t unix_ms) {
  std::time_t secs = static_cast<std::time_t>(unix_ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[96];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                tm.tm_min, tm.tm_sec, static_cast<int>(unix_ms % 1000));
  return buf;
}

EventLog::EventLog(const std::string& path, const RunClock& clock) : clock_(clock) { file_ = std::fopen(path.c_str(), "w"); }

EventLog::~EventLog() {
  if (file_) std::fclose(file_);
}

void EventLog::write(const std::string& type, nlohmann::json fields) {
  int64_t us = clock_.now_us();
  nlohmann::json j;
  j["t"] = static_cast<double>(us) / 1e6;
  j["time"] = iso8601_utc_ms(clock_.wall_ms(us));
  j["type"] = type;
  for (auto it = fields.begin(); it != fields.end(); ++it) j[it.key()] = it.value();
  std::lock_guard lock(mu_);
  if (!file_) return;
  std::string line = j.dump() + "\n";
  std::fwrite(line.data(), 1, line.size(), file_);
  std::fflush(file_);
}

}  // namespace kapture
