#pragma once
// A real redis-server (Debian's redis-server package) on a free loopback
// port, in a temporary directory, with the append-only file fsynced on every
// write so a SIGKILL loses nothing it acknowledged. Ready when PING answers.
#include <string>

#include "targets/ChildProcess.h"
#include "targets/StoreServer.h"

namespace kapture {

class RedisServer : public StoreServer {
 public:
  ~RedisServer() override;  // stops the server and removes its directory
  Status start(int ready_timeout_ms = 20000) override;
  std::string url() const override;  // redis://127.0.0.1:PORT/0
  int port() const { return port_; }
  Status kill_hard() override { return process_.kill_hard(); }
  Status restart(int ready_timeout_ms = 20000) override;  // waits for PING
  Status pause() override { return process_.pause(); }
  Status resume() override { return process_.resume(); }
  void stop() override;

 private:
  Status wait_ready(int timeout_ms);
  ChildProcess process_;
  std::string dir_;
  int port_ = 0;
};

}  // namespace kapture
