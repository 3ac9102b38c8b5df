#pragma once
// `GET /metrics` for Prometheus while a run goes on (--metrics-addr). Listens
// from construction to destruction on a thread of its own; each scrape renders
// the store and the live status as they are then.
#include <memory>
#include <string>

#include "common/Error.h"
#include "drivers/http/HttpListener.h"
#include "metrics/MetricsStore.h"
#include "timeline/LiveStatus.h"

namespace kapture {

class MetricsEndpoint {
 public:
  // Binds `address` (port 0 picks a free one) and starts serving; an address
  // that cannot be bound is an error naming it.
  static Result<std::unique_ptr<MetricsEndpoint>> start(const std::string& address, const MetricsStore& store,
                                                        const LiveStatus& live);

  int port() const { return listener_.port(); }  // the bound one
  std::string url() const { return listener_.base_url() + "/metrics"; }

 private:
  MetricsEndpoint() : listener_(2) {}  // two workers: Prometheus and a curl now and then

  HttpListener listener_;
};

}  // namespace kapture
