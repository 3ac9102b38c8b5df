#include "drivers/http/HttpListener.h"

#include <httplib.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>

#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstring>

namespace kapture {

std::string host_port(const std::string& host, int port) {
  bool v6 = host.find(':') != std::string::npos;
  return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

Result<ListenAddress> parse_listen_address(const std::string& text, const std::string& option) {
  auto bad = [&](const std::string& why) {
    return usage_error(option + " '" + text + "': " + why + " (use HOST:PORT, e.g. 127.0.0.1:9464, or :9464 for every interface)");
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

HttpListener::HttpListener(int workers) : server_(std::make_unique<httplib::Server>()) {
  auto& s = *server_;
  s.new_task_queue = [workers] { return new httplib::ThreadPool(static_cast<size_t>(workers)); };
  // Short keep-alive and read timeouts: stopping waits for the workers' open
  // connections.
  s.set_keep_alive_timeout(1);
  s.set_read_timeout(2);
  // httplib closes a keep-alive connection after 5 requests by default: a
  // load test would measure reconnects, not the server.
  s.set_keep_alive_max_count(1000000);
  // httplib writes headers and body in two writes: without TCP_NODELAY the
  // body waits for the client's delayed ACK (40 ms on Linux) every response.
  s.set_tcp_nodelay(true);
  // httplib's default adds SO_REUSEPORT, which lets a second process bind
  // the same port and silently take half the requests; SO_REUSEADDR alone
  // still allows a restart while old connections linger in TIME_WAIT.
  s.set_socket_options([](int sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  });
}

Status HttpListener::start(const ListenAddress& address, const std::string& option) {
  host_ = address.host;
  errno = 0;
  auto& s = *server_;
  port_ = address.port == 0 ? s.bind_to_any_port(host_) : (s.bind_to_port(host_, address.port) ? address.port : -1);
  if (port_ <= 0) {
    // httplib does not say why; a failed bind or listen left errno, a host
    // that does not resolve did not.
    std::string why = errno ? std::strerror(errno) : "not a local address";
    return usage_error(option + " " + host_port(address.host, address.port) + ": cannot listen on " +
                       host_port(address.host, address.port) + ": " + why);
  }
  thread_ = std::thread([this] {
    // A client that hangs up mid-response must not SIGPIPE the engine: the
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
  // destructor right after start does not hang.
  while (!server_->is_running() && !listener_done_) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  return {};
}

HttpListener::~HttpListener() {
  if (thread_.joinable()) {
    server_->stop();
    thread_.join();
  }
}

}  // namespace kapture
