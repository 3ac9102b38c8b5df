#include "targets/PostgresServer.h"

#include <libpq-fe.h>
#include <sys/shm.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <thread>

namespace kapture {

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

struct PgConnFinish {
  void operator()(PGconn* c) const { PQfinish(c); }
};
struct PgResultClear {
  void operator()(PGresult* r) const { PQclear(r); }
};

int remaining_ms(Clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
  return static_cast<int>(std::max<long long>(left, 0));
}

// "15" from "/usr/lib/postgresql/15/bin"; newest first.
std::vector<std::string> debian_postgres_bin_dirs() {
  std::vector<std::pair<int, std::string>> found;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator("/usr/lib/postgresql", ec)) {
    fs::path bin = entry.path() / "bin";
    if (!fs::is_directory(bin, ec)) continue;
    found.emplace_back(std::atoi(entry.path().filename().c_str()), bin.string());
  }
  std::sort(found.begin(), found.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
  std::vector<std::string> dirs;
  for (auto& [version, dir] : found) dirs.push_back(dir);
  return dirs;
}

// The libpq connection string used by the engine itself for the `db`
// database; connect_timeout so a paused server cannot hang us (2 s is libpq's minimum).
std::string conninfo(int port, const std::string& db) {
  std::string out = "host=127.0.0.1 port=";
  out += std::to_string(port);
  out += " user=kapture dbname=" + db + " connect_timeout=2";
  return out;
}

// A postmaster killed with SIGKILL leaves its System V shared memory segment
// behind (postgres removes it at the next start of the same data directory).
// When there is no next start, remove it ourselves, if nothing is attached.
void remove_orphaned_shared_memory(const std::string& data_dir) {
  std::ifstream pidfile(data_dir + "/postmaster.pid");
  std::string line;
  for (int i = 0; i < 7 && std::getline(pidfile, line); ++i) {
  }
  // Line 7 holds "key id" of the segment.
  std::istringstream fields(line);
  long key = 0;
  int id = -1;
  if (!(fields >> key >> id) || id < 0) return;
  shmid_ds info{};
  if (shmctl(id, IPC_STAT, &info) == 0 && info.shm_nattch == 0 && static_cast<long>(info.shm_perm.__key) == key)
    shmctl(id, IPC_RMID, nullptr);
}

}  // namespace

PostgresServer::~PostgresServer() { stop(); }

