#include "targets/RedisServer.h"

#include <hiredis/hiredis.h>
#include <stdlib.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <memory>
#include <thread>

namespace kapture {

namespace {

using Clock = std::chrono::steady_clock;

struct RedisContextFree {
  void operator()(redisContext* c) const { redisFree(c); }
};
struct RedisReplyFree {
  void operator()(redisReply* r) const { freeReplyObject(r); }
};

// True when the server on `port` answers PING with PONG. A server still
// loading its append-only file answers -LOADING instead, which is not ready.
bool answers_ping(int port) {
  timeval timeout{0, 500 * 1000};
  std::unique_ptr<redisContext, RedisContextFree> c(redisConnectWithTimeout("127.0.0.1", port, timeout));
  if (!c || c->err) return false;
  redisSetTimeout(c.get(), timeout);
  std::unique_ptr<redisReply, RedisReplyFree> reply(static_cast<redisReply*>(redisCommand(c.get(), "PING")));
  return reply && reply->type == REDIS_REPLY_STATUS && std::string(reply->str, reply->len) == "PONG";
}

}  // namespace

RedisServer::~RedisServer() { stop(); }

Status RedisServer::start(int ready_timeout_ms) {
  if (process_.running()) return usage_error("internal: redis-server already started at " + url());
  stop();  // the leftovers of a failed start
  auto binary = find_binary("redis-server", {"/usr/bin", "/usr/local/bin", "/usr/sbin"}, "redis-server");
  if (!binary) return binary.error();
  char tmpl[] = "/tmp/kapture-redis.XXXXXX";
  if (!mkdtemp(tmpl))
    return runtime_error(std::string("cannot create a directory for redis-server under /tmp: ") + std::strerror(errno));
  dir_ = tmpl;
  auto port = free_loopback_port();
  if (!port) return port.error();
  port_ = *port;
  std::vector<std::string> argv = {
      *binary, "--port", std::to_string(port_), "--bind", "127.0.0.1", "--dir", dir_,
      // fsync every write before acknowledging it: a SIGKILL loses nothing
      // the client was told succeeded, and restart replays the file.
      "--appendonly", "yes", "--appendfsync", "always", "--save", "", "--daemonize", "no", "--protected-mode", "no"};
  if (auto err = process_.start(std::move(argv), dir_ + "/server.log")) return err;
  return wait_ready(ready_timeout_ms);
}

std::string RedisServer::url() const {
  std::string out = "redis://127.0.0.1:";
  out += std::to_string(port_);
  out += "/0";
  return out;
}

Status RedisServer::restart(int ready_timeout_ms) {
  if (dir_.empty()) return usage_error("internal: restart of a redis-server that was never started");
  if (auto err = process_.restart()) return err;
  return wait_ready(ready_timeout_ms);
}

void RedisServer::stop() {
  process_.stop();
  if (!dir_.empty()) {
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }
  dir_.clear();
  port_ = 0;
}

// On failure the server is stopped but its directory kept until stop() or
// destruction, so the log the error points at can still be read.
Status RedisServer::wait_ready(int timeout_ms) {
  auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  for (;;) {
    if (!process_.running()) {
      std::string msg = "redis-server exited before it was ready (log: " + process_.log_file() + ")";
      std::string tail = tail_of_file(process_.log_file());
      if (!tail.empty()) msg += ":\n" + tail;
      return unreachable_error(msg);
    }
    if (answers_ping(port_)) return std::nullopt;
    if (Clock::now() >= deadline) {
      process_.stop();
      std::string msg = "redis-server on port ";
      msg += std::to_string(port_) + " did not answer PING within ";
      msg += std::to_string(timeout_ms) + " ms (log: " + process_.log_file() + ")";
      return unreachable_error(msg);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

}  // namespace kapture
