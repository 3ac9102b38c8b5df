#include "webapp/Http2Listener.h"

#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <nghttp2/nghttp2.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/socket.h>

#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstring>
#include <exception>
#include <map>
#include <string_view>
#include <vector>

namespace kapture {

namespace {

using namespace std::chrono_literals;

constexpr uint32_t kMaxConcurrentStreams = 256;   // announced to clients in SETTINGS
constexpr size_t kMaxRequestBody = 64u << 20;     // a POST beyond it gets 413
constexpr size_t kOutputHighWater = 1u << 20;     // frames waiting for the socket before nghttp2 is asked for more
constexpr auto kHandshakeTimeout = 10s;
constexpr auto kIdleTimeout = 120s;  // a connection without streams for so long is closed: its thread is freed

// What OpenSSL's error queue says, oldest (the cause) first.
std::string openssl_errors() {
  std::string out;
  while (unsigned long e = ERR_get_error()) {
    char text[256];
    ERR_error_string_n(e, text, sizeof text);
    if (!out.empty()) out += "; ";
    out += text;
  }
  return out.empty() ? "unknown OpenSSL error" : out;
}

// ALPN: h2 or nothing. A client that offers only http/1.1 gets a
// no_application_protocol alert, which says what is wrong, instead of a
// TLS connection that then closes.
int select_h2(SSL*, const unsigned char** out, unsigned char* out_len, const unsigned char* in, unsigned int in_len, void*) {
  unsigned char* selected = nullptr;
  if (nghttp2_select_next_protocol(&selected, out_len, in, in_len) != 1) return SSL_TLSEXT_ERR_ALERT_FATAL;
  *out = selected;
  return SSL_TLSEXT_ERR_OK;
}

// A file that cannot be opened is named with the system's reason, which is
// clearer than OpenSSL's queue for the most common mistake.
Status readable(const std::string& file, const char* option) {
  std::FILE* f = std::fopen(file.c_str(), "r");
  if (!f) return usage_error(std::string(option) + " " + file + ": cannot read it: " + std::strerror(errno));
  std::fclose(f);
  return {};
}

void block_sigpipe() {
  // A client that hangs up mid-response must not SIGPIPE the engine (TLS
  // writes go through write(2), without MSG_NOSIGNAL). Threads started
  // from this one inherit the mask.
  sigset_t pipe;
  sigemptyset(&pipe);
  sigaddset(&pipe, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe, nullptr);
}

Result<UniqueFd> listen_on(const ListenAddress& address, const std::string& option) {
  std::string where = host_port(address.host, address.port);
  auto cannot = [&](const std::string& why) { return usage_error(option + " " + where + ": cannot listen on " + where + ": " + why); };
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* found = nullptr;
  std::string port = std::to_string(address.port);
  if (int rc = getaddrinfo(address.host.c_str(), port.c_str(), &hints, &found); rc != 0)
    return cannot(std::string("not a local address (") + gai_strerror(rc) + ")");
  std::unique_ptr<addrinfo, decltype(&freeaddrinfo)> addresses(found, freeaddrinfo);
  int err = 0;
  for (addrinfo* a = found; a; a = a->ai_next) {
    UniqueFd fd(::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol));
    if (!fd) {
      err = errno;
      continue;
    }
    // As the HTTP/1.1 listener: SO_REUSEADDR allows a restart while old
    // connections linger in TIME_WAIT; never SO_REUSEPORT, which would let a
    // second process share the port.
    int yes = 1;
    setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    if (::bind(fd.get(), a->ai_addr, a->ai_addrlen) == 0 && ::listen(fd.get(), 128) == 0) return fd;
    err = errno;
  }
  return cannot(std::strerror(err));
}

int bound_port(int fd) {
  sockaddr_storage a{};
  socklen_t len = sizeof a;
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) return -1;
  if (a.ss_family == AF_INET6) return ntohs(reinterpret_cast<sockaddr_in6*>(&a)->sin6_port);
  return ntohs(reinterpret_cast<sockaddr_in*>(&a)->sin_port);
}

struct SslFree {
  void operator()(SSL* ssl) const { SSL_free(ssl); }
};
struct SessionDel {
  void operator()(nghttp2_session* session) const { nghttp2_session_del(session); }
};
struct CallbacksDel {
  void operator()(nghttp2_session_callbacks* callbacks) const { nghttp2_session_callbacks_del(callbacks); }
};

