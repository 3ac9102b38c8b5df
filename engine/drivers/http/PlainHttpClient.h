#pragma once
// A lean HTTP/1.1 client for the common case: plain http:// to one origin,
// keep-alive, one request per connection at a time (as wrk). Non-blocking
// sockets and epoll, responses parsed by joyent's http_parser. libcurl's
// multi interface spent ~19 us of CPU per response at max rate on the
// project machine against wrk's ~9 us (docs/benchmarks.md, bench/http);
// this does what wrk does per response: one write, one read, epoll.
//
// Requests beyond `connections` wait in a FIFO here. A request that fails
// on a reused connection before any response byte (the server closed it
// while idle) is retried once on a new one, as curl and browsers do.
// Timeouts count from submission and are checked at each poll() (the http
// workload polls at least every 10 ms).
#include <deque>
#include <memory>
#include <utility>
#include <string>
#include <vector>

#include "common/UniqueFd.h"
#include "drivers/http/HttpClient.h"

namespace kapture {

class PlainHttpClient final : public HttpClient {
 public:
  // Whether `url` is one this client can serve: http://host[:port][/path].
  static bool serves(const std::string& url);
  // Resolves the origin of opts.url (once, getaddrinfo).
  static Result<std::unique_ptr<PlainHttpClient>> create(const HttpClientOptions& opts);
  ~PlainHttpClient() override;
  PlainHttpClient(const PlainHttpClient&) = delete;
  PlainHttpClient& operator=(const PlainHttpClient&) = delete;

  Status submit(HttpRequest req) override;
  void poll(int timeout_ms, const std::function<int64_t()>& now_us, const Completion& done) override;
  void abort_all(const std::function<int64_t()>& now_us, const Completion& done) override;
  size_t in_flight() const override { return queue_.size() + busy_; }

 private:
  struct Pending {
    HttpRequest req;
    // The request target is req.url from path_at on ("/" first when that
    // is empty or a query). npos: not for this client's origin.
    size_t path_at = 0;
    bool retried = false;   // already retried once on a new connection
    size_t addr_tries = 0;  // the origin's addresses it failed to connect to
  };
  struct Conn;
  struct Address;

  explicit PlainHttpClient(const HttpClientOptions& opts);
  void dispatch(int64_t now, const Completion& done);
  void assign(Conn& c, Pending&& p);
  void open(Conn& c, Pending&& p, int64_t now, const Completion& done);
  void connect_failed(Pending&& p, int err, int64_t now, const Completion& done);
  void expire(int64_t now, const Completion& done);
  void connected(Conn& c, int64_t now, const Completion& done);
  void write_out(Conn& c, int64_t now, const Completion& done);
  void read_in(Conn& c, int64_t now, const Completion& done);
  void on_eof(Conn& c, const std::string& why, int64_t now, const Completion& done);
  void finish(Conn& c, int64_t now, const Completion& done);
  void fail(Conn& c, HttpResult::Outcome outcome, std::string error, int64_t now, const Completion& done);
  static HttpResult result_of(const Conn& c, HttpResult::Outcome outcome, int64_t now);
  void close(Conn& c);
  void watch(Conn& c, bool out);
  void report_unsent(Pending& p, HttpResult::Outcome outcome, std::string error, int64_t now, const Completion& done);
  std::string timeout_message(int64_t since_us, int64_t now) const;

  HttpClientOptions opts_;
  std::string origin_;       // "http://host[:port]": requests must be for it
  std::string host_header_;  // "Host: host[:port]\r\n"
  std::string host_, port_;  // for error messages
  std::vector<Address> addrs_;
  size_t addr_ = 0;  // the address new connections go to (the last that worked)
  UniqueFd epoll_;
  std::vector<std::unique_ptr<Conn>> conns_;  // `connections` slots, open or not
  std::vector<Conn*> idle_;                   // open, no request on them
  std::vector<Conn*> closed_;                 // slots free for a new connection
  std::deque<Pending> queue_;                 // waiting for a connection
  size_t busy_ = 0;                           // requests on connections
  std::vector<char> read_buf_;                // one for all connections
};

}  // namespace kapture
