#include "drivers/http/PlainHttpClient.h"

#include <http_parser.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <optional>
#include <string_view>

namespace kapture {

namespace {

constexpr size_t kMaxKeptBody = 1 << 20;  // what a Lua check sees of a body at most (as CurlHttpClient)
constexpr size_t kReadSize = 64 * 1024;
constexpr int kMaxEvents = 256;
constexpr std::string_view kScheme = "http://";

struct ParsedUrl {
  std::string host, port, authority;
  size_t path_at = 0;  // where the path (or query) starts; url.size() if none
};

// http://host[:port][/path][?query][#fragment]; no user info, no IPv6 zone.
std::optional<ParsedUrl> parse_url(std::string_view url) {
  if (url.substr(0, kScheme.size()) != kScheme) return std::nullopt;
  size_t end = url.find_first_of("/?#", kScheme.size());
  if (end == std::string_view::npos) end = url.size();
  std::string_view authority = url.substr(kScheme.size(), end - kScheme.size());
  if (authority.empty() || authority.find('@') != std::string_view::npos) return std::nullopt;
  ParsedUrl u;
  u.authority = authority;
  u.path_at = end;
  std::string_view host = authority, port;
  if (authority.front() == '[') {
    size_t close = authority.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    host = authority.substr(1, close - 1);
    std::string_view rest = authority.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return std::nullopt;
      port = rest.substr(1);
    }
  } else if (size_t colon = authority.rfind(':'); colon != std::string_view::npos) {
    host = authority.substr(0, colon);
    port = authority.substr(colon + 1);
  } else {
    port = "80";
  }
  if (host.empty() || port.empty() || port.size() > 5 ||
      !std::all_of(port.begin(), port.end(), [](unsigned char c) { return std::isdigit(c); }) || std::stoi(std::string(port)) > 65535)
    return std::nullopt;
  u.host = host;
  u.port = port;
  return u;
}

bool starts_with_nocase(const std::string& s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(s[i])) != prefix[i]) return false;
  return true;
}

}  // namespace

struct PlainHttpClient::Address {
  sockaddr_storage addr{};
  socklen_t len = 0;
  int family = AF_INET;
};

// One connection slot: open or not, at most one request on it.
struct PlainHttpClient::Conn {
  enum class State { Closed, Connecting, Idle, Busy };
  State state = State::Closed;
  UniqueFd fd;
  size_t addr = 0;            // index in addrs_ it connects to
  bool watching_out = false;  // EPOLLOUT in its epoll interest
  bool reused = false;        // served a request before the current one
  bool keep_bodies = false;
  const http_parser_settings* settings = nullptr;
  http_parser parser{};

  // The current request and what its response made of it so far.
  Pending cur;
  std::string out;  // the request as written; its capacity is kept
  size_t out_off = 0;
  bool head = false;
  bool complete = false;
  bool keep_alive = false;
  long status = 0;
  int64_t sent_us = 0, bytes_in = 0, bytes_out = 0;
  long new_connections = 0;
  std::map<std::string, std::string> headers;  // keep_bodies only
  std::string body;                            // keep_bodies only
  std::string field, value;                    // the header being parsed
  bool in_value = false;

  static Conn& of(http_parser* p) { return *static_cast<Conn*>(p->data); }

  void commit_header() {
    std::transform(field.begin(), field.end(), field.begin(), [](unsigned char c) { return std::tolower(c); });
    while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.pop_back();
    headers[field] = value;
    field.clear();
    value.clear();
    in_value = false;
  }

  // http_parser callbacks. Headers and body are collected only for a Lua
  // check (keep_bodies): the lean settings leave those callbacks out.
  static int on_message_begin(http_parser* p) {
    Conn& c = of(p);
    c.headers.clear();  // also after a 1xx response: the final one's count
    c.body.clear();
    c.field.clear();
    c.value.clear();
    c.in_value = false;
    return 0;
  }
  static int on_header_field(http_parser* p, const char* at, size_t n) {
    Conn& c = of(p);
    if (c.in_value) c.commit_header();
    c.field.append(at, n);
    return 0;
  }
  static int on_header_value(http_parser* p, const char* at, size_t n) {
    Conn& c = of(p);
    c.value.append(at, n);
    c.in_value = true;
    return 0;
  }
  static int on_headers_complete(http_parser* p) {
    Conn& c = of(p);
    if (c.keep_bodies && !c.field.empty()) c.commit_header();
    // 1: no body follows, whatever Content-Length says (a HEAD's response).
    return c.head ? 1 : 0;
  }
  static int on_body(http_parser* p, const char* at, size_t n) {
    Conn& c = of(p);
    if (c.body.size() < kMaxKeptBody) c.body.append(at, std::min(n, kMaxKeptBody - c.body.size()));
    return 0;
  }
  static int on_message_complete(http_parser* p) {
    Conn& c = of(p);
    // 100 Continue, 103 Early Hints: the final response follows.
    if (p->status_code >= 100 && p->status_code < 200 && p->status_code != 101) return 0;
    c.complete = true;
    c.status = p->status_code;
    c.keep_alive = http_should_keep_alive(p) != 0;
    // Anything after it is no answer to a request of ours: stop here.
    http_parser_pause(p, 1);
    return 0;
  }
};

