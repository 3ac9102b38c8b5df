#include "metrics/ProcessUsage.h"

#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

namespace kapture {

std::optional<ProcessSample> ProcessUsage::sample(int64_t now_us) {
  std::ifstream stat("/proc/self/stat");
  std::string line;
  if (!std::getline(stat, line)) return std::nullopt;
  // The command name (field 2) may hold spaces: count fields after its ')'.
  size_t close = line.rfind(')');
  if (close == std::string::npos) return std::nullopt;
  std::istringstream rest(line.substr(close + 2));
  std::string field;
  unsigned long long utime = 0, stime = 0;
  long long rss_pages = 0;
  for (int i = 3; rest >> field; ++i) {
    if (i == 14) utime = std::stoull(field);
    else if (i == 15) stime = std::stoull(field);
    else if (i == 24) {
      rss_pages = std::stoll(field);
      break;
    }
  }
  double cpu_s = static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
  std::optional<ProcessSample> out;
  if (last_us_ >= 0 && now_us > last_us_) {
    ProcessSample s;
    s.cpu_percent = 100.0 * (cpu_s - last_cpu_s_) / (static_cast<double>(now_us - last_us_) / 1e6);
    s.rss_bytes = static_cast<double>(rss_pages) * static_cast<double>(sysconf(_SC_PAGESIZE));
    out = s;
  }
  last_us_ = now_us;
  last_cpu_s_ = cpu_s;
  return out;
}

}  // namespace kapture
