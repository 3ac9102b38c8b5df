// Real redis-server and postgres, run and hurt the way chaos steps do. As root
// (CI) the postgres tests also exercise the switch to the `postgres` user.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <hiredis/hiredis.h>
#include <libpq-fe.h>
#include <poll.h>
#include <pwd.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>

#include "targets/ChildProcess.h"
#include "targets/PostgresServer.h"
#include "targets/RedisServer.h"

using namespace kapture;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

using Clock = std::chrono::steady_clock;

// The state letter from /proc/<pid>/stat ('?' if there is no such process).
char process_state(pid_t pid) {
  std::string path = "/proc/";
  path += std::to_string(pid);
  path += "/stat";
  std::ifstream in(path);
  std::string line;
  if (!std::getline(in, line)) return '?';
  return line[line.rfind(')') + 2];
}

// Gone, or a zombie nobody has reaped yet (a killed server's grandchildren
// are reaped by init, not by us).
bool process_gone(pid_t pid) {
  char state = process_state(pid);
  return state == '?' || state == 'Z' || state == 'X';
}

std::string expected_url(const char* prefix, int port, const char* suffix) {
  std::string out = prefix;
  out += std::to_string(port);
  out += suffix;
  return out;
}

std::string temp_dir() {
  char tmpl[] = "/tmp/kapture-test.XXXXXX";
  REQUIRE(mkdtemp(tmpl) != nullptr);
  return tmpl;
}

// Polls `cond` until it holds or the deadline passes.
template <typename F>
bool eventually(F cond, std::chrono::milliseconds limit = 5000ms) {
  auto deadline = Clock::now() + limit;
  while (!cond()) {
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(10ms);
  }
  return true;
}

// --- hiredis ---------------------------------------------------------------

struct RedisFree {
  void operator()(redisContext* c) const { redisFree(c); }
};
using Redis = std::unique_ptr<redisContext, RedisFree>;
struct ReplyFree {
  void operator()(redisReply* r) const { freeReplyObject(r); }
};
using Reply = std::unique_ptr<redisReply, ReplyFree>;

Redis redis_connect(int port, std::chrono::milliseconds timeout = 2000ms) {
  timeval tv{static_cast<time_t>(timeout.count() / 1000), static_cast<suseconds_t>(timeout.count() % 1000 * 1000)};
  Redis c(redisConnectWithTimeout("127.0.0.1", port, tv));
  REQUIRE(c);
  REQUIRE_MESSAGE(c->err == 0, c->errstr);
  redisSetTimeout(c.get(), tv);
  return c;
}

template <typename... Args>
Reply command(redisContext* c, const char* fmt, Args... args) {
  return Reply(static_cast<redisReply*>(redisCommand(c, fmt, args...)));
}

std::string reply_text(const Reply& r) { return r && r->str ? std::string(r->str, r->len) : std::string("<no reply>"); }

// --- libpq -----------------------------------------------------------------

struct PgFinish {
  void operator()(PGconn* c) const { PQfinish(c); }
};
using Pg = std::unique_ptr<PGconn, PgFinish>;
struct PgClear {
  void operator()(PGresult* r) const { PQclear(r); }
};
using PgResult = std::unique_ptr<PGresult, PgClear>;

Pg pg_connect(const std::string& conninfo) {
  Pg c(PQconnectdb(conninfo.c_str()));
  REQUIRE_MESSAGE(PQstatus(c.get()) == CONNECTION_OK, PQerrorMessage(c.get()));
  return c;
}

// Runs a statement and returns the first column of the first row ("" if none).
std::string pg_exec(PGconn* c, const char* sql) {
  PgResult r(PQexec(c, sql));
  auto status = PQresultStatus(r.get());
  REQUIRE_MESSAGE((status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK), sql, ": ", PQerrorMessage(c));
  if (status != PGRES_TUPLES_OK || PQntuples(r.get()) == 0) return "";
  return PQgetvalue(r.get(), 0, 0);
}

// Waits for the result of a query sent with PQsendQuery; false on timeout.
bool pg_result_within(PGconn* c, std::chrono::milliseconds limit) {
  auto deadline = Clock::now() + limit;
  for (;;) {
    REQUIRE(PQconsumeInput(c) == 1);
    if (!PQisBusy(c)) return true;
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) return false;
    pollfd p{PQsocket(c), POLLIN, 0};
    poll(&p, 1, static_cast<int>(left));
  }
}

}  // namespace

// --- helpers ---------------------------------------------------------------