// One accepted connection, served on its own thread by run().
class Connection {
 public:
  Connection(UniqueFd socket, SSL_CTX* tls, const Http2Listener::Handler& handler, Http2Counters& counters, int stop_fd)
      : socket_(std::move(socket)), tls_ctx_(tls), handler_(handler), counters_(counters), stop_fd_(stop_fd) {}
  void run();

 private:
  struct Stream {
    Http2Request request;
    bool body_too_large = false;
    std::unique_ptr<Http2Response> response;  // once the request is complete
    bool answered = false;                    // its headers were submitted
    bool deferred = false;                    // its body said "not yet"; resumed after a wake or at due()
  };

  bool tls_handshake();
  bool start_session();
  bool wait_for_socket(short events, Http2Clock::time_point deadline);
  bool receive();
  bool send();
  ssize_t write_some(const char* data, size_t size);
  void goodbye();
  void serve_streams(bool woken, Http2Clock::time_point now);
  int poll_timeout_ms(Http2Clock::time_point now) const;
  void dispatch(Stream& stream);
  void submit_head(int32_t id, Stream& stream, const Http2Head& head);
  Http2Waker waker() const;

  // nghttp2's callbacks; user_data is the connection.
  static int on_begin_headers(nghttp2_session*, const nghttp2_frame* frame, void* self);
  static int on_header(nghttp2_session*, const nghttp2_frame* frame, const uint8_t* name, size_t name_len, const uint8_t* value,
                       size_t value_len, uint8_t flags, void* self);
  static int on_data_chunk(nghttp2_session*, uint8_t flags, int32_t id, const uint8_t* data, size_t len, void* self);
  static int on_frame_recv(nghttp2_session*, const nghttp2_frame* frame, void* self);
  static int on_stream_close(nghttp2_session*, int32_t id, uint32_t error_code, void* self);
  static ssize_t on_read_body(nghttp2_session*, int32_t id, uint8_t* buf, size_t len, uint32_t* data_flags, nghttp2_data_source*,
                              void* self);

  Stream* find(int32_t id) {
    auto it = streams_.find(id);
    return it == streams_.end() ? nullptr : &it->second;
  }

  UniqueFd socket_;
  SSL_CTX* tls_ctx_;  // null: h2c
  std::unique_ptr<SSL, SslFree> ssl_;
  const Http2Listener::Handler& handler_;
  Http2Counters& counters_;
  int stop_fd_;
  // Shared with the wakers, which may outlive the connection (a Kafka
  // delivery report that comes after the client went away).
  std::shared_ptr<UniqueFd> wake_fd_ = std::make_shared<UniqueFd>(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
  std::map<int32_t, Stream> streams_;  // the open ones; declared before session_ so that they outlive its callbacks
  std::unique_ptr<nghttp2_session, SessionDel> session_;
  std::string out_;      // frames nghttp2 produced that the socket did not take yet
  size_t out_sent_ = 0;  // of out_
  bool tls_wants_write_ = false;
  Http2Clock::time_point last_active_ = Http2Clock::now();
};

void Connection::run() {
  ++counters_.connections;
  // Frames are small and a client waits on each answer: no Nagle delay.
  int yes = 1;
  setsockopt(socket_.get(), IPPROTO_TCP, TCP_NODELAY, &yes, sizeof yes);
  if (!*wake_fd_) return;
  if (tls_ctx_ && !tls_handshake()) return;
  if (!start_session()) return;
  bool woken = false;
  for (;;) {
    auto now = Http2Clock::now();
    serve_streams(woken, now);
    if (!send()) return;
    bool output_waiting = out_sent_ < out_.size();
    if (!nghttp2_session_want_read(session_.get()) && !nghttp2_session_want_write(session_.get()) && !output_waiting)
      return;  // both sides are done (GOAWAY)
    if (streams_.empty() && now - last_active_ >= kIdleTimeout) {
      goodbye();
      return;
    }

    short socket_events = POLLIN | (output_waiting || tls_wants_write_ ? POLLOUT : 0);
    std::array<pollfd, 3> fds{{{socket_.get(), socket_events, 0}, {wake_fd_->get(), POLLIN, 0}, {stop_fd_, POLLIN, 0}}};
    if (::poll(fds.data(), fds.size(), poll_timeout_ms(now)) < 0 && errno != EINTR) return;
    if (fds[2].revents) {  // the listener stops
      goodbye();
      return;
    }
    woken = fds[1].revents != 0;
    if (woken) {
      uint64_t count;
      ssize_t n = ::read(wake_fd_->get(), &count, sizeof count);  // resets it; the wakes are served below
      (void)n;
    }
    if (fds[0].revents && !receive()) return;
  }
}

bool Connection::wait_for_socket(short events, Http2Clock::time_point deadline) {
  for (;;) {
    auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Http2Clock::now()).count();
    if (left <= 0) return false;
    std::array<pollfd, 2> fds{{{socket_.get(), events, 0}, {stop_fd_, POLLIN, 0}}};
    int n = ::poll(fds.data(), fds.size(), static_cast<int>(std::min<int64_t>(left, INT_MAX)));
    if (n < 0 && errno != EINTR) return false;
    if (fds[1].revents) return false;
    if (fds[0].revents) return true;
  }
}