bool PlainHttpClient::serves(const std::string& url) { return parse_url(url).has_value(); }

PlainHttpClient::PlainHttpClient(const HttpClientOptions& opts) : opts_(opts) {}

PlainHttpClient::~PlainHttpClient() = default;

Result<std::unique_ptr<PlainHttpClient>> PlainHttpClient::create(const HttpClientOptions& opts) {
  auto url = parse_url(opts.url);
  if (!url) return runtime_error("not a plain http:// URL: " + opts.url);
  std::unique_ptr<PlainHttpClient> c(new PlainHttpClient(opts));
  c->origin_ = std::string(kScheme) + url->authority;
  c->host_header_ = "Host: " + url->authority + "\r\n";
  c->host_ = url->host;
  c->port_ = url->port;
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (int rc = getaddrinfo(url->host.c_str(), url->port.c_str(), &hints, &found); rc != 0)
    return runtime_error("cannot resolve " + url->host + ": " + gai_strerror(rc));
  for (addrinfo* a = found; a; a = a->ai_next) {
    Address addr;
    std::memcpy(&addr.addr, a->ai_addr, a->ai_addrlen);
    addr.len = a->ai_addrlen;
    addr.family = a->ai_family;
    c->addrs_.push_back(addr);
  }
  freeaddrinfo(found);
  if (c->addrs_.empty()) return runtime_error("no address for " + url->host);
  c->epoll_ = UniqueFd(epoll_create1(EPOLL_CLOEXEC));
  if (!c->epoll_) return runtime_error(std::string("epoll_create1: ") + std::strerror(errno));

  static const http_parser_settings lean = [] {
    http_parser_settings s;
    http_parser_settings_init(&s);
    s.on_headers_complete = &Conn::on_headers_complete;
    s.on_message_complete = &Conn::on_message_complete;
    return s;
  }();
  static const http_parser_settings keep = [] {
    http_parser_settings s = lean;
    s.on_message_begin = &Conn::on_message_begin;
    s.on_header_field = &Conn::on_header_field;
    s.on_header_value = &Conn::on_header_value;
    s.on_body = &Conn::on_body;
    return s;
  }();
  const int n = std::max(1, opts.connections);
  for (int i = 0; i < n; ++i) {
    auto conn = std::make_unique<Conn>();
    conn->keep_bodies = opts.keep_bodies;
    conn->settings = opts.keep_bodies ? &keep : &lean;
    c->conns_.push_back(std::move(conn));
  }
  // Slot 0 opens first (closed_ is taken from the back).
  for (int i = n - 1; i >= 0; --i) c->closed_.push_back(c->conns_[i].get());
  c->read_buf_.resize(kReadSize);
  return c;
}

Status PlainHttpClient::submit(HttpRequest req) {
  Pending p;
  const std::string& url = req.url;
  bool ours = url.size() >= origin_.size() && url.compare(0, origin_.size(), origin_) == 0 &&
              (url.size() == origin_.size() || url[origin_.size()] == '/' || url[origin_.size()] == '?' || url[origin_.size()] == '#');
  p.path_at = ours ? origin_.size() : std::string::npos;  // not ours: refused at the next poll
  p.req = std::move(req);
  queue_.push_back(std::move(p));
  return std::nullopt;
}

