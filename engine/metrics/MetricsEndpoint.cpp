#include "metrics/MetricsEndpoint.h"

#include <httplib.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>

#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstring>

#include "metrics/PrometheusExposition.h"

namespace kapture {

namespace {

// What Prometheus' own clients send for the text format.
constexpr const char* kContentType = "text/plain; version=0.0.4; charset=utf-8";

std::string host_port(const std::string& host, int port) {
  bool v6 = host.find(':') != std::string::npos;
  return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

}  // namespace

Result<ListenAddress> parse_listen_address(const std::string& text) {
  auto bad = [&](const std::string& why) {
    return usage_error("--metrics-addr '" + text + "': " + why + " (use HOST:PORT, e.g. 127.0.0.1:9464, or :9464 for every interface)");
  };
  size_t colon = text.rfind(':');
  if (colon == std::string::npos) return bad("no port");
  ListenAddress a;
  a.host = text.substr(0, colon);
  if (a.host.size() >= 2 && a.host.front() == '[' && a.host.back() == ']') a.host = a.host.substr(1, a.host.size() - 2);
  else if (a.host.find(':') != std::string::npos) return bad("an IPv6 address needs brackets");
  if (a.host.empty()) a.host = "0.0.0.0";
  std::string port = text.substr(colon + 1);
  auto r = std::from_chars(port.data(), port.data() + port.size(), a.port);
  if (port.empty() || r.ec != std::errc() || r.ptr != port.data() + port.size() || a.port < 0 || a.port > 65535)
    return bad("bad port '" + port + "'");
  return a;
}

Result<std::unique_ptr<MetricsEndpoint>> MetricsEndpoint::start(const std::string& address, const MetricsStore& store,
                                                                const LiveStatus& live) {
  auto a = parse_listen_address(address);
  if (!a) return a.error();
  std::unique_ptr<MetricsEndpoint> e(new MetricsEndpoint(*a, store, live));
  if (e->port_ <= 0) {
    // httplib does not say why; a failed bind or listen left errno, a host
    // that does not resolve did not.
    std::string why = e->bind_errno_ ? std::strerror(e->bind_errno_) : "not a local address";
    return usage_error("--metrics-addr " + address + ": cannot listen on " + host_port(a->host, a->port) + ": " + why);
  }
  return e;
}

MetricsEndpoint::MetricsEndpoint(ListenAddress address, const MetricsStore& store, const LiveStatus& live)
    : server_(std::make_unique<httplib::Server>()), host_(address.host) {
  auto& s = *server_;
  // Two workers: Prometheus and a curl now and then. Short keep-alive and
  // read timeouts, because stopping waits for the workers' open connections.
  s.new_task_queue = [] { return new httplib::ThreadPool(2); };
  s.set_keep_alive_timeout(1);
  s.set_read_timeout(2);
  // httplib's default adds SO_REUSEPORT, which lets a second engine bind the
  // same port and silently take half the scrapes; SO_REUSEADDR alone still
  // allows a restart while old connections linger in TIME_WAIT.
  s.set_socket_options([](int sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  });
  s.Get("/metrics", [&store, &live](const httplib::Request&, httplib::Response& res) {
    res.set_content(prometheus_exposition(store, live.get()), kContentType);
  });
  s.Get("/", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("kapture-engine: Prometheus metrics at /metrics\n", "text/plain; charset=utf-8");
  });
  errno = 0;
  port_ = address.port == 0 ? s.bind_to_any_port(host_) : (s.bind_to_port(host_, address.port) ? address.port : -1);
  if (port_ <= 0) {
    bind_errno_ = errno;
    return;
  }
  thread_ = std::thread([this] {
    // A scraper that hangs up mid-response must not SIGPIPE the engine: the
    // signal is blocked here and in the workers (they inherit this mask),
    // so the write fails with EPIPE instead. Per thread, unlike SIG_IGN,
    // so children the engine starts keep the default.
    sigset_t pipe;
    sigemptyset(&pipe);
    sigaddset(&pipe, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe, nullptr);
    server_->listen_after_bind();
    listener_done_ = true;
  });
  // stop() does nothing until the server runs: wait for that, so that a
  // destructor right after construction does not hang.
  while (!server_->is_running() && !listener_done_) std::this_thread::sleep_for(std::chrono::milliseconds(1));
}

MetricsEndpoint::~MetricsEndpoint() {
  if (thread_.joinable()) {
    server_->stop();
    thread_.join();
  }
}

std::string MetricsEndpoint::url() const { return "http://" + host_port(host_, port_) + "/metrics"; }

}  // namespace kapture