Status PostgresServer::start(int ready_timeout_ms) {
  if (process_.running()) return usage_error("internal: postgres already started at " + url());
  stop();  // the leftovers of a failed start
  auto deadline = Clock::now() + std::chrono::milliseconds(ready_timeout_ms);

  auto postgres = find_binary("postgres", debian_postgres_bin_dirs(), "postgresql");
  if (!postgres) return postgres.error();
  // initdb from the same installation (a data directory is tied to a major
  // version); PATH may hold a symlink, so look next to its target.
  std::error_code ec;
  fs::path real = fs::canonical(*postgres, ec);
  Result<std::string> initdb = (ec ? fs::path(*postgres) : real).parent_path().string() + "/initdb";
  if (access(initdb->c_str(), X_OK) != 0) initdb = find_binary("initdb", debian_postgres_bin_dirs(), "postgresql");
  if (!initdb) return initdb.error();

  // postgres refuses to run as root; as root both initdb and the server run
  // as the `postgres` user that Debian's package creates.
  std::string run_as = geteuid() == 0 ? "postgres" : "";

  char tmpl[] = "/tmp/kapture-pg.XXXXXX";
  if (!mkdtemp(tmpl))
    return runtime_error(std::string("cannot create a directory for postgres under /tmp: ") + std::strerror(errno));
  dir_ = tmpl;  // mkdtemp makes it 0700; it holds the data directory, logs and the unix socket
  if (auto err = chown_to_user(dir_, run_as)) return err;
  auto port = free_loopback_port();
  if (!port) return port.error();
  port_ = *port;
  std::string data = dir_ + "/data";

  // --locale=C: the engine's environment may name a locale that is not
  // installed, which makes initdb fail.
  std::vector<std::string> init = {*initdb, "-D", data, "-U", "kapture", "--auth=trust", "-E", "UTF8", "--locale=C",
                                   "--no-instructions"};
  if (auto err = run_to_completion(std::move(init), dir_ + "/initdb.log", run_as, remaining_ms(deadline)))
    return unreachable_error("cannot create a postgres data directory: " + err->message);

  // Started directly, not through pg_ctl, so SIGKILL and SIGSTOP reach the
  // postmaster itself. fsync on and synchronous commit: a commit that was
  // acknowledged survives a kill. Dynamic shared memory in files under the
  // data directory rather than /dev/shm: a killed server that is never
  // restarted cannot clean up its segments, but removing the directory does.
  std::vector<std::string> argv = {*postgres, "-D", data, "-p", std::to_string(port_), "-h", "127.0.0.1", "-k", dir_,
                                   "-c", "fsync=on", "-c", "synchronous_commit=on",
                                   "-c", "dynamic_shared_memory_type=mmap"};
  // SIGTERM is "smart shutdown", which waits for every client to leave.
  process_.set_stop_signal(SIGINT);
  if (auto err = process_.start(std::move(argv), dir_ + "/server.log", run_as)) return err;
  if (auto err = wait_ready(remaining_ms(deadline))) return err;

  std::unique_ptr<PGconn, PgConnFinish> conn(PQconnectdb(conninfo(port_, "postgres").c_str()));
  if (PQstatus(conn.get()) != CONNECTION_OK)
    return unreachable_error(std::string("cannot connect to the new postgres: ") + PQerrorMessage(conn.get()));
  std::unique_ptr<PGresult, PgResultClear> res(PQexec(conn.get(), "CREATE DATABASE kapture"));
  if (PQresultStatus(res.get()) != PGRES_COMMAND_OK)
    return unreachable_error(std::string("cannot create database kapture: ") + PQerrorMessage(conn.get()));
  return std::nullopt;
}

std::string PostgresServer::url() const {
  std::string out = "postgresql://kapture@127.0.0.1:";
  out += std::to_string(port_);
  out += "/kapture";
  return out;
}

Status PostgresServer::restart(int ready_timeout_ms) {
  if (dir_.empty()) return usage_error("internal: restart of a postgres that was never started");
  if (auto err = process_.restart()) return err;
  return wait_ready(ready_timeout_ms);
}

void PostgresServer::stop() {
  bool was_running = process_.running();
  process_.stop();
  if (!dir_.empty()) {
    if (!was_running) remove_orphaned_shared_memory(dir_ + "/data");
    std::error_code ignored;
    fs::remove_all(dir_, ignored);
  }
  dir_.clear();
  port_ = 0;
}

// Crash recovery answers "the database system is starting up" (a rejected
// ping) until it is done, so polling for PQPING_OK covers it. On failure the
// server is stopped but its directory kept until stop(), for the log.
Status PostgresServer::wait_ready(int timeout_ms) {
  auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  std::string info = conninfo(port_, "postgres");
  for (;;) {
    if (!process_.running()) {
      std::string msg = "postgres exited before it was ready (log: " + process_.log_file() + ")";
      std::string tail = tail_of_file(process_.log_file());
      if (!tail.empty()) msg += ":\n" + tail;
      return unreachable_error(msg);
    }
    if (PQping(info.c_str()) == PQPING_OK) return std::nullopt;
    if (Clock::now() >= deadline) {
      process_.stop();
      std::string msg = "postgres on port ";
      msg += std::to_string(port_) + " was not ready within ";
      msg += std::to_string(timeout_ms) + " ms (log: " + process_.log_file() + ")";
      return unreachable_error(msg);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

}  // namespace kapture
