#include "targets/ChildProcess.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <grp.h>
#include <netinet/in.h>
#include <pwd.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <deque>
#include <fstream>
#include <optional>
#include <set>
#include <sstream>
#include <thread>
#include <unordered_map>

#include "common/UniqueFd.h"

namespace kapture {

namespace {

using Clock = std::chrono::steady_clock;

std::string errno_text(int err) { return std::strerror(err); }

// Who the child becomes. Looked up before fork: getpwnam and friends take
// locks and allocate, which a child of a multithreaded process must not do.
struct Identity {
  uid_t uid = 0;
  gid_t gid = 0;
  std::vector<gid_t> groups;
};

// The identity to switch to, or none when not root or no user was asked for
// (a non-root engine simply runs its children as itself).
Result<std::optional<Identity>> identity_for(const std::string& user) {
  if (user.empty() || geteuid() != 0) return std::optional<Identity>{};
  passwd pw{};
  passwd* found = nullptr;
  std::vector<char> buf(16384);
  int rc = getpwnam_r(user.c_str(), &pw, buf.data(), buf.size(), &found);
  if (rc != 0 || !found) {
    std::string msg = "the engine runs as root, so servers run as the user " + user + ", but ";
    msg += rc != 0 ? "looking it up failed: " + errno_text(rc) : "there is no such user";
    return unreachable_error(msg);
  }
  Identity id;
  id.uid = pw.pw_uid;
  id.gid = pw.pw_gid;
  int n = 32;
  for (;;) {
    id.groups.resize(static_cast<size_t>(n));
    int want = n;
    if (getgrouplist(user.c_str(), pw.pw_gid, id.groups.data(), &want) >= 0) {
      id.groups.resize(static_cast<size_t>(want));
      break;
    }
    if (want <= n) want = n * 2;  // glibc reports the size it needs; be safe anyway
    n = want;
  }
  return std::optional<Identity>{std::move(id)};
}

// What a child that could not exec tells its parent through the pipe.
struct ExecFailure {
  int stage;  // one of the Stage values
  int err;    // errno
};
enum Stage { kSetup = 1, kSwitchUser = 2, kExec = 3 };

[[noreturn]] void child_fail(int pipe_fd, Stage stage) {
  ExecFailure f{stage, errno};
  ssize_t ignored = write(pipe_fd, &f, sizeof f);
  (void)ignored;
  _exit(127);
}

// Runs in the child between fork and exec: async-signal-safe calls only.
[[noreturn]] void exec_child(char* const* argv, int log_fd, int null_fd, int pipe_fd, const Identity* id,
                             pid_t parent) {
  // Own process group: the terminal's Ctrl-C goes to the engine, which then
  // stops its servers in order.
  setpgid(0, 0);
  // The engine blocks SIGINT/SIGTERM in every thread (SignalWatcher) and may
  // ignore some signals; both survive exec and would make the server deaf.
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  for (int s = 1; s < NSIG; ++s) sigaction(s, &dfl, nullptr);

  if (dup2(null_fd, STDIN_FILENO) < 0 || dup2(log_fd, STDOUT_FILENO) < 0 || dup2(log_fd, STDERR_FILENO) < 0)
    child_fail(pipe_fd, kSetup);

  if (id) {
    if (setgroups(id->groups.size(), id->groups.data()) != 0 || setgid(id->gid) != 0 || setuid(id->uid) != 0)
      child_fail(pipe_fd, kSwitchUser);
    if (chdir("/") != 0) child_fail(pipe_fd, kSetup);
  }
  // After the user switch: changing the effective uid clears the setting.
  if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) child_fail(pipe_fd, kSetup);
  if (getppid() != parent) _exit(127);  // the engine died before the line above

