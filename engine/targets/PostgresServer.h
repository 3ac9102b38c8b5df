#pragma once
// A real PostgreSQL (Debian's postgresql package: initdb and postgres from
// /usr/lib/postgresql/<version>/bin) on a free loopback port, data in a
// temporary directory, run as the `postgres` user when the engine is root.
// Ready when a connection succeeds (PQping).
#include <string>

#include "targets/ChildProcess.h"

namespace kapture {

class PostgresServer {
 public:
  ~PostgresServer();  // stops the server and removes its directory
  Status start(int ready_timeout_ms = 60000);  // initdb (trust auth, user "kapture", db "kapture"), start, wait
  std::string url() const;  // postgresql://kapture@127.0.0.1:PORT/kapture
  int port() const { return port_; }
  Status kill_hard() { return process_.kill_hard(); }  // SIGKILL; restart() recovers
  Status restart(int ready_timeout_ms = 60000);       // crash recovery, waits until ready
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