TEST_CASE("find_binary: absolute path from PATH or the extra directories, Debian package named when missing") {
  auto redis = find_binary("redis-server", {}, "redis-server");
  REQUIRE(redis);
  CHECK(redis->front() == '/');
  CHECK(fs::exists(*redis));

  auto extra = find_binary("sh", {"/nonexistent-dir"}, "dash");
  REQUIRE(extra);
  CHECK(extra->front() == '/');

  auto missing = find_binary("kapture-no-such-server", {"/usr/lib/nowhere/bin"}, "kapture-no-such-package");
  REQUIRE_FALSE(missing);
  CHECK(missing.error().kind == ErrorKind::Unreachable);
  CHECK(missing.error().message ==
        "kapture-no-such-server not found: install the Debian package kapture-no-such-package "
        "(apt-get install kapture-no-such-package)");
}

TEST_CASE("free_loopback_port: a port that can be bound on 127.0.0.1") {
  auto port = free_loopback_port();
  REQUIRE(port);
  CHECK(*port > 0);
  CHECK(*port < 65536);
}

// --- ChildProcess ----------------------------------------------------------

TEST_CASE("ChildProcess: exec failure of a nonexistent binary is reported by start()") {
  std::string dir = temp_dir();
  ChildProcess child;
  auto err = child.start({"/nonexistent/kapture-no-such-binary", "--flag"}, dir + "/log");
  REQUIRE(err);
  CHECK(err->message.find("/nonexistent/kapture-no-such-binary") != std::string::npos);
  CHECK(err->message.find("exec failed: No such file or directory") != std::string::npos);
  CHECK_FALSE(child.running());
  CHECK(child.pid() == -1);

  CHECK(child.start({"relative/path"}, dir + "/log"));  // argv[0] must be absolute
  fs::remove_all(dir);
}

TEST_CASE("ChildProcess: the destructor leaves no process behind") {
  std::string dir = temp_dir();
  pid_t pid = -1;
  {
    ChildProcess child;
    REQUIRE_FALSE(child.start({"/bin/sleep", "600"}, dir + "/log"));
    pid = child.pid();
    CHECK(pid > 0);
    CHECK(child.running());
    CHECK(kill(pid, 0) == 0);
  }
  errno = 0;
  CHECK(kill(pid, 0) == -1);
  CHECK(errno == ESRCH);  // reaped, not a zombie
  fs::remove_all(dir);
}

TEST_CASE("ChildProcess: own process group, output in the log file, signal mask reset") {
  std::string dir = temp_dir();
  // The engine blocks SIGTERM in all threads (SignalWatcher); the child must
  // not inherit that, or stop() would always have to wait for the SIGKILL.
  sigset_t term, old;
  sigemptyset(&term);
  sigaddset(&term, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &term, &old);
  ChildProcess child;
  REQUIRE_FALSE(child.start({"/bin/sh", "-c", "echo hello from the child; exec sleep 600"}, dir + "/log"));
  pthread_sigmask(SIG_SETMASK, &old, nullptr);

  CHECK(getpgid(child.pid()) == child.pid());
  CHECK(eventually([&] { return tail_of_file(dir + "/log") == "hello from the child"; }));
  auto t0 = Clock::now();
  CHECK_FALSE(child.stop(5000));
  CHECK(Clock::now() - t0 < 4000ms);  // SIGTERM worked; no SIGKILL after the timeout
  CHECK_FALSE(child.running());
  fs::remove_all(dir);
}

TEST_CASE("ChildProcess: kill_hard reaps, restart runs the same command, pause and resume") {
  std::string dir = temp_dir();
  ChildProcess child;
  REQUIRE_FALSE(child.start({"/bin/sleep", "600"}, dir + "/log"));
  pid_t first = child.pid();

  REQUIRE_FALSE(child.pause());
  CHECK(eventually([&] { return process_state(first) == 'T'; }));
  CHECK(child.running());  // stopped is not exited
  REQUIRE_FALSE(child.resume());
  CHECK(eventually([&] { return process_state(first) == 'S'; }));

  REQUIRE_FALSE(child.kill_hard());
  CHECK_FALSE(child.running());
  errno = 0;
  CHECK(kill(first, 0) == -1);
  CHECK(errno == ESRCH);
  CHECK(child.kill_hard());  // nothing left to kill

  REQUIRE_FALSE(child.restart());
  CHECK(child.running());
  CHECK(child.pid() != first);
  CHECK(child.start({"/bin/sleep", "1"}, dir + "/log"));  // already running
  fs::remove_all(dir);
}