  execv(argv[0], argv);
  child_fail(pipe_fd, kExec);
}

// The state letter and parent of a process from /proc/<pid>/stat, if it exists.
// The command name in parentheses may hold spaces and ')', so parse after the last ')'.
bool read_stat(pid_t pid, char& state, pid_t& ppid) {
  std::string path = "/proc/";
  path += std::to_string(pid);
  path += "/stat";
  std::ifstream in(path);
  std::string line;
  if (!std::getline(in, line)) return false;
  auto close_paren = line.rfind(')');
  if (close_paren == std::string::npos) return false;
  std::istringstream rest(line.substr(close_paren + 1));
  return static_cast<bool>(rest >> state >> ppid);
}

// Every live descendant of `root`, parents before children.
std::vector<pid_t> descendants_of(pid_t root) {
  std::unordered_multimap<pid_t, pid_t> children;
  if (DIR* d = opendir("/proc")) {
    while (dirent* e = readdir(d)) {
      char* end = nullptr;
      long pid = std::strtol(e->d_name, &end, 10);
      if (*end != '\0' || pid <= 0) continue;
      char state = 0;
      pid_t ppid = 0;
      if (read_stat(static_cast<pid_t>(pid), state, ppid) && state != 'Z' && state != 'X')
        children.emplace(ppid, static_cast<pid_t>(pid));
    }
    closedir(d);
  }
  std::vector<pid_t> out;
  std::deque<pid_t> todo{root};
  while (!todo.empty()) {
    pid_t p = todo.front();
    todo.pop_front();
    auto [first, last] = children.equal_range(p);
    for (auto it = first; it != last; ++it) {
      out.push_back(it->second);
      todo.push_back(it->second);
    }
  }
  return out;
}

// Stops every descendant of an already stopped `root`; rescans until no new
// process shows up, since a child may fork between the scan and its SIGSTOP.
std::vector<pid_t> stop_descendants(pid_t root) {
  std::set<pid_t> stopped;
  for (int round = 0; round < 20; ++round) {
    bool fresh = false;
    for (pid_t p : descendants_of(root)) {
      if (stopped.insert(p).second) {
        kill(p, SIGSTOP);
        fresh = true;
      }
    }
    if (!fresh) break;
  }
  return {stopped.begin(), stopped.end()};
}

// Waits until the processes are gone or zombies: the grandchildren of a
// killed server are reaped by init, not us, but must have released what they
// held (postgres' shared memory) before the server can start again.
void wait_gone(const std::vector<pid_t>& pids, int timeout_ms) {
  auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  for (pid_t p : pids) {
    for (;;) {
      char state = 0;
      pid_t ppid = 0;
      if (!read_stat(p, state, ppid) || state == 'Z' || state == 'X') break;
      if (Clock::now() >= deadline) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }
}

std::string program_name(const std::vector<std::string>& argv) {
  if (argv.empty()) return "child process";
  auto slash = argv[0].rfind('/');
  return slash == std::string::npos ? argv[0] : argv[0].substr(slash + 1);
}

}  // namespace

std::string describe_wait_status(int status) {
  std::string out;
  if (WIFEXITED(status)) {
    out += "exited with status ";
    out += std::to_string(WEXITSTATUS(status));
  } else if (WIFSIGNALED(status)) {
    out += "was killed by signal ";
    out += std::to_string(WTERMSIG(status));
    if (const char* abbrev = sigabbrev_np(WTERMSIG(status))) {
      out += " (SIG";
      out += abbrev;
      out += ')';
    }
  } else {
    out += "ended with wait status ";
    out += std::to_string(status);
  }
  return out;
}

std::string tail_of_file(const std::string& path, int max_lines) {
  std::ifstream in(path);
  std::deque<std::string> lines;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    lines.push_back(line);
    if (static_cast<int>(lines.size()) > max_lines) lines.pop_front();
  }
  std::string out;
  for (const auto& l : lines) {
    if (!out.empty()) out += '\n';
    out += l;
  }
  return out;
}

ChildProcess::~ChildProcess() { stop(); }