bool Connection::tls_handshake() {
  ssl_.reset(SSL_new(tls_ctx_));
  if (!ssl_ || SSL_set_fd(ssl_.get(), socket_.get()) != 1) return false;
  auto deadline = Http2Clock::now() + kHandshakeTimeout;
  for (;;) {
    ERR_clear_error();
    int rc = SSL_accept(ssl_.get());
    if (rc == 1) break;
    int err = SSL_get_error(ssl_.get(), rc);
    short wait = err == SSL_ERROR_WANT_READ ? POLLIN : err == SSL_ERROR_WANT_WRITE ? POLLOUT : 0;
    if (wait == 0) {
      spdlog::debug("HTTP/2: TLS handshake failed: {}", openssl_errors());
      return false;
    }
    if (!wait_for_socket(wait, deadline)) return false;
  }
  // select_h2 agreed to nothing but h2; no ALPN at all is an HTTP/1.1 client.
  const unsigned char* protocol = nullptr;
  unsigned int len = 0;
  SSL_get0_alpn_selected(ssl_.get(), &protocol, &len);
  if (len == 2 && std::memcmp(protocol, "h2", 2) == 0) return true;
  spdlog::debug("HTTP/2: a TLS client without ALPN h2: closed");
  return false;
}

bool Connection::start_session() {
  nghttp2_session_callbacks* raw = nullptr;
  if (nghttp2_session_callbacks_new(&raw) != 0) return false;
  std::unique_ptr<nghttp2_session_callbacks, CallbacksDel> callbacks(raw);
  nghttp2_session_callbacks_set_on_begin_headers_callback(raw, on_begin_headers);
  nghttp2_session_callbacks_set_on_header_callback(raw, on_header);
  nghttp2_session_callbacks_set_on_data_chunk_recv_callback(raw, on_data_chunk);
  nghttp2_session_callbacks_set_on_frame_recv_callback(raw, on_frame_recv);
  nghttp2_session_callbacks_set_on_stream_close_callback(raw, on_stream_close);
  nghttp2_session* session = nullptr;
  if (nghttp2_session_server_new(&session, raw, this) != 0) return false;
  session_.reset(session);
  nghttp2_settings_entry settings[] = {{NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, kMaxConcurrentStreams}};
  return nghttp2_submit_settings(session, NGHTTP2_FLAG_NONE, settings, std::size(settings)) == 0;
}

// Everything the socket has now, into nghttp2 (which calls back for frames);
// false when the connection is over.
bool Connection::receive() {
  std::array<uint8_t, 16384> buf;
  tls_wants_write_ = false;
  for (;;) {
    ssize_t n;
    if (ssl_) {
      ERR_clear_error();
      int rc = SSL_read(ssl_.get(), buf.data(), static_cast<int>(buf.size()));
      if (rc <= 0) {
        int err = SSL_get_error(ssl_.get(), rc);
        if (err == SSL_ERROR_WANT_READ) return true;
        if (err == SSL_ERROR_WANT_WRITE) {  // TLS needs to write before it reads on
          tls_wants_write_ = true;
          return true;
        }
        return false;  // closed or broken
      }
      n = rc;
    } else {
      n = ::recv(socket_.get(), buf.data(), buf.size(), 0);
      if (n == 0) return false;
      if (n < 0) {
        if (errno == EINTR) continue;
        return errno == EAGAIN || errno == EWOULDBLOCK;
      }
    }
    last_active_ = Http2Clock::now();
    if (nghttp2_session_mem_recv(session_.get(), buf.data(), static_cast<size_t>(n)) < 0) return false;
  }
}

