#include "report/EventLog.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>

#include "common/Redact.h"

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

EventLog::EventLog(const std::string& path, const RunClock& clock) : path_(path), clock_(clock) {
  fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd_ < 0) errno_ = errno;
}

EventLog::~EventLog() {
  if (fd_ >= 0) ::close(fd_);
}

Status EventLog::error() const {
  std::lock_guard lock(mu_);
  if (!errno_) return std::nullopt;
  return runtime_error(path_ + ": cannot write: " + std::strerror(errno_) + " (" + std::to_string(lost_) + " events lost)");
}

void EventLog::write(const std::string& type, nlohmann::json fields) {
  int64_t us = clock_.now_us();
  nlohmann::json j;
  j["t"] = static_cast<double>(us) / 1e6;
  j["time"] = iso8601_utc_ms(clock_.wall_ms(us));
  j["type"] = type;
  // Fields often carry a library's error text: no secret may reach the file.
  nlohmann::json safe = redact_json(fields);
  for (auto it = safe.begin(); it != safe.end(); ++it) j[it.key()] = it.value();
  std::lock_guard lock(mu_);
  if (fd_ < 0) {
    ++lost_;
    return;
  }
  // One write per line, unbuffered: what was written is on disk now. A line
  // that does not fit is taken back whole, so the file stays valid JSONL.
  std::string line = j.dump() + "\n";
  off_t before = ::lseek(fd_, 0, SEEK_CUR);
  size_t done = 0;
  while (done < line.size()) {
    ssize_t n = ::write(fd_, line.data() + done, line.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      if (!errno_) errno_ = n < 0 ? errno : ENOSPC;
      ++lost_;
      if (done > 0 && before >= 0 && ::ftruncate(fd_, before) == 0) ::lseek(fd_, before, SEEK_SET);
      return;
    }
    done += static_cast<size_t>(n);
  }
}

}  // namespace kapture
