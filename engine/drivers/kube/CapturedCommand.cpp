#include "drivers/kube/CapturedCommand.h"

#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <sstream>
#include <thread>

#include "common/UniqueFd.h"

extern char** environ;

namespace kapture {

namespace {

using Clock = std::chrono::steady_clock;

std::string errno_text(int err) { return std::strerror(err); }

// posix_spawn's attribute and file-action objects, destroyed on scope exit.
struct SpawnSetup {
  posix_spawnattr_t attr;
  posix_spawn_file_actions_t actions;
  bool attr_ok = false, actions_ok = false;
  SpawnSetup() {
    attr_ok = posix_spawnattr_init(&attr) == 0;
    actions_ok = posix_spawn_file_actions_init(&actions) == 0;
  }
  ~SpawnSetup() {
    if (attr_ok) posix_spawnattr_destroy(&attr);
    if (actions_ok) posix_spawn_file_actions_destroy(&actions);
  }
  SpawnSetup(const SpawnSetup&) = delete;
  SpawnSetup& operator=(const SpawnSetup&) = delete;
};

// A started child: until it has been waited for, leaving the scope kills its
// process group and reaps it, so no error path leaves a zombie or a stray
// plugin behind.
class SpawnedChild {
 public:
  explicit SpawnedChild(pid_t pid) : pid_(pid) {}
  ~SpawnedChild() {
    if (pid_ > 0) {
      kill_group();
      wait_blocking();
    }
  }
  SpawnedChild(const SpawnedChild&) = delete;
  SpawnedChild& operator=(const SpawnedChild&) = delete;

  // True once the child has exited; its status is then in `status`.
  bool try_reap(int& status) {
    if (pid_ <= 0) return true;
    pid_t r = waitpid(pid_, &status, WNOHANG);
    if (r == pid_ || (r < 0 && errno == ECHILD)) {
      pid_ = -1;
      return true;
    }
    return false;
  }
  void kill_group() {
    if (pid_ > 0) {
      kill(-pid_, SIGKILL);  // the group the child leads (POSIX_SPAWN_SETPGROUP)
      kill(pid_, SIGKILL);   // in case it had not got there yet
    }
  }
  int wait_blocking() {
    int status = 0;
    while (pid_ > 0 && waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
    pid_ = -1;
    return status;
  }

 private:
  pid_t pid_;
};

// Reads what is available without blocking. False at end of file.
bool drain(int fd, std::string& into, size_t keep_at_most, bool keep_tail, bool& overflow) {
  char buf[8192];
  for (;;) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n > 0) {
      into.append(buf, static_cast<size_t>(n));
      if (into.size() > keep_at_most) {
        if (keep_tail) {
          into.erase(0, into.size() - keep_at_most);
        } else {
          overflow = true;
          into.resize(keep_at_most);
        }
      }
      continue;
    }
    if (n == 0) return false;
    if (errno == EINTR) continue;
    return errno == EAGAIN || errno == EWOULDBLOCK;  // anything else: treat as closed
  }
}

}  // namespace

bool CommandOutcome::exited_ok() const { return WIFEXITED(wait_status) && WEXITSTATUS(wait_status) == 0; }

std::string describe_exit(int wait_status) {
  std::string out;
  if (WIFEXITED(wait_status)) {
    out = "exited with status " + std::to_string(WEXITSTATUS(wait_status));
  } else if (WIFSIGNALED(wait_status)) {
    out = "was killed by signal " + std::to_string(WTERMSIG(wait_status));
    if (const char* abbrev = sigabbrev_np(WTERMSIG(wait_status))) {
      out += " (SIG";
      out += abbrev;
      out += ')';
    }
  } else {
    out = "ended with wait status " + std::to_string(wait_status);
  }
  return out;
}

std::string look_path(const std::string& name, const std::string& path_env) {
  auto executable = [](const std::string& p) {
    struct stat st {};
    return stat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode) && access(p.c_str(), X_OK) == 0;
  };
  if (name.find('/') != std::string::npos) {
    if (!executable(name)) return "";
    return std::filesystem::absolute(name).lexically_normal().string();
  }
  std::istringstream dirs(path_env);
  for (std::string dir; std::getline(dirs, dir, ':');) {
    if (dir.empty()) dir = ".";  // an empty PATH entry means the working directory
    std::string candidate = dir + "/" + name;
    if (executable(candidate)) return std::filesystem::absolute(candidate).lexically_normal().string();
  }
  return "";
}