Status ChildProcess::start(std::vector<std::string> argv, const std::string& log_file, const std::string& run_as) {
  if (pid_ > 0) {
    if (running()) return usage_error(program_name(argv_) + " is already running (pid " + std::to_string(pid_) + ")");
    reap();  // it exited on its own; collect it before starting anew
  }
  if (argv.empty() || argv[0].empty() || argv[0][0] != '/')
    return usage_error("internal: a child process needs an absolute program path");
  auto id = identity_for(run_as);
  if (!id) return id.error();

  UniqueFd log_fd(open(log_file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644));
  if (log_fd.get() < 0) return runtime_error("cannot open log file " + log_file + ": " + errno_text(errno));
  UniqueFd null_fd(open("/dev/null", O_RDONLY | O_CLOEXEC));
  if (null_fd.get() < 0) return runtime_error("cannot open /dev/null: " + errno_text(errno));
  // Closed on exec: EOF means exec succeeded, a message means it did not.
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) return runtime_error("cannot create a pipe: " + errno_text(errno));
  UniqueFd report_read(fds[0]), report_write(fds[1]);

  std::vector<char*> cargv;
  for (auto& a : argv) cargv.push_back(a.data());
  cargv.push_back(nullptr);

  const Identity* identity = id->has_value() ? &**id : nullptr;
  pid_t parent = getpid();
  pid_t pid = fork();
  if (pid < 0) return runtime_error("cannot fork for " + program_name(argv) + ": " + errno_text(errno));
  if (pid == 0) exec_child(cargv.data(), log_fd.get(), null_fd.get(), report_write.get(), identity, parent);

  report_write.reset();
  ExecFailure failure{};
  ssize_t n;
  do {
    n = read(report_read.get(), &failure, sizeof failure);
  } while (n < 0 && errno == EINTR);
  argv_ = std::move(argv);
  log_file_ = log_file;
  run_as_ = run_as;
  pid_ = pid;
  paused_ = false;
  if (n == 0) return std::nullopt;

  reap();  // the child has exited (or is about to) with 127
  std::string msg = "cannot start " + argv_[0] + ": ";
  if (n != static_cast<ssize_t>(sizeof failure)) {
    msg += "the child process failed before exec";
  } else if (failure.stage == kExec) {
    msg += "exec failed: ";
    msg += errno_text(failure.err);
  } else if (failure.stage == kSwitchUser) {
    msg += "cannot switch to user " + run_as + ": ";
    msg += errno_text(failure.err);
  } else {
    msg += "setting up the child process failed: ";
    msg += errno_text(failure.err);
  }
  return runtime_error(msg);
}

bool ChildProcess::running() const {
  if (pid_ <= 0) return false;
  siginfo_t info{};
  // WNOWAIT: only look, so whoever stops it still collects the exit status.
  if (waitid(P_PID, static_cast<id_t>(pid_), &info, WEXITED | WNOHANG | WNOWAIT) != 0) return false;
  return info.si_pid == 0;
}

void ChildProcess::reap() {
  if (pid_ <= 0) return;
  int status = 0;
  while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
  pid_ = -1;
  paused_ = false;
}

