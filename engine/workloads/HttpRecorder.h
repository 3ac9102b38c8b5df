#pragma once
// An http worker thread's per-second metrics (see SecondRecorder).
#include <cstdint>

#include "metrics/Histogram.h"
#include "metrics/SecondRecorder.h"

namespace kapture {

class HttpRecorder : public SecondRecorder {
 public:
  using SecondRecorder::SecondRecorder;

  Histogram latency, response_latency;
  int64_t intended = 0, sent = 0, responses = 0;
  int64_t status_2xx = 0, status_3xx = 0, status_4xx = 0, status_5xx = 0;
  int64_t timeouts = 0, connect_errors = 0, errors = 0, check_failed = 0;
  int64_t bytes_in = 0, bytes_out = 0, connections = 0;
  int64_t in_flight = 0;  // a gauge: not cleared

  void count_status(long status) {
    if (status >= 200 && status < 300) ++status_2xx;
    else if (status >= 300 && status < 400) ++status_3xx;
    else if (status >= 400 && status < 500) ++status_4xx;
    else if (status >= 500 && status < 600) ++status_5xx;
  }

 protected:
  void fill(SecondSample& s) const override {
    s.counters = {{"http.intended", intended},
                  {"http.sent", sent},
                  {"http.responses", responses},
                  {"http.status_2xx", status_2xx},
                  {"http.status_3xx", status_3xx},
                  {"http.status_4xx", status_4xx},
                  {"http.status_5xx", status_5xx},
                  {"http.timeouts", timeouts},
                  {"http.connect_errors", connect_errors},
                  {"http.errors", errors},
                  {"http.check_failed", check_failed},
                  {"http.bytes_in", bytes_in},
                  {"http.bytes_out", bytes_out},
                  {"http.connections", connections}};
    s.gauges = {{"http.in_flight", static_cast<double>(in_flight)}};
    put(s, "http.latency", latency);
    put(s, "http.response_latency", response_latency);
  }
  void clear() override {
    latency.reset();
    response_latency.reset();
    intended = sent = responses = status_2xx = status_3xx = status_4xx = status_5xx = 0;
    timeouts = connect_errors = errors = check_failed = bytes_in = bytes_out = connections = 0;
  }
};

}  // namespace kapture