std::vector<std::string> process_environment() {
  std::vector<std::string> out;
  for (char** e = environ; e && *e; ++e) out.emplace_back(*e);
  return out;
}

Result<CommandOutcome> run_captured(const CommandToRun& command) {
  if (command.program.empty() || command.program[0] != '/')
    return runtime_error("internal: run_captured needs an absolute program path, got '" + command.program + "'");

  int out_pipe[2], err_pipe[2];
  if (pipe2(out_pipe, O_CLOEXEC) != 0) return runtime_error("cannot create a pipe: " + errno_text(errno));
  UniqueFd out_read(out_pipe[0]), out_write(out_pipe[1]);
  if (pipe2(err_pipe, O_CLOEXEC) != 0) return runtime_error("cannot create a pipe: " + errno_text(errno));
  UniqueFd err_read(err_pipe[0]), err_write(err_pipe[1]);

  SpawnSetup setup;
  if (!setup.attr_ok || !setup.actions_ok) return runtime_error("cannot set up posix_spawn");
  sigset_t none, all;
  sigemptyset(&none);
  sigfillset(&all);
  posix_spawnattr_setsigmask(&setup.attr, &none);
  posix_spawnattr_setsigdefault(&setup.attr, &all);
  posix_spawnattr_setpgroup(&setup.attr, 0);
  posix_spawnattr_setflags(&setup.attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP);
  // dup2 onto 0/1/2 clears close-on-exec there; the pipes' own ends close on exec.
  posix_spawn_file_actions_addopen(&setup.actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&setup.actions, out_write.get(), STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&setup.actions, err_write.get(), STDERR_FILENO);
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 34))
  // Descriptors the engine opened without O_CLOEXEC (libraries do) stay ours.
  posix_spawn_file_actions_addclosefrom_np(&setup.actions, STDERR_FILENO + 1);
#endif

  std::vector<std::string> argv_storage;
  argv_storage.reserve(command.args.size() + 1);
  argv_storage.push_back(command.program);
  argv_storage.insert(argv_storage.end(), command.args.begin(), command.args.end());
  std::vector<char*> argv, envp;
  for (auto& a : argv_storage) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<std::string> env_storage = command.env;
  for (auto& e : env_storage) envp.push_back(e.data());
  envp.push_back(nullptr);

  pid_t pid = -1;
  // glibc's posix_spawn reports a failed exec (ENOENT, EACCES, ENOEXEC) as its result.
  int rc = posix_spawn(&pid, command.program.c_str(), &setup.actions, &setup.attr, argv.data(), envp.data());
  if (rc != 0) return runtime_error("cannot run " + command.program + ": " + errno_text(rc));
  SpawnedChild child(pid);
  out_write.reset();
  err_write.reset();
  fcntl(out_read.get(), F_SETFL, O_NONBLOCK);
  fcntl(err_read.get(), F_SETFL, O_NONBLOCK);

  CommandOutcome outcome;
  bool out_open = true, err_open = true, overflow = false, reaped = false;
  auto too_much = [&] {
    return runtime_error(command.program + " printed more than " + std::to_string(command.max_stdout) + " bytes");
  };
  auto deadline = Clock::now() + std::chrono::milliseconds(command.timeout_ms);
  for (;;) {
    if (out_open || err_open) {
      pollfd fds[2] = {{out_open ? out_read.get() : -1, POLLIN, 0}, {err_open ? err_read.get() : -1, POLLIN, 0}};
      if (poll(fds, 2, 20) < 0 && errno != EINTR)
        return runtime_error("cannot wait for " + command.program + ": " + errno_text(errno));
      if (out_open) out_open = drain(out_read.get(), outcome.out, command.max_stdout, false, overflow);
      if (err_open) err_open = drain(err_read.get(), outcome.err_tail, command.stderr_tail, true, overflow);
      if (overflow) return too_much();
    } else {
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    if (child.try_reap(outcome.wait_status)) {
      // Everything the command wrote is in the pipes now. A helper it left
      // running may hold them open; do not wait for that one.
      if (out_open) drain(out_read.get(), outcome.out, command.max_stdout, false, overflow);
      if (err_open) drain(err_read.get(), outcome.err_tail, command.stderr_tail, true, overflow);
      if (overflow) return too_much();
      reaped = true;
      break;
    }
    if (Clock::now() >= deadline) break;
  }
  if (!reaped) {
    child.kill_group();
    child.wait_blocking();
    return runtime_error(command.program + " did not finish within " + std::to_string(command.timeout_ms) +
                         " ms and was killed");
  }
  return outcome;
}

}  // namespace kapture
