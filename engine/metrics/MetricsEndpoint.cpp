#include "metrics/MetricsEndpoint.h"

#include <httplib.h>

#include "metrics/PrometheusExposition.h"

namespace kapture {

// What Prometheus' own clients send for the text format.
static constexpr const char* kContentType = "text/plain; version=0.0.4; charset=utf-8";

Result<std::unique_ptr<MetricsEndpoint>> MetricsEndpoint::start(const std::string& address, const MetricsStore& store,
                                                                const LiveStatus& live) {
  auto a = parse_listen_address(address, "--metrics-addr");
  if (!a) return a.error();
  std::unique_ptr<MetricsEndpoint> e(new MetricsEndpoint());
  auto& s = e->listener_.server();
  s.Get("/metrics", [&store, &live](const httplib::Request&, httplib::Response& res) {
    res.set_content(prometheus_exposition(store, live.get()), kContentType);
  });
  s.Get("/", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("kapture-engine: Prometheus metrics at /metrics\n", "text/plain; charset=utf-8");
  });
  if (auto err = e->listener_.start(*a, "--metrics-addr")) return *err;
  return e;
}

}  // namespace kapture
