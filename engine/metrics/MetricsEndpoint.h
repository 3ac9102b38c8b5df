#pragma once
// `GET /metrics` for Prometheus while a run goes on (--metrics-addr). Listens
// from construction to destruction on a thread of its own; each scrape renders
// the store and the live status as they are then.
#include <atomic>
#include <memory>
#include <string>
#include <thread>

#include "common/Error.h"
#include "metrics/MetricsStore.h"
#include "timeline/LiveStatus.h"

namespace httplib {
class Server;
}

namespace kapture {

struct ListenAddress {
  std::string host;  // as given, without the brackets of an IPv6 address
  int port = 0;      // 0: any free port
};

// HOST:PORT, [IPV6]:PORT, or :PORT (every interface).
Result<ListenAddress> parse_listen_address(const std::string& text);

class MetricsEndpoint {
 public:
  // Binds `address` (port 0 picks a free one) and starts serving; an address
  // that cannot be bound is an error naming it.
  static Result<std::unique_ptr<MetricsEndpoint>> start(const std::string& address, const MetricsStore& store,
                                                        const LiveStatus& live);
  ~MetricsEndpoint();
  MetricsEndpoint(const MetricsEndpoint&) = delete;
  MetricsEndpoint& operator=(const MetricsEndpoint&) = delete;

  int port() const { return port_; }  // the bound one
  std::string url() const;            // http://HOST:PORT/metrics

 private:
  MetricsEndpoint(ListenAddress address, const MetricsStore& store, const LiveStatus& live);

  std::unique_ptr<httplib::Server> server_;
  std::string host_;
  int port_ = 0;
  int bind_errno_ = 0;
  std::atomic<bool> listener_done_{false};
  std::thread thread_;
};

}  // namespace kapture
