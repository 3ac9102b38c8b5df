// PlainHttpClient against a tiny HTTP/1.1 server on a thread of this
// process: canned responses for each path (Content-Length, chunked,
// Connection: close, HEAD, 204, an idle connection the server closes, a
// request never answered), and a closed port.
#include <doctest/doctest.h>

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "drivers/http/PlainHttpClient.h"

using namespace kapture;

namespace {

int64_t now_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// One thread accepting, one per connection answering its requests.
class TinyServer {
 public:
  TinyServer() {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(listen_fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    REQUIRE(::listen(listen_fd_, 64) == 0);
    socklen_t len = sizeof a;
    ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    acceptor_ = std::thread([this] { accept_loop(); });
  }
  ~TinyServer() {
    ::shutdown(listen_fd_, SHUT_RDWR);  // wakes accept()
    acceptor_.join();
    {
      std::lock_guard lock(mu_);
      for (int fd : open_) ::shutdown(fd, SHUT_RDWR);  // wakes the readers
    }
    for (auto& t : conns_) t.join();
    ::close(listen_fd_);
  }
  int port() const { return port_; }
  std::string url(const std::string& path) const { return "http://127.0.0.1:" + std::to_string(port_) + path; }
  int connections() const { return accepted_.load(); }

 private:
  void accept_loop() {
    for (;;) {
      int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) return;
      ++accepted_;
      std::lock_guard lock(mu_);
      open_.push_back(fd);
      conns_.emplace_back([this, fd] { serve(fd); });
    }
  }

  // Answers requests on one connection until it or the client closes.
  void serve(int fd) {
    std::string in;
    char buf[4096];
    for (;;) {
      size_t end = in.find("\r\n\r\n");
      if (end == std::string::npos) {
        ssize_t n = ::recv(fd, buf, sizeof buf, 0);
        if (n <= 0) break;
        in.append(buf, static_cast<size_t>(n));
        continue;
      }
      std::string head = in.substr(0, end + 4);
      size_t body_len = 0;
      if (size_t cl = head.find("Content-Length: "); cl != std::string::npos) body_len = std::stoul(head.substr(cl + 16));
      while (in.size() < end + 4 + body_len) {
        ssize_t n = ::recv(fd, buf, sizeof buf, 0);
        if (n <= 0) break;
        in.append(buf, static_cast<size_t>(n));
      }
      std::string body = in.substr(end + 4, body_len);
      in.erase(0, end + 4 + body_len);
      std::string method = head.substr(0, head.find(' '));
      std::string path = head.substr(method.size() + 1, head.find(' ', method.size() + 1) - method.size() - 1);
      bool close_after = false;
      std::string out;
      if (path == "/cl") {
        out = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-Test: Yes \r\n\r\n";
        if (method != "HEAD") out += "hello";
      } else if (path == "/chunked") {
        out = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n";
      } else if (path == "/close") {
        // No length: the body ends with the connection.
        out = "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nbye";
        close_after = true;
      } else if (path == "/204") {
        out = "HTTP/1.1 204 No Content\r\n\r\n";
      } else if (path == "/continue") {
        out = "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok";
      } else if (path == "/echo") {
        out = "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(body.size()) + "\r\nX-Host: " +
              head.substr(head.find("Host: ") + 6, head.find("\r\n", head.find("Host: ")) - head.find("Host: ") - 6) + "\r\n\r\n" + body;
      } else if (path == "/then-close") {
        // Keep-alive by its headers, then closed while idle.
        out = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
        close_after = true;
      } else if (path == "/never") {
        continue;  // never answered
      } else {
        out = "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n";
      }
      ::send(fd, out.data(), out.size(), MSG_NOSIGNAL);
      if (close_after) break;
    }
    std::lock_guard lock(mu_);
    std::erase(open_, fd);
    ::close(fd);
  }

  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<int> accepted_{0};
  std::thread acceptor_;
  std::mutex mu_;
  std::vector<int> open_;
  std::vector<std::thread> conns_;
};

std::unique_ptr<PlainHttpClient> client_for(const std::string& url, int connections = 1, bool keep = true, int64_t timeout_us = 2000000) {
  HttpClientOptions o;
  o.url = url;
  o.connections = connections;
  o.keep_bodies = keep;
  o.timeout_us = timeout_us;
  auto c = PlainHttpClient::create(o);
  REQUIRE(c);
  return std::move(*c);
}

// Submits `req` and polls until its result.
HttpResult run_one(HttpClient& c, HttpRequest req) {
  req.submitted_us = now_us();
  req.intended_us = req.submitted_us;
  REQUIRE_FALSE(c.submit(std::move(req)));
  std::vector<HttpResult> got;
  const std::function<int64_t()> clock = now_us;
  const HttpClient::Completion done = [&](const HttpResult& r) { got.push_back(r); };
  int64_t deadline = now_us() + 5000000;
  while (got.empty() && now_us() < deadline) c.poll(10, clock, done);
  REQUIRE(got.size() == 1);
  CHECK(c.in_flight() == 0);
  return got[0];
}

HttpRequest get(const std::string& url, const std::string& method = "GET") {
  HttpRequest r;
  r.method = method;
  r.url = url;
  return r;
}

}  // namespace

