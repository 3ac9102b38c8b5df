#pragma once
// A server the engine runs as a child process (redis-server, postgres):
// started with its output in a log file, stopped on destruction, and hurt on
// request (SIGKILL then restart, SIGSTOP/SIGCONT) for chaos steps.
//
// The child gets its own process group (a Ctrl-C on the engine's terminal
// must not kill it before the engine stops it cleanly) and dies with SIGKILL
// if the engine dies (PR_SET_PDEATHSIG). Linux ties that signal to the
// *thread* that forked, so call start()/restart() from a thread that lives as
// long as the child (the main thread).
//
// kill_hard, pause and resume act on the whole process tree: postgres forks a
// process per connection (each in its own session), so signalling only the
// postmaster would leave the connections working while "paused" and leave
// orphans holding its shared memory after a "crash".
#include <sys/types.h>

#include <csignal>
#include <string>
#include <vector>

#include "common/Error.h"

namespace kapture {

class ChildProcess {
 public:
  ChildProcess() = default;
  ~ChildProcess();  // SIGTERM, wait up to 10 s, then SIGKILL
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  // argv[0] is an absolute path. `run_as`: when the engine runs as root and
  // this is set (e.g. "postgres", which refuses to run as root), the child
  // switches to that user before exec (and to "/" as working directory, which
  // that user may not be able to read otherwise: give absolute paths).
  Status start(std::vector<std::string> argv, const std::string& log_file, const std::string& run_as = "");
  Status kill_hard();   // SIGKILL and reap
  Status pause();       // SIGSTOP
  Status resume();      // SIGCONT
  Status stop(int timeout_ms = 10000);  // SIGTERM, then SIGKILL after the timeout
  Status restart();     // start again with the same argv
  bool running() const;  // started and not exited
  pid_t pid() const { return pid_; }

  // The polite signal stop() sends first (postgres: SIGINT, "fast shutdown",
  // since SIGTERM waits for every client to disconnect).
  void set_stop_signal(int sig) { stop_signal_ = sig; }
  // Waits for the child to exit by itself; returns its wait status. After the
  // timeout the child is killed and the result is an error.
  Result<int> wait_exit(int timeout_ms);
  const std::string& log_file() const { return log_file_; }

 private:
  void reap();                 // blocking waitpid; forgets the child
  bool reaped_within(int timeout_ms);
  void kill_tree_and_reap();

  std::vector<std::string> argv_;
  std::string log_file_, run_as_;
  pid_t pid_ = -1;
  bool paused_ = false;
  int stop_signal_ = SIGTERM;
};

// A free TCP port on 127.0.0.1 (bind to port 0 and read it back).
Result<int> free_loopback_port();

// Absolute path of a server binary: PATH, then the given extra directories.
// The error names the Debian package to install.
Result<std::string> find_binary(const std::string& name, const std::vector<std::string>& extra_dirs,
                                const std::string& debian_package);

// Runs a command to completion (initdb), privileges dropped as in start().
// Non-zero exit is an error quoting the end of the log.
Status run_to_completion(std::vector<std::string> argv, const std::string& log_file, const std::string& run_as,
                         int timeout_ms);

// Gives `path` to `user` when the engine is root (nothing to do otherwise).
Status chown_to_user(const std::string& path, const std::string& user);

// The last lines of a log file, for error messages ("" if unreadable).
std::string tail_of_file(const std::string& path, int max_lines = 5);

// "exited with status 1", "killed by signal 9 (KILL)".
std::string describe_wait_status(int status);

}  // namespace kapture