TEST_CASE("ChildProcess: stop escalates to SIGKILL and takes the children along") {
  std::string dir = temp_dir();
  std::string pidfile = dir + "/grandchild.pid";
  ChildProcess child;
  // A shell that ignores SIGTERM, with a child of its own.
  std::string script = "trap '' TERM; sleep 600 & echo $! > " + pidfile + "; wait";
  REQUIRE_FALSE(child.start({"/bin/sh", "-c", script}, dir + "/log"));
  REQUIRE(eventually([&] { return !tail_of_file(pidfile).empty(); }));
  pid_t grandchild = std::stoi(tail_of_file(pidfile));
  pid_t pid = child.pid();

  CHECK_FALSE(child.stop(300));
  CHECK_FALSE(child.running());
  CHECK(kill(pid, 0) == -1);
  CHECK(process_gone(grandchild));
  fs::remove_all(dir);
}

TEST_CASE("ChildProcess: run_as switches user when root; run_to_completion reports failure") {
  std::string dir = temp_dir();
  REQUIRE_FALSE(chown_to_user(dir, "postgres"));
  REQUIRE_FALSE(run_to_completion({"/usr/bin/id", "-u"}, dir + "/id.log", "postgres", 10000));
  std::string expected = std::to_string(getuid());
  if (geteuid() == 0) {
    passwd* pw = getpwnam("postgres");
    REQUIRE(pw);
    expected = std::to_string(pw->pw_uid);
    struct stat st {};
    REQUIRE(stat(dir.c_str(), &st) == 0);
    CHECK(st.st_uid == pw->pw_uid);
  }
  CHECK(tail_of_file(dir + "/id.log") == expected);

  auto err = run_to_completion({"/bin/sh", "-c", "echo it went wrong; exit 3"}, dir + "/fail.log", "", 10000);
  REQUIRE(err);
  CHECK(err->message.find("sh exited with status 3") != std::string::npos);
  CHECK(err->message.find("it went wrong") != std::string::npos);

  err = run_to_completion({"/bin/sleep", "600"}, dir + "/slow.log", "", 200);
  REQUIRE(err);
  CHECK(err->message.find("did not finish within 200 ms") != std::string::npos);

  err = run_to_completion({"/usr/bin/id"}, dir + "/nobody.log", "kapture-no-such-user", 10000);
  if (geteuid() == 0) {
    REQUIRE(err);
    CHECK(err->message.find("kapture-no-such-user") != std::string::npos);
  } else {
    CHECK_FALSE(err);  // not root: runs as self
  }
  fs::remove_all(dir);
}

// --- Redis -----------------------------------------------------------------

TEST_CASE("RedisServer: serves, keeps acknowledged writes across SIGKILL, pauses, cleans up") {
  RedisServer redis;
  REQUIRE_FALSE(redis.start());
  CHECK(redis.url() == expected_url("redis://127.0.0.1:", redis.port(), "/0"));

  std::string dir;
  {
    Redis c = redis_connect(redis.port());
    CHECK(reply_text(command(c.get(), "SET %s %s", "answer", "42")) == "OK");
    CHECK(reply_text(command(c.get(), "GET %s", "answer")) == "42");
    Reply conf = command(c.get(), "CONFIG GET dir");
    REQUIRE(conf);
    REQUIRE(conf->type == REDIS_REPLY_ARRAY);
    REQUIRE(conf->elements == 2);
    dir = conf->element[1]->str;
  }
  CHECK(dir.rfind("/tmp/kapture-redis.", 0) == 0);
  CHECK(fs::exists(dir + "/server.log"));

  SUBCASE("a SIGKILL loses no acknowledged write; restart reuses port and data") {
    int port = redis.port();
    REQUIRE_FALSE(redis.kill_hard());
    redisContext* refused = redisConnect("127.0.0.1", port);
    CHECK(refused->err != 0);  // nothing listens while it is down
    redisFree(refused);
    REQUIRE_FALSE(redis.restart());
    CHECK(redis.port() == port);
    Redis c = redis_connect(redis.port());
    CHECK(reply_text(command(c.get(), "GET %s", "answer")) == "42");
  }

  SUBCASE("pause makes PING time out, resume makes it answer") {
    Redis before = redis_connect(redis.port(), 300ms);
    REQUIRE_FALSE(redis.pause());
    Reply none = command(before.get(), "PING");
    CHECK_FALSE(none);
    CHECK(before->err != 0);  // timed out
    REQUIRE_FALSE(redis.resume());
    Redis after = redis_connect(redis.port());
    CHECK(reply_text(command(after.get(), "PING")) == "PONG");
  }

  redis.stop();
  CHECK_FALSE(fs::exists(dir));
  redis.stop();  // twice is fine
}

TEST_CASE("RedisServer: restart before start is an error") {
  RedisServer redis;
  CHECK(redis.restart());
}

// --- PostgreSQL ------------------------------------------------------------