TEST_CASE("plain http client: which URLs it serves") {
  CHECK(PlainHttpClient::serves("http://127.0.0.1:8080/x?y=1"));
  CHECK(PlainHttpClient::serves("http://localhost"));
  CHECK(PlainHttpClient::serves("http://[::1]:80/"));
  CHECK_FALSE(PlainHttpClient::serves("https://127.0.0.1/"));
  CHECK_FALSE(PlainHttpClient::serves("http://user@host/"));
  CHECK_FALSE(PlainHttpClient::serves("http://host:99999/"));
  CHECK_FALSE(PlainHttpClient::serves(""));
}

TEST_CASE("plain http client: responses of every framing") {
  TinyServer s;
  auto c = client_for(s.url("/"));

  HttpResult r = run_one(*c, get(s.url("/cl")));
  CHECK(r.outcome == HttpResult::Outcome::Response);
  CHECK(r.status == 200);
  CHECK(r.body == "hello");
  CHECK(r.headers["x-test"] == "Yes");
  CHECK(r.headers["content-length"] == "5");
  CHECK(r.new_connections == 1);
  CHECK(r.bytes_out == static_cast<int64_t>(std::string("GET /cl HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(s.port()) + "\r\nAccept: */*\r\n\r\n").size()));
  CHECK(r.bytes_in == static_cast<int64_t>(std::string("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-Test: Yes \r\n\r\nhello").size()));
  CHECK(r.sent_us >= r.intended_us);
  CHECK(r.done_us >= r.sent_us);

  r = run_one(*c, get(s.url("/chunked")));
  CHECK(r.status == 200);
  CHECK(r.body == "hello world");
  CHECK(r.new_connections == 0);  // the same keep-alive connection

  r = run_one(*c, get(s.url("/cl"), "HEAD"));
  CHECK(r.outcome == HttpResult::Outcome::Response);
  CHECK(r.status == 200);
  CHECK(r.body.empty());

  r = run_one(*c, get(s.url("/204")));
  CHECK(r.status == 204);
  CHECK(r.new_connections == 0);

  r = run_one(*c, get(s.url("/continue")));
  CHECK(r.status == 201);
  CHECK(r.body == "ok");

  r = run_one(*c, get(s.url("/missing")));
  CHECK(r.outcome == HttpResult::Outcome::Response);
  CHECK(r.status == 404);

  HttpRequest post = get(s.url("/echo"), "POST");
  post.body = "{\"a\":1}";
  post.headers = {"Content-Type: application/json"};
  r = run_one(*c, post);
  CHECK(r.status == 200);
  CHECK(r.body == "{\"a\":1}");
  CHECK(r.headers["x-host"] == "127.0.0.1:" + std::to_string(s.port()));
  CHECK(s.connections() == 1);

  // Connection: close and a body that ends at EOF; the next one reconnects.
  r = run_one(*c, get(s.url("/close")));
  CHECK(r.outcome == HttpResult::Outcome::Response);
  CHECK(r.body == "bye");
  r = run_one(*c, get(s.url("/cl")));
  CHECK(r.body == "hello");
  CHECK(r.new_connections == 1);
  CHECK(s.connections() == 2);
}

TEST_CASE("plain http client: a keep-alive connection closed while idle is retried on a new one") {
  TinyServer s;
  auto c = client_for(s.url("/"));
  HttpResult r = run_one(*c, get(s.url("/then-close")));
  CHECK(r.status == 200);
  // Give the server's FIN time to arrive: the client, not polling, writes
  // the next request on the dead connection first.
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  r = run_one(*c, get(s.url("/cl")));
  CHECK(r.outcome == HttpResult::Outcome::Response);
  CHECK(r.status == 200);
  CHECK(r.body == "hello");
  CHECK(r.new_connections == 1);
  CHECK(s.connections() == 2);
}

TEST_CASE("plain http client: a queue beyond the pool, timeouts, connect errors, abort") {
  TinyServer s;
  SUBCASE("requests beyond the pool wait for a connection, FIFO") {
    auto c = client_for(s.url("/"), 2, false);
    std::vector<int64_t> order;
    const std::function<int64_t()> clock = now_us;
    const HttpClient::Completion done = [&](const HttpResult& r) {
      CHECK(r.status == 200);
      order.push_back(r.tag);
    };
    for (int i = 0; i < 10; ++i) {
      HttpRequest req = get(s.url("/cl"));
      req.tag = i;
      req.submitted_us = now_us();
      REQUIRE_FALSE(c->submit(std::move(req)));
    }
    CHECK(c->in_flight() == 10);
    int64_t deadline = now_us() + 5000000;
    while (c->in_flight() > 0 && now_us() < deadline) c->poll(10, clock, done);
    CHECK(order.size() == 10);
    CHECK(s.connections() == 2);
  }
  SUBCASE("a request never answered times out and its connection closes") {
    auto c = client_for(s.url("/"), 1, false, 200000);
    HttpResult r = run_one(*c, get(s.url("/never")));
    CHECK(r.outcome == HttpResult::Outcome::Timeout);
    CHECK(r.done_us - r.intended_us >= 200000);
    r = run_one(*c, get(s.url("/cl")));
    CHECK(r.status == 200);
    CHECK(r.new_connections == 1);
  }
  SUBCASE("another origin is refused") {
    auto c = client_for(s.url("/"));
    HttpResult r = run_one(*c, get("http://example.invalid/"));
    CHECK(r.outcome == HttpResult::Outcome::Error);
    CHECK(r.error.find("serves one origin") != std::string::npos);
  }
  SUBCASE("abort_all fails what is in flight") {
    auto c = client_for(s.url("/"), 1);
    const std::function<int64_t()> clock = now_us;
    std::vector<HttpResult> got;
    const HttpClient::Completion done = [&](const HttpResult& r) { got.push_back(r); };
    for (int i = 0; i < 3; ++i) {
      HttpRequest req = get(s.url("/never"));
      req.submitted_us = now_us();
      REQUIRE_FALSE(c->submit(std::move(req)));
    }
    c->poll(10, clock, done);
    c->abort_all(clock, done);
    REQUIRE(got.size() == 3);
    for (const auto& r : got) CHECK(r.error == "aborted: still unanswered when the drain ended");
    CHECK(c->in_flight() == 0);
  }
}

TEST_CASE("plain http client: a closed port is a connect error") {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);  // bound, closed: nobody listens there
  std::string port = std::to_string(ntohs(a.sin_port));
  auto c = client_for("http://127.0.0.1:" + port + "/");
  HttpResult r = run_one(*c, get("http://127.0.0.1:" + port + "/"));
  CHECK(r.outcome == HttpResult::Outcome::ConnectError);
  CHECK(r.error == "Failed to connect to 127.0.0.1 port " + port + ": Connection refused");
  CHECK(r.new_connections == 0);
}

TEST_CASE("HttpClient::create picks the plain client for plain http:// only") {
  HttpClientOptions o;
  o.url = "http://127.0.0.1:1/";
  auto plain = HttpClient::create(o);
  REQUIRE(plain);
  CHECK(dynamic_cast<PlainHttpClient*>(plain->get()) != nullptr);
  o.http2 = true;
  auto h2 = HttpClient::create(o);
  REQUIRE(h2);
  CHECK(dynamic_cast<CurlHttpClient*>(h2->get()) != nullptr);
  o.http2 = false;
  o.url = "https://127.0.0.1:1/";
  auto tls = HttpClient::create(o);
  REQUIRE(tls);
  CHECK(dynamic_cast<CurlHttpClient*>(tls->get()) != nullptr);
  o.url.clear();
  auto none = HttpClient::create(o);
  REQUIRE(none);
  CHECK(dynamic_cast<CurlHttpClient*>(none->get()) != nullptr);
}
