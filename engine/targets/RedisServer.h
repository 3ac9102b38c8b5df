#pragma once
// A real redis-server (Debian's redis-server package) on a free loopback
// port, in a temporary directory, with the append-only file fsynced on every
// write so a SIGKILL loses nothing it acknowledged. Ready when PING answers.
#include <string>

#include "targets/ChildProcess.h"

namespace kapture {

class RedisServer {
 public:
  ~RedisServer();  // stops the server and removes its directory
  Status start(int ready_timeout_ms = 20000);
  std::string url() const;  // redis://127.0.0.1:PORT/0
  int port() const { return port_; }
  Status kill_and_restart_later();  // SIGKILL now; call restart() to bring it back
  Status restart(int ready_timeout_ms = 20000);  // start again, same port and data; waits for PING
  Status pause() { return process_.pause(); }
  Status resume() { return process_.resume(); }
  void stop();

 private:
  Status wait_ready(int timeout_ms);
  ChildProcess process_;
  std::string dir_;
  int port_ = 0;
};

}  // namespace kapture
