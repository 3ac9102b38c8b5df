#pragma once
// Runs a short-lived command to completion, without a shell, and hands back
// what it printed: how the engine runs client-go credential plugins.
//
// The child gets /dev/null as stdin (plugins run non-interactively), its own
// process group (a plugin that forks helpers is killed as a whole on timeout),
// default signal dispositions and an empty signal mask (the engine blocks
// SIGINT/SIGTERM in its threads, which would otherwise survive exec), and no
// file descriptors of the engine besides its three standard ones.
#include <sys/types.h>

#include <cstddef>
#include <string>
#include <vector>

#include "common/Error.h"

namespace kapture {

struct CommandToRun {
  std::string program;             // absolute path
  std::vector<std::string> args;   // without argv[0]; argv[0] is `program`
  std::vector<std::string> env;    // the whole environment, "NAME=value"
  int timeout_ms = 60000;          // then the process group is killed
  size_t max_stdout = 4 << 20;     // more than this is an error
  size_t stderr_tail = 4096;       // the last bytes of stderr that are kept
};

struct CommandOutcome {
  int wait_status = 0;   // as waitpid reports it
  std::string out;       // all of stdout
  std::string err_tail;  // the end of stderr
  bool exited_ok() const;
};

// Errors: the program could not be started (the message says why, e.g. "No
// such file or directory"), it ran past the timeout, or it printed more than
// max_stdout. A non-zero exit is not an error here: the caller words it.
Result<CommandOutcome> run_captured(const CommandToRun& command);

// "exited with status 3", "was killed by signal 9 (SIGKILL)".
std::string describe_exit(int wait_status);

// The absolute path of an executable found the way Go's exec.LookPath finds
// it (client-go runs plugins through it): a name containing '/' is used as
// it is; any other is searched in the directories of `path_env`. Empty when
// nothing executable is there.
std::string look_path(const std::string& name, const std::string& path_env);

// The environment of this process, "NAME=value" each.
std::vector<std::string> process_environment();

}  // namespace kapture