// nghttp2's frames to the socket until it is full or nothing is left;
// false when the connection is broken.
bool Connection::send() {
  for (;;) {
    if (out_sent_ > 0) {  // keep what is unsent at the front (a TLS write is retried with the same bytes)
      out_.erase(0, out_sent_);
      out_sent_ = 0;
    }
    while (out_.size() < kOutputHighWater) {
      const uint8_t* data = nullptr;
      ssize_t n = nghttp2_session_mem_send(session_.get(), &data);
      if (n < 0) return false;
      if (n == 0) break;
      out_.append(reinterpret_cast<const char*>(data), static_cast<size_t>(n));
    }
    if (out_.empty()) return true;
    ssize_t n = write_some(out_.data(), out_.size());
    if (n < 0) return false;
    if (n == 0) return true;  // full: the loop polls for POLLOUT
    out_sent_ = static_cast<size_t>(n);
  }
}

// Bytes written; 0 when the socket (or TLS) cannot take any now; -1 when the
// connection is broken.
ssize_t Connection::write_some(const char* data, size_t size) {
  if (ssl_) {
    ERR_clear_error();
    int rc = SSL_write(ssl_.get(), data, static_cast<int>(std::min<size_t>(size, INT_MAX)));
    if (rc > 0) return rc;
    int err = SSL_get_error(ssl_.get(), rc);
    return err == SSL_ERROR_WANT_WRITE || err == SSL_ERROR_WANT_READ ? 0 : -1;
  }
  for (;;) {
    ssize_t n = ::send(socket_.get(), data, size, MSG_NOSIGNAL);
    if (n >= 0) return n;
    if (errno != EINTR) return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -1;
  }
}

// A GOAWAY (and TLS close_notify), as far as the socket takes them now: the
// connection ends either way.
void Connection::goodbye() {
  nghttp2_session_terminate_session(session_.get(), NGHTTP2_NO_ERROR);
  if (send() && out_.empty() && ssl_) SSL_shutdown(ssl_.get());
}

void Connection::serve_streams(bool woken, Http2Clock::time_point now) {
  for (auto& [id, stream] : streams_) {
    if (!stream.response) continue;  // the request is still arriving
    if (!stream.answered) {
      if (auto head = stream.response->head()) submit_head(id, stream, *head);
    } else if (stream.deferred && (woken || stream.response->due() <= now)) {
      stream.deferred = false;
      nghttp2_session_resume_data(session_.get(), id);
    }
  }
}

int Connection::poll_timeout_ms(Http2Clock::time_point now) const {
  auto next = Http2Clock::time_point::max();
  for (const auto& [id, stream] : streams_)
    if (stream.deferred) next = std::min(next, stream.response->due());
  if (streams_.empty()) next = last_active_ + kIdleTimeout;
  if (next == Http2Clock::time_point::max()) return -1;
  auto ms = std::chrono::ceil<std::chrono::milliseconds>(next - now).count();
  return static_cast<int>(std::clamp<int64_t>(ms, 0, INT_MAX));
}

Http2Waker Connection::waker() const {
  return [fd = wake_fd_] {
    uint64_t one = 1;
    ssize_t n = ::write(fd->get(), &one, sizeof one);  // fails only when the counter is full: it is readable then anyway
    (void)n;
  };
}

void Connection::dispatch(Stream& stream) {
  ++counters_.streams;
  if (stream.body_too_large) {
    stream.response = static_response(413, "application/json", "{\"error\":\"request body over 64 MiB\"}\n");
    return;
  }
  try {
    stream.response = handler_(stream.request, waker());
  } catch (const std::exception& e) {
    spdlog::error("HTTP/2 {} {}: {}", stream.request.method, stream.request.path, e.what());
  }
  if (!stream.response) stream.response = static_response(500, "application/json", "{\"error\":\"internal error\"}\n");
  stream.request.body = std::string();  // handed over; the stream may stay open long (an event stream)
}

void Connection::submit_head(int32_t id, Stream& stream, const Http2Head& head) {
  static const std::string kStatus = ":status";
  std::string status = std::to_string(head.status);
  std::vector<nghttp2_nv> nv;
  auto add = [&nv](const std::string& name, const std::string& value) {
    // nghttp2_submit_response copies them (no NGHTTP2_NV_FLAG_NO_COPY_*).
    nv.push_back({reinterpret_cast<uint8_t*>(const_cast<char*>(name.data())), reinterpret_cast<uint8_t*>(const_cast<char*>(value.data())),
                  name.size(), value.size(), NGHTTP2_NV_FLAG_NONE});
  };
  add(kStatus, status);
  for (const auto& [name, value] : head.headers) add(name, value);
  nghttp2_data_provider body{};
  body.read_callback = on_read_body;
  bool has_body = stream.request.method != "HEAD";
  if (nghttp2_submit_response(session_.get(), id, nv.data(), nv.size(), has_body ? &body : nullptr) != 0)
    nghttp2_submit_rst_stream(session_.get(), NGHTTP2_FLAG_NONE, id, NGHTTP2_INTERNAL_ERROR);
  stream.answered = true;
}