bool ChildProcess::reaped_within(int timeout_ms) {
  auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  for (;;) {
    int status = 0;
    pid_t r = waitpid(pid_, &status, WNOHANG);
    if (r == pid_ || (r < 0 && errno == ECHILD)) {
      pid_ = -1;
      paused_ = false;
      return true;
    }
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

void ChildProcess::kill_tree_and_reap() {
  kill(pid_, SIGSTOP);  // no new children from here on
  auto family = stop_descendants(pid_);
  for (pid_t p : family) kill(p, SIGKILL);
  kill(pid_, SIGKILL);
  reap();
  wait_gone(family, 5000);
}

Status ChildProcess::kill_hard() {
  if (pid_ <= 0) return usage_error(program_name(argv_) + " is not running");
  if (!running()) {
    int status = 0;
    while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
    pid_ = -1;
    paused_ = false;
    return runtime_error(program_name(argv_) + " had already stopped: it " + describe_wait_status(status));
  }
  kill_tree_and_reap();
  return std::nullopt;
}

Status ChildProcess::pause() {
  if (!running()) return usage_error(program_name(argv_) + " is not running");
  if (kill(pid_, SIGSTOP) != 0) return runtime_error("cannot stop " + program_name(argv_) + ": " + errno_text(errno));
  stop_descendants(pid_);
  paused_ = true;
  return std::nullopt;
}

Status ChildProcess::resume() {
  if (!running()) return usage_error(program_name(argv_) + " is not running");
  for (pid_t p : descendants_of(pid_)) kill(p, SIGCONT);
  if (kill(pid_, SIGCONT) != 0) return runtime_error("cannot continue " + program_name(argv_) + ": " + errno_text(errno));
  paused_ = false;
  return std::nullopt;
}

Status ChildProcess::stop(int timeout_ms) {
  if (pid_ <= 0) return std::nullopt;
  if (!running()) {
    reap();
    return std::nullopt;
  }
  // A stopped process would hold the polite signal until continued.
  if (paused_) resume();
  kill(pid_, stop_signal_);
  if (!reaped_within(timeout_ms)) kill_tree_and_reap();
  return std::nullopt;
}

Status ChildProcess::restart() {
  if (argv_.empty()) return usage_error("internal: restart of a child process that was never started");
  return start(argv_, log_file_, run_as_);
}

Result<int> ChildProcess::wait_exit(int timeout_ms) {
  if (pid_ <= 0) return usage_error("internal: waiting for a child process that is not running");
  auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  for (;;) {
    int status = 0;
    pid_t r = waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
      pid_ = -1;
      paused_ = false;
      return status;
    }
    if (r < 0 && errno != EINTR) {
      pid_ = -1;
      return runtime_error("cannot wait for " + program_name(argv_) + ": " + errno_text(errno));
    }
    if (Clock::now() >= deadline) {
      kill_tree_and_reap();
      return runtime_error(program_name(argv_) + " did not finish within " + std::to_string(timeout_ms) + " ms");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

Status run_to_completion(std::vector<std::string> argv, const std::string& log_file, const std::string& run_as,
                         int timeout_ms) {
  std::string name = program_name(argv);
  ChildProcess child;
  if (auto err = child.start(std::move(argv), log_file, run_as)) return err;
  auto status = child.wait_exit(timeout_ms);
  if (!status) return status.error();
  if (WIFEXITED(*status) && WEXITSTATUS(*status) == 0) return std::nullopt;
  std::string msg = name + " " + describe_wait_status(*status);
  msg += " (log: " + log_file + ")";
  std::string tail = tail_of_file(log_file);
  if (!tail.empty()) msg += ":\n" + tail;
  return runtime_error(msg);
}

Status chown_to_user(const std::string& path, const std::string& user) {
  auto id = identity_for(user);
  if (!id) return id.error();
  if (!id->has_value()) return std::nullopt;
  if (chown(path.c_str(), (*id)->uid, (*id)->gid) != 0)
    return runtime_error("cannot give " + path + " to user " + user + ": " + errno_text(errno));
  return std::nullopt;
}

Result<int> free_loopback_port() {
  UniqueFd s(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (s.get() < 0) return unreachable_error("cannot create a socket: " + errno_text(errno));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;  // the kernel picks a free one
  if (bind(s.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
    return unreachable_error("cannot bind to 127.0.0.1: " + errno_text(errno));
  socklen_t len = sizeof addr;
  if (getsockname(s.get(), reinterpret_cast<sockaddr*>(&addr), &len) != 0)
    return unreachable_error("cannot read back a bound port: " + errno_text(errno));
  // The port is free again once closed; another process could take it before
  // the server binds it, which start() then reports as a failed start.
  return static_cast<int>(ntohs(addr.sin_port));
}

Result<std::string> find_binary(const std::string& name, const std::vector<std::string>& extra_dirs,
                                const std::string& debian_package) {
  std::vector<std::string> dirs;
  const char* path = std::getenv("PATH");
  std::istringstream in(path ? path : "");
  for (std::string dir; std::getline(in, dir, ':');)
    if (!dir.empty()) dirs.push_back(dir);
  dirs.insert(dirs.end(), extra_dirs.begin(), extra_dirs.end());
  for (const auto& dir : dirs) {
    std::string candidate = dir + "/" + name;
    struct stat st {};
    if (stat(candidate.c_str(), &st) != 0 || !S_ISREG(st.st_mode) || access(candidate.c_str(), X_OK) != 0) continue;
    if (candidate[0] != '/') {  // a relative PATH entry: exec needs it absolute
      char* abs = realpath(candidate.c_str(), nullptr);
      if (!abs) continue;
      candidate = abs;
      std::free(abs);
    }
    return candidate;
  }
  std::string msg = name + " not found: install the Debian package " + debian_package;
  msg += " (apt-get install " + debian_package + ")";
  return unreachable_error(msg);
}

}  // namespace kapture
