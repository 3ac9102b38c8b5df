#pragma once
// A real PostgreSQL (Debian's postgresql package: initdb and postgres from
// /usr/lib/postgresql/<version>/bin) on a free loopback port, data in a
// temporary directory, run as the `postgres` user when the engine is root.
// Ready when a connection succeeds (PQping).
#include <string>

#include "targets/ChildProcess.h"
#include "targets/StoreServer.h"

namespace kapture {

class PostgresServer : public StoreServer {
 public:
  ~PostgresServer() override;  // stops the server and removes its directory
  Status start(int ready_timeout_ms = 60000) override;  // initdb (trust auth, user "kapture", db "kapture"), start, wait
  std::string url() const override;  // postgresql://kapture@127.0.0.1:PORT/kapture
  int port() const { return port_; }
  Status kill_hard() override { return process_.kill_hard(); }
  Status restart(int ready_timeout_ms = 60000) override;  // crash recovery, waits until ready
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