int Connection::on_begin_headers(nghttp2_session*, const nghttp2_frame* frame, void* self) {
  if (frame->hd.type != NGHTTP2_HEADERS || frame->headers.cat != NGHTTP2_HCAT_REQUEST) return 0;
  auto& c = *static_cast<Connection*>(self);
  try {
    c.streams_.try_emplace(frame->hd.stream_id);
  } catch (const std::exception&) {
    return NGHTTP2_ERR_CALLBACK_FAILURE;
  }
  c.counters_.saw_concurrent_streams(static_cast<int64_t>(c.streams_.size()));
  return 0;
}

int Connection::on_header(nghttp2_session*, const nghttp2_frame* frame, const uint8_t* name, size_t name_len, const uint8_t* value,
                          size_t value_len, uint8_t, void* self) {
  if (frame->hd.type != NGHTTP2_HEADERS || frame->headers.cat != NGHTTP2_HCAT_REQUEST) return 0;
  Stream* stream = static_cast<Connection*>(self)->find(frame->hd.stream_id);
  if (!stream) return 0;
  std::string_view n(reinterpret_cast<const char*>(name), name_len);
  std::string_view v(reinterpret_cast<const char*>(value), value_len);
  try {
    if (n == ":method") {
      stream->request.method = v;
    } else if (n == ":path") {
      size_t q = v.find('?');
      stream->request.path = v.substr(0, q);
      stream->request.query = q == std::string_view::npos ? std::string_view() : v.substr(q + 1);
    }
  } catch (const std::exception&) {
    return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;  // resets this stream only
  }
  return 0;
}

int Connection::on_data_chunk(nghttp2_session*, uint8_t, int32_t id, const uint8_t* data, size_t len, void* self) {
  Stream* stream = static_cast<Connection*>(self)->find(id);
  if (!stream || stream->body_too_large) return 0;
  if (stream->request.body.size() + len > kMaxRequestBody) {
    stream->body_too_large = true;
    stream->request.body = std::string();
    return 0;
  }
  try {
    stream->request.body.append(reinterpret_cast<const char*>(data), len);
  } catch (const std::exception&) {
    return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
  }
  return 0;
}

int Connection::on_frame_recv(nghttp2_session*, const nghttp2_frame* frame, void* self) {
  bool request_complete = (frame->hd.type == NGHTTP2_HEADERS || frame->hd.type == NGHTTP2_DATA) && (frame->hd.flags & NGHTTP2_FLAG_END_STREAM);
  if (!request_complete) return 0;
  auto& c = *static_cast<Connection*>(self);
  Stream* stream = c.find(frame->hd.stream_id);
  if (stream && !stream->response) c.dispatch(*stream);  // answered in the loop's next round, with the others
  return 0;
}

int Connection::on_stream_close(nghttp2_session*, int32_t id, uint32_t, void* self) {
  auto& c = *static_cast<Connection*>(self);
  c.streams_.erase(id);  // its response goes: a feed behind it is abandoned
  c.last_active_ = Http2Clock::now();  // idle from now on, not from the last bytes of a long stream's request
  return 0;
}

ssize_t Connection::on_read_body(nghttp2_session*, int32_t id, uint8_t* buf, size_t len, uint32_t* data_flags, nghttp2_data_source*,
                                 void* self) {
  Stream* stream = static_cast<Connection*>(self)->find(id);
  if (!stream || !stream->response) return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
  BodyRead read;
  try {
    read = stream->response->read({buf, len}, Http2Clock::now());
  } catch (const std::exception& e) {
    spdlog::error("HTTP/2 {} {}: {}", stream->request.method, stream->request.path, e.what());
    return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;  // resets this stream
  }
  if (read.end) {
    *data_flags |= NGHTTP2_DATA_FLAG_EOF;
  } else if (read.size == 0) {
    stream->deferred = true;
    return NGHTTP2_ERR_DEFERRED;
  }
  return static_cast<ssize_t>(read.size);
}

}  // namespace

void Http2Counters::saw_concurrent_streams(int64_t open) {
  int64_t seen = max_concurrent_streams.load();
  while (open > seen && !max_concurrent_streams.compare_exchange_weak(seen, open)) {
  }
}