TEST_CASE("PostgresServer: serves the url, keeps committed rows across SIGKILL, pauses, cleans up") {
  PostgresServer pg;
  REQUIRE_FALSE(pg.start());
  CHECK(pg.url() == expected_url("postgresql://kapture@127.0.0.1:", pg.port(), "/kapture"));

  std::string data_dir;
  {
    Pg c = pg_connect(pg.url());
    CHECK(pg_exec(c.get(), "SELECT current_user") == "kapture");
    CHECK(pg_exec(c.get(), "SELECT current_database()") == "kapture");
    CHECK(pg_exec(c.get(), "SHOW fsync") == "on");
    CHECK(pg_exec(c.get(), "SHOW synchronous_commit") == "on");
    CHECK(pg_exec(c.get(), "SHOW dynamic_shared_memory_type") == "mmap");  // nothing in /dev/shm to leak
    data_dir = pg_exec(c.get(), "SHOW data_directory");
    pg_exec(c.get(), "CREATE TABLE survivors (v int)");
    pg_exec(c.get(), "INSERT INTO survivors VALUES (42)");
  }
  std::string dir = fs::path(data_dir).parent_path().string();
  CHECK(dir.rfind("/tmp/kapture-pg.", 0) == 0);
  CHECK(fs::exists(dir + "/server.log"));
  if (geteuid() == 0) {  // postgres refuses root: the data belongs to `postgres`
    passwd* pw = getpwnam("postgres");
    REQUIRE(pw);
    struct stat st {};
    REQUIRE(stat(data_dir.c_str(), &st) == 0);
    CHECK(st.st_uid == pw->pw_uid);
  }

  SUBCASE("a SIGKILL loses no committed row; the connections' processes die too") {
    Pg c = pg_connect(pg.url());
    pid_t backend = std::stoi(pg_exec(c.get(), "SELECT pg_backend_pid()"));
    REQUIRE_FALSE(pg.kill_hard());
    CHECK(process_gone(backend));
    c.reset();
    REQUIRE_FALSE(pg.restart());
    Pg again = pg_connect(pg.url());
    CHECK(pg_exec(again.get(), "SELECT v FROM survivors") == "42");
  }

  SUBCASE("pause blocks queries on open connections and new connections; resume lets them through") {
    Pg open = pg_connect(pg.url());
    REQUIRE_FALSE(pg.pause());
    REQUIRE(PQsendQuery(open.get(), "SELECT v FROM survivors") == 1);
    CHECK_FALSE(pg_result_within(open.get(), 1000ms));  // the backend is stopped too

    std::string with_timeout = pg.url() + "?connect_timeout=2";
    Pg refused(PQconnectdb(with_timeout.c_str()));
    CHECK(PQstatus(refused.get()) == CONNECTION_BAD);
    CHECK(std::string(PQerrorMessage(refused.get())).find("timeout") != std::string::npos);

    REQUIRE_FALSE(pg.resume());
    REQUIRE(pg_result_within(open.get(), 10000ms));
    PgResult r(PQgetResult(open.get()));
    REQUIRE(PQresultStatus(r.get()) == PGRES_TUPLES_OK);
    CHECK(std::string(PQgetvalue(r.get(), 0, 0)) == "42");
    while (PGresult* rest = PQgetResult(open.get())) PQclear(rest);
    Pg fresh = pg_connect(with_timeout);
    CHECK(pg_exec(fresh.get(), "SELECT 1") == "1");
  }

  pg.stop();
  CHECK_FALSE(fs::exists(dir));
}

TEST_CASE("PostgresServer: stop after a kill leaves nothing behind") {
  std::string dir;
  int shm_id = -1;
  {
    PostgresServer pg;
    REQUIRE_FALSE(pg.start());
    Pg c = pg_connect(pg.url());
    std::string data_dir = pg_exec(c.get(), "SHOW data_directory");
    dir = fs::path(data_dir).parent_path().string();
    c.reset();
    // Line 7 of postmaster.pid: the key and id of the System V segment a
    // killed postmaster leaves behind.
    std::ifstream pidfile(data_dir + "/postmaster.pid");
    std::string line;
    for (int i = 0; i < 7; ++i) std::getline(pidfile, line);
    long key = 0;
    std::istringstream(line) >> key >> shm_id;
    REQUIRE_FALSE(pg.kill_hard());
    shmid_ds info{};
    CHECK(shmctl(shm_id, IPC_STAT, &info) == 0);  // still there after the kill
  }  // destructor: stop() of a killed server
  CHECK_FALSE(fs::exists(dir));
  shmid_ds info{};
  CHECK(shmctl(shm_id, IPC_STAT, &info) == -1);  // removed by stop()
}