void PlainHttpClient::dispatch(int64_t now, const Completion& done) {
  while (!queue_.empty()) {
    if (queue_.front().path_at == std::string::npos) {
      Pending p = std::move(queue_.front());
      queue_.pop_front();
      report_unsent(p, HttpResult::Outcome::Error, "the plain http client serves one origin (" + origin_ + "), not " + p.req.url, now, done);
      continue;
    }
    if (!idle_.empty()) {
      Conn& c = *idle_.back();
      idle_.pop_back();
      assign(c, std::move(queue_.front()));
      queue_.pop_front();
      c.state = Conn::State::Busy;
      write_out(c, now, done);
    } else if (!closed_.empty()) {
      Conn& c = *closed_.back();
      closed_.pop_back();
      Pending p = std::move(queue_.front());
      queue_.pop_front();
      open(c, std::move(p), now, done);
    } else {
      break;  // every connection busy: the rest wait their turn
    }
  }
}

// Puts a request on a connection: the request's bytes, a fresh parser.
void PlainHttpClient::assign(Conn& c, Pending&& p) {
  c.cur = std::move(p);
  const HttpRequest& r = c.cur.req;
  std::string& o = c.out;
  o.clear();
  c.out_off = 0;
  o += r.method;
  o += ' ';
  size_t path_at = c.cur.path_at;
  size_t path_end = std::min(r.url.find('#', path_at), r.url.size());
  if (path_at == path_end || r.url[path_at] == '?') o += '/';
  o.append(r.url, path_at, path_end - path_at);
  o += " HTTP/1.1\r\n";
  // Host and Accept as libcurl sends them, unless the request has its own.
  bool has_host = false, has_accept = false;
  for (const auto& h : r.headers) {
    has_host = has_host || starts_with_nocase(h, "host:");
    has_accept = has_accept || starts_with_nocase(h, "accept:");
  }
  if (!has_host) o += host_header_;
  if (!has_accept) o += "Accept: */*\r\n";
  for (const auto& h : r.headers) {
    o += h;
    o += "\r\n";
  }
  // As libcurl: a body, or a method that carries one, says how long it is.
  if (!r.body.empty() || r.method == "POST" || r.method == "PUT" || r.method == "PATCH") {
    o += "Content-Length: ";
    o += std::to_string(r.body.size());
    o += "\r\n";
  }
  o += "\r\n";
  o += r.body;

  http_parser_init(&c.parser, HTTP_RESPONSE);
  c.parser.data = &c;
  c.head = r.method == "HEAD";
  c.complete = c.keep_alive = false;
  c.status = 0;
  c.sent_us = c.bytes_in = c.bytes_out = 0;
  c.new_connections = 0;
  if (c.keep_bodies) Conn::on_message_begin(&c.parser);
  ++busy_;
}

void PlainHttpClient::open(Conn& c, Pending&& p, int64_t now, const Completion& done) {
  const Address& a = addrs_[addr_];
  UniqueFd fd(::socket(a.family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd) {
    closed_.push_back(&c);
    report_unsent(p, HttpResult::Outcome::ConnectError, std::string("socket: ") + std::strerror(errno), now, done);
    return;
  }
  int one = 1;
  setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);  // a request goes out whole, at once
  if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&a.addr), a.len) != 0 && errno != EINPROGRESS) {
    int err = errno;
    closed_.push_back(&c);
    connect_failed(std::move(p), err, now, done);
    return;
  }
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLOUT;  // writable: connected (or failed)
  ev.data.ptr = &c;
  if (epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, fd.get(), &ev) != 0) {
    closed_.push_back(&c);
    report_unsent(p, HttpResult::Outcome::Error, std::string("epoll_ctl: ") + std::strerror(errno), now, done);
    return;
  }
  c.fd = std::move(fd);
  c.addr = addr_;
  c.watching_out = true;
  c.reused = false;
  c.state = Conn::State::Connecting;
  assign(c, std::move(p));
}

void PlainHttpClient::connect_failed(Pending&& p, int err, int64_t now, const Completion& done) {
  // Another address of the host (localhost: ::1 and 127.0.0.1) may listen.
  if (p.addr_tries + 1 < addrs_.size()) {
    ++p.addr_tries;
    addr_ = (addr_ + 1) % addrs_.size();
    queue_.push_front(std::move(p));
    return;
  }
  report_unsent(p, HttpResult::Outcome::ConnectError, "Failed to connect to " + host_ + " port " + port_ + ": " + std::strerror(err), now, done);
}

