#pragma once
// A store the engine runs as a child process for a run (redis-server,
// PostgreSQL): what chaos steps do to it is the same for both.
#include <string>

#include "common/Error.h"

namespace kapture {

class StoreServer {
 public:
  virtual ~StoreServer() = default;
  virtual Status start(int ready_timeout_ms) = 0;
  virtual std::string url() const = 0;
  virtual Status kill_hard() = 0;                    // SIGKILL; restart() brings it back
  virtual Status restart(int ready_timeout_ms) = 0;  // same port and data; waits until ready
  virtual Status pause() = 0;                        // SIGSTOP (the whole process tree)
  virtual Status resume() = 0;                       // SIGCONT
  virtual void stop() = 0;
};

}  // namespace kapture