void Http2Listener::SslCtxFree::operator()(SSL_CTX* ctx) const { SSL_CTX_free(ctx); }

Http2Listener::Http2Listener(Handler handler, size_t max_connections)
    : handler_(std::move(handler)), max_connections_(max_connections), connections_(max_connections) {}

Http2Listener::~Http2Listener() {
  if (acceptor_.joinable()) {
    uint64_t one = 1;
    ssize_t n = ::write(stop_fd_.get(), &one, sizeof one);  // never read: every loop sees it
    (void)n;
    acceptor_.join();
  }
  connections_.join_all();
}

Status Http2Listener::start(const ListenAddress& address, const TlsFiles& tls, const std::string& option) {
  if (!tls.cert.empty()) {
    if (auto err = readable(tls.cert, "--tls-cert")) return err;
    if (auto err = readable(tls.key, "--tls-key")) return err;
    ERR_clear_error();
    tls_.reset(SSL_CTX_new(TLS_server_method()));
    if (!tls_) return runtime_error("TLS: " + openssl_errors());
    SSL_CTX* ctx = tls_.get();
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);  // HTTP/2 requires TLS 1.2 or later (RFC 9113, 9.2)
    SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
    // Writes come from a buffer that grows and moves (Connection::out_).
    SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    if (SSL_CTX_use_certificate_chain_file(ctx, tls.cert.c_str()) != 1)
      return usage_error("--tls-cert " + tls.cert + ": not a PEM certificate (" + openssl_errors() + ")");
    if (SSL_CTX_use_PrivateKey_file(ctx, tls.key.c_str(), SSL_FILETYPE_PEM) != 1 || SSL_CTX_check_private_key(ctx) != 1) {
      // Loading the key already compares it with the certificate.
      unsigned long e = ERR_peek_last_error();
      if (ERR_GET_LIB(e) == ERR_LIB_X509 && ERR_GET_REASON(e) == X509_R_KEY_VALUES_MISMATCH) {
        ERR_clear_error();
        return usage_error("--tls-key " + tls.key + ": not the private key of --tls-cert " + tls.cert);
      }
      return usage_error("--tls-key " + tls.key + ": not a PEM private key (" + openssl_errors() + ")");
    }
    SSL_CTX_set_alpn_select_cb(ctx, select_h2, nullptr);
  }
  auto fd = listen_on(address, option);
  if (!fd) return fd.error();
  listen_fd_ = std::move(*fd);
  stop_fd_ = UniqueFd(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
  if (!stop_fd_) return runtime_error(std::string("eventfd: ") + std::strerror(errno));
  host_ = address.host;
  port_ = bound_port(listen_fd_.get());
  acceptor_ = std::thread([this] { accept_loop(); });
  return {};
}

std::string Http2Listener::base_url() const { return (tls_ ? "https://" : "http://") + host_port(host_, port_); }

Http2Stats Http2Listener::stats() const {
  return Http2Stats{counters_.connections.load(), counters_.streams.load(), counters_.max_concurrent_streams.load()};
}

void Http2Listener::accept_loop() {
  block_sigpipe();
  for (;;) {
    std::array<pollfd, 2> fds{{{listen_fd_.get(), POLLIN, 0}, {stop_fd_.get(), POLLIN, 0}}};
    if (::poll(fds.data(), fds.size(), -1) < 0) {
      if (errno == EINTR) continue;
      spdlog::error("HTTP/2 listener: poll: {}", std::strerror(errno));
      return;
    }
    if (fds[1].revents) return;
    UniqueFd socket(::accept4(listen_fd_.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC));
    if (!socket) {
      if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
        // The connection stays pending and poll() says so again at once:
        // pause rather than spin (or until the listener stops).
        spdlog::warn("HTTP/2 listener: accept: {}", std::strerror(errno));
        pollfd stop{stop_fd_.get(), POLLIN, 0};
        ::poll(&stop, 1, 100);
      }
      continue;
    }
    try {
      auto connection = std::make_shared<Connection>(std::move(socket), tls_.get(), handler_, counters_, stop_fd_.get());
      if (!connections_.start([connection] { connection->run(); }))
        spdlog::warn("HTTP/2 listener: {} connections are open already; closed a new one", max_connections_);
    } catch (const std::exception& e) {  // no thread or no memory for one more: that connection is closed
      spdlog::error("HTTP/2 listener: {}", e.what());
    }
  }
}

}  // namespace kapture