void PlainHttpClient::connected(Conn& c, int64_t now, const Completion& done) {
  int err = 0;
  socklen_t len = sizeof err;
  if (getsockopt(c.fd.get(), SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
  if (err != 0) {
    Pending p = std::move(c.cur);
    --busy_;
    close(c);
    connect_failed(std::move(p), err, now, done);
    return;
  }
  addr_ = c.addr;  // this one works: the next connections go there too
  c.state = Conn::State::Busy;
  c.new_connections = 1;
  write_out(c, now, done);
}

void PlainHttpClient::watch(Conn& c, bool out) {
  if (c.watching_out == out) return;
  epoll_event ev{};
  ev.events = EPOLLIN | (out ? EPOLLOUT : 0u);
  ev.data.ptr = &c;
  epoll_ctl(epoll_.get(), EPOLL_CTL_MOD, c.fd.get(), &ev);
  c.watching_out = out;
}

void PlainHttpClient::write_out(Conn& c, int64_t now, const Completion& done) {
  while (c.out_off < c.out.size()) {
    ssize_t n = ::send(c.fd.get(), c.out.data() + c.out_off, c.out.size() - c.out_off, MSG_NOSIGNAL);
    if (n > 0) {
      if (c.out_off == 0) c.sent_us = now;
      c.out_off += static_cast<size_t>(n);
      c.bytes_out += n;
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      watch(c, true);  // the rest when the socket takes it
      return;
    }
    on_eof(c, std::string("Send failure: ") + std::strerror(errno), now, done);
    return;
  }
  watch(c, false);
}

void PlainHttpClient::read_in(Conn& c, int64_t now, const Completion& done) {
  for (;;) {
    ssize_t n = ::recv(c.fd.get(), read_buf_.data(), read_buf_.size(), 0);
    if (n > 0) {
      if (c.state != Conn::State::Busy) {
        close(c);  // bytes nobody asked for: the connection is out of step
        return;
      }
      c.bytes_in += n;
      size_t used = http_parser_execute(&c.parser, c.settings, read_buf_.data(), static_cast<size_t>(n));
      if (c.complete) {
        if (used < static_cast<size_t>(n)) c.keep_alive = false;  // more than one response
        finish(c, now, done);
        return;
      }
      if (HTTP_PARSER_ERRNO(&c.parser) != HPE_OK) {
        fail(c, HttpResult::Outcome::Error,
             std::string("invalid HTTP response: ") + http_errno_description(HTTP_PARSER_ERRNO(&c.parser)), now, done);
        return;
      }
      if (static_cast<size_t>(n) < read_buf_.size()) return;  // drained (epoll reports more)
      continue;
    }
    if (n == 0) {
      on_eof(c, "", now, done);
      return;
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return;
    on_eof(c, std::string("Recv failure: ") + std::strerror(errno), now, done);
    return;
  }
}

// The connection ended (EOF, or `why` for a reset or failed send).
void PlainHttpClient::on_eof(Conn& c, const std::string& why, int64_t now, const Completion& done) {
  if (c.state == Conn::State::Idle) {
    close(c);  // the server closed a keep-alive connection: fine
    return;
  }
  if (why.empty()) {
    // A body without a length ends with the connection.
    http_parser_execute(&c.parser, c.settings, nullptr, 0);
    if (c.complete) {
      c.keep_alive = false;
      finish(c, now, done);
      return;
    }
  }
  if (c.bytes_in == 0 && c.reused && !c.cur.retried) {
    // The server closed it while idle and we wrote before seeing that: once
    // more on a new connection (dispatched at the end of this poll).
    Pending p = std::move(c.cur);
    p.retried = true;
    --busy_;
    close(c);
    queue_.push_front(std::move(p));
    return;
  }
  if (!why.empty()) fail(c, HttpResult::Outcome::Error, why, now, done);
  else if (c.bytes_in == 0) fail(c, HttpResult::Outcome::Error, "Empty reply from server", now, done);
  else fail(c, HttpResult::Outcome::Error, "Connection closed before the response ended", now, done);
}

// What a connection's current request came to, outcome aside.
HttpResult PlainHttpClient::result_of(const Conn& c, HttpResult::Outcome outcome, int64_t now) {
  HttpResult r;
  r.outcome = outcome;
  r.tag = c.cur.req.tag;
  r.intended_us = c.cur.req.intended_us;
  r.sent_us = c.sent_us ? c.sent_us : c.cur.req.submitted_us;
  r.done_us = now;
  r.bytes_in = c.bytes_in;
  r.bytes_out = c.bytes_out;
  r.new_connections = c.new_connections;
  return r;
}

void PlainHttpClient::finish(Conn& c, int64_t now, const Completion& done) {
  HttpResult r = result_of(c, HttpResult::Outcome::Response, now);
  r.status = c.status;
  if (c.keep_bodies) {
    r.headers = std::move(c.headers);
    r.body = std::move(c.body);
  }
  --busy_;
  // Reusable only if the whole request went out and the server keeps it.
  if (c.keep_alive && c.out_off == c.out.size()) {
    c.state = Conn::State::Idle;
    c.reused = true;
    idle_.push_back(&c);
  } else {
    close(c);
  }
  done(r);
}

void PlainHttpClient::fail(Conn& c, HttpResult::Outcome outcome, std::string error, int64_t now, const Completion& done) {
  HttpResult r = result_of(c, outcome, now);
  r.error = std::move(error);
  --busy_;
  close(c);
  done(r);
}

void PlainHttpClient::report_unsent(Pending& p, HttpResult::Outcome outcome, std::string error, int64_t now, const Completion& done) {
  HttpResult r;
  r.outcome = outcome;
  r.tag = p.req.tag;
  r.intended_us = p.req.intended_us;
  r.sent_us = p.req.submitted_us;
  r.done_us = now;
  r.error = std::move(error);
  done(r);
}

void PlainHttpClient::close(Conn& c) {
  if (c.state == Conn::State::Closed) return;
  if (c.state == Conn::State::Idle) idle_.erase(std::find(idle_.begin(), idle_.end(), &c));
  c.fd.reset();  // closing the socket also takes it out of the epoll set
  c.state = Conn::State::Closed;
  c.watching_out = false;
  closed_.push_back(&c);
}

std::string PlainHttpClient::timeout_message(int64_t since_us, int64_t now) const {
  return "Operation timed out after " + std::to_string((now - since_us) / 1000) + " milliseconds";
}

// Requests out of their time (opts.timeout_us from submission, as
// CURLOPT_TIMEOUT_MS): on a connection, which then closes, or still queued.
void PlainHttpClient::expire(int64_t now, const Completion& done) {
  for (auto& cp : conns_) {
    Conn& c = *cp;
    if ((c.state == Conn::State::Busy || c.state == Conn::State::Connecting) && now - c.cur.req.submitted_us >= opts_.timeout_us)
      fail(c, HttpResult::Outcome::Timeout, timeout_message(c.cur.req.submitted_us, now), now, done);
  }
  // Oldest first (a retry goes back to the front, older still).
  while (!queue_.empty() && now - queue_.front().req.submitted_us >= opts_.timeout_us) {
    Pending p = std::move(queue_.front());
    queue_.pop_front();
    report_unsent(p, HttpResult::Outcome::Timeout, timeout_message(p.req.submitted_us, now), now, done);
  }
}

void PlainHttpClient::poll(int timeout_ms, const std::function<int64_t()>& now_us, const Completion& done) {
  // Requests submitted since the last poll go out before the wait.
  if (!queue_.empty()) dispatch(now_us(), done);
  epoll_event events[kMaxEvents];
  int n = epoll_wait(epoll_.get(), events, kMaxEvents, std::max(0, timeout_ms));
  const int64_t now = now_us();
  for (int i = 0; i < n; ++i) {
    Conn& c = *static_cast<Conn*>(events[i].data.ptr);
    const uint32_t ev = events[i].events;
    // A slot closed earlier in this batch is not reopened before its end,
    // so its stale event finds it Closed.
    if (c.state == Conn::State::Connecting) {
      if (ev & (EPOLLOUT | EPOLLERR | EPOLLHUP)) connected(c, now, done);
      continue;
    }
    if ((ev & EPOLLOUT) && c.state == Conn::State::Busy && c.out_off < c.out.size()) write_out(c, now, done);
    if ((ev & (EPOLLIN | EPOLLERR | EPOLLHUP)) && (c.state == Conn::State::Busy || c.state == Conn::State::Idle)) read_in(c, now, done);
  }
  expire(now, done);
  // Retries, and requests for the connections that came free.
  if (!queue_.empty()) dispatch(now, done);
}

void PlainHttpClient::abort_all(const std::function<int64_t()>& now_us, const Completion& done) {
  const int64_t now = now_us();
  const std::string why = "aborted: still unanswered when the drain ended";
  for (auto& cp : conns_) {
    Conn& c = *cp;
    if (c.state == Conn::State::Busy || c.state == Conn::State::Connecting) fail(c, HttpResult::Outcome::Error, why, now, done);
  }
  while (!queue_.empty()) {
    Pending p = std::move(queue_.front());
    queue_.pop_front();
    report_unsent(p, HttpResult::Outcome::Error, why, now, done);
  }
}

}  // namespace kapture
