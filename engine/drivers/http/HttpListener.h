#pragma once
// An httplib::Server listening on its own thread from construction to
// destruction: what /metrics and the webapp share. Routes are added by the
// caller before start().
#include <atomic>
#include <memory>
#include <string>
#include <thread>

#include "common/Error.h"

namespace httplib {
class Server;
}

namespace kapture {

struct ListenAddress {
  std::string host;  // as given, without the brackets of an IPv6 address
  int port = 0;      // 0: any free port
};

// HOST:PORT, [IPV6]:PORT, or :PORT (every interface). `option` names the
// flag in messages (--metrics-addr, --listen).
Result<ListenAddress> parse_listen_address(const std::string& text, const std::string& option = "--metrics-addr");

// "HOST:PORT", bracketing an IPv6 host.
std::string host_port(const std::string& host, int port);

class HttpListener {
 public:
  // `workers` threads serve requests (a long response, such as a stream,
  // holds one for its whole length).
  explicit HttpListener(int workers);
  ~HttpListener();
  HttpListener(const HttpListener&) = delete;
  HttpListener& operator=(const HttpListener&) = delete;

  httplib::Server& server() { return *server_; }
  // Binds (port 0 picks a free one) and serves on a thread; an address that
  // cannot be bound is an error naming it, prefixed with `option`.
  Status start(const ListenAddress& address, const std::string& option);
  int port() const { return port_; }
  std::string base_url() const { return "http://" + host_port(host_, port_); }

 private:
  std::unique_ptr<httplib::Server> server_;
  std::string host_;
  int port_ = 0;
  std::atomic<bool> listener_done_{false};
  std::thread thread_;
};

}  // namespace kapture
