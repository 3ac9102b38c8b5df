#include "timeline/ConsoleStatus.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>

#include "common/Redact.h"
#include "metrics/LoadMetricNames.h"

namespace kapture {

ConsoleStatus::ConsoleStatus(bool quiet) : quiet_(quiet), tty_(isatty(fileno(stderr)) != 0) {}

void ConsoleStatus::say(const std::string& line) {
  if (quiet_) return;
  // Chaos and error lines can quote a client library's message.
  std::fprintf(stderr, "%s%s\n", shown_ ? "\r\033[K" : "", redact(line).c_str());
  shown_ = false;
}

void ConsoleStatus::end_line() {
  if (shown_) say("");
}

void ConsoleStatus::show(const LiveSnapshot& st, int64_t second, const MetricsStore& metrics) {
  if (quiet_) return;
  if (!tty_ && second % 5 != 0) return;
  SecondWindow last{second - 1, second};
  double target = 0;
  for (const auto& [name, rate] : st.target_rates) target += rate;
  const LoadMetricNames names = load_metric_names(metrics);
  int64_t acked = metrics.counter_sum(names.acked, last);
  SecondWindow so_far{0, second};
  int64_t errors = names.failed_sum(metrics, so_far) + metrics.counter_sum("etl.sink_errors", so_far);
  Histogram lat = metrics.histogram(names.latency, last);
  auto lag = metrics.gauge_last("etl.lag", last);
  std::string extra;
  if (lag) extra += " | lag " + std::to_string(static_cast<long long>(*lag));
  if (st.expectations_failing) extra += " | failing " + std::to_string(st.expectations_failing);
  if (!st.next_step.empty()) extra += " | next: " + st.next_step;
  // Run offsets, as the event lines print them; what is left as planned (a
  // phase with `until` may end sooner). A target of 0 is max rate or idle.
  char buf[512];
  std::snprintf(buf, sizeof buf, "[%4llds] %s %llds/%llds, %llds left | rate %lld/%s/s | p99 %.2fms | errors %lld%s",
                static_cast<long long>(second), st.phase.c_str(), static_cast<long long>(st.phase_elapsed_us / 1000000),
                static_cast<long long>(st.phase_planned_us / 1000000),
                static_cast<long long>(std::max<int64_t>(0, st.planned_us - st.elapsed_us) / 1000000), static_cast<long long>(acked),
                target > 0 ? std::to_string(static_cast<long long>(target)).c_str() : "-", static_cast<double>(lat.percentile(99)) / 1000.0,
                static_cast<long long>(errors), extra.c_str());
  if (tty_) {
    std::fprintf(stderr, "\r\033[K%s", buf);
    shown_ = true;
  } else {
    std::fprintf(stderr, "%s\n", buf);
  }
}

}  // namespace kapture
