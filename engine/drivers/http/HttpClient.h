#pragma once
// HTTP clients for the http workload: requests go out on a keep-alive pool of
// at most `connections` connections, many in flight at once on one thread.
// Each completion reports its status, bytes, timing and how it failed, if it
// did. Owned by one thread. Two implementations behind one interface:
// CurlHttpClient (libcurl multi: any URL, HTTPS, HTTP/2) and PlainHttpClient
// (PlainHttpClient.h: plain http:// HTTP/1.1 to one origin, at about half
// libcurl's CPU per response).
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/Error.h"

namespace kapture {

struct HttpClientOptions {
  int connections = 16;
  bool http2 = false;         // prior knowledge on http://, ALPN on https://
  int64_t timeout_us = 10000000;
  bool insecure = false;
  bool keep_bodies = false;   // hand response headers and bodies to the completion (a Lua check reads them)
  // The URL every request goes to, when the caller knows they all share its
  // origin: a plain http:// one (and not http2) gets PlainHttpClient. Empty:
  // libcurl.
  std::string url;
};

struct HttpRequest {
  std::string method = "GET";
  std::string url;
  std::vector<std::string> headers;  // "Name: value"
  std::string body;
  int64_t intended_us = 0;  // when the schedule wanted it sent (run clock)
  int64_t submitted_us = 0;
  int64_t tag = 0;  // the caller's, handed back in the result (the request's seq)
};

struct HttpResult {
  enum class Outcome { Response, Timeout, ConnectError, Error };
  Outcome outcome = Outcome::Response;
  long status = 0;
  int64_t tag = 0;
  int64_t intended_us = 0;
  int64_t sent_us = 0;  // when the request went out on a connection (after waiting for one)
  int64_t done_us = 0;
  int64_t bytes_in = 0, bytes_out = 0;
  long new_connections = 0;
  std::string error;  // curl's message when not a response
  std::map<std::string, std::string> headers;  // lowercased names (keep_bodies only)
  std::string body;                            // keep_bodies only
};

class HttpClient {
 public:
  using Completion = std::function<void(const HttpResult&)>;
  // PlainHttpClient when opts.url is a plain http:// URL it can serve,
  // CurlHttpClient otherwise.
  static Result<std::unique_ptr<HttpClient>> create(const HttpClientOptions& opts);
  virtual ~HttpClient() = default;

  // Starts a request; it may wait in a queue for a free connection.
  virtual Status submit(HttpRequest req) = 0;
  // Drives transfers for at most `timeout_ms` (returns early on activity) and
  // reports what completed. `now_us` reads the run clock.
  virtual void poll(int timeout_ms, const std::function<int64_t()>& now_us, const Completion& done) = 0;
  // Fails every transfer still going (reported as errors, "aborted").
  virtual void abort_all(const std::function<int64_t()>& now_us, const Completion& done) = 0;
  // Submitted and not yet reported (queued or on a connection).
  virtual size_t in_flight() const = 0;
};

// libcurl multi: HTTP/1.1, or HTTP/2 streams multiplexed over the pool's
// connections, http:// and https://, any URL.
class CurlHttpClient final : public HttpClient {
 public:
  static Result<std::unique_ptr<CurlHttpClient>> create(const HttpClientOptions& opts);
  ~CurlHttpClient() override;
  CurlHttpClient(const CurlHttpClient&) = delete;
  CurlHttpClient& operator=(const CurlHttpClient&) = delete;

  Status submit(HttpRequest req) override;
  void poll(int timeout_ms, const std::function<int64_t()>& now_us, const Completion& done) override;
  void abort_all(const std::function<int64_t()>& now_us, const Completion& done) override;
  size_t in_flight() const override { return in_flight_; }

 private:
  struct Transfer;
  struct Impl;
  explicit CurlHttpClient(const HttpClientOptions& opts);
  void complete(Transfer* t, int code, int64_t now, const Completion& done);

  HttpClientOptions opts_;
  std::unique_ptr<Impl> impl_;
  size_t in_flight_ = 0;
};

}  // namespace kapture
