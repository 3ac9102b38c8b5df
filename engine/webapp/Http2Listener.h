#pragma once
// An HTTP/2 server on libnghttp2: over TLS with ALPN "h2" when given a
// certificate (what browsers and libcurl use to multiplex), else cleartext
// with prior knowledge (h2c; no Upgrade from HTTP/1.1).
//
// Every connection has a thread of its own running a poll() loop over its
// socket, a wake eventfd and the listener's stop eventfd. Its streams are
// concurrent within that loop: a response that is not ready defers its
// stream (NGHTTP2_ERR_DEFERRED) and the loop resumes it when woken or when
// the response's time comes, while the other streams go on.
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <utility>

#include <unistd.h>

#include "common/Error.h"
#include "common/UniqueFd.h"
#include "drivers/http/HttpListener.h"
#include "webapp/Http2Response.h"
#include "webapp/ThreadSet.h"

typedef struct ssl_ctx_st SSL_CTX;

namespace kapture {

// Both empty: cleartext h2c.
struct TlsFiles {
  std::string cert;  // PEM, the certificate chain
  std::string key;   // PEM, its private key
};

// Since the listener started.
struct Http2Stats {
  int64_t connections = 0;                  // accepted and served
  int64_t streams = 0;                      // requests answered (or being answered)
  int64_t max_concurrent_streams_seen = 0;  // the most streams open at once on one connection
};

// The counters connections update from their threads.
struct Http2Counters {
  std::atomic<int64_t> connections{0};
  std::atomic<int64_t> streams{0};
  std::atomic<int64_t> max_concurrent_streams{0};
  void saw_concurrent_streams(int64_t open);
};

class Http2Listener {
 public:
  // Called on a connection's thread for every complete request. It must not
  // block: anything slow goes to a response that is woken when it is ready.
  using Handler = std::function<std::unique_ptr<Http2Response>(const Http2Request&, Http2Waker)>;

  // At most `max_connections` connections at once (a thread each); more
  // are closed as soon as they are accepted.
  Http2Listener(Handler handler, size_t max_connections);
  ~Http2Listener();  // ends every connection and joins its thread
  Http2Listener(const Http2Listener&) = delete;
  Http2Listener& operator=(const Http2Listener&) = delete;

  // Loads the certificate (if any), binds (port 0 picks a free one) and
  // accepts on a thread. Errors name the file or the address, prefixed with
  // `option` (--h2-listen).
  Status start(const ListenAddress& address, const TlsFiles& tls, const std::string& option);
  std::string base_url() const;
  Http2Stats stats() const;

 private:
  void accept_loop();

  struct SslCtxFree {
    void operator()(SSL_CTX* ctx) const;
  };

  Handler handler_;
  std::unique_ptr<SSL_CTX, SslCtxFree> tls_;  // null: h2c
  std::string host_;
  int port_ = 0;
  UniqueFd listen_fd_;
  UniqueFd stop_fd_;  // an eventfd, readable once the listener stops: wakes every loop
  Http2Counters counters_;
  size_t max_connections_;
  ThreadSet connections_;
  std::thread acceptor_;
};

}  // namespace kapture
