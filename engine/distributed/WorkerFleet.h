#pragma once
// The coordinator's side of distributed load: creates the run's topic,
// launches the workers, holds the barrier (every worker ready on the
// coordinator's clock before the first phase), forwards each load the
// timeline sets, merges what the workers measured into the coordinator's
// MetricsStore as it arrives (counters added, histograms merged bucket by
// bucket: expectations read the whole load, exactly), and notices a worker
// that failed, ended early or fell silent: the run then stops with an error
// instead of judging the load the others carried.
#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/Error.h"
#include "distributed/RunTopic.h"
#include "distributed/WorkerLauncher.h"
#include "etl/Ledger.h"
#include "metrics/MetricsStore.h"
#include "metrics/RunClock.h"
#include "report/EventLog.h"

namespace kapture {

struct FleetOptions {
  int ready_timeout_ms = 120000;  // launch to barrier
  // A worker not heard from for this long is lost: long enough for the run
  // topic's leadership to move when chaos takes its broker away.
  int silence_limit_ms = 20000;
};

class WorkerFleet {
 public:
  WorkerFleet(WorkerLauncher& launcher, MetricsStore& metrics, EventLog& events, FleetOptions options);
  ~WorkerFleet();

  // Creates the topic and starts the workers; they wait for start().
  Status launch(const WorkerLaunch& launch);
  // Sends the clock's epoch and waits until every worker is ready on it.
  Status start(const RunClock& clock, const std::function<bool()>& interrupted);
  void set_load(const std::string& workload, const LoadSpec& load, int64_t start_us, int64_t duration_us);
  // Stops every worker and waits for its last measurements and ledger (once;
  // later calls return at once).
  void stop(int drain_ms);
  // A worker that failed, ended before its work was done, or fell silent.
  std::optional<Error> failure();
  // After stop(): the union of every worker's ledger of `workload`.
  AckLedger ledger(const std::string& workload) const;
  // For summary.json: how many, and each worker's state.
  nlohmann::json to_json() const;
  int workers() const { return static_cast<int>(state_.size()); }

 private:
  struct WorkerState {
    bool ready = false, done = false;
    int64_t last_heard_ms = 0;  // steady clock
    int64_t ledger_chunks = 0;  // received
    int64_t seconds_received = 0;
    std::string failed;         // its own report
    bool failed_usage = false;  // ... of a scenario or Lua error
    std::string ended;          // the launcher's: how it ended
    int64_t ended_at_ms = 0;    // when the launcher said so
  };
  struct Lost {
    int index;
    std::string why;
  };
  // How long a worker that ended without `done` has for its last messages
  // (a failure report, its ledger) to be read before it counts as lost.
  static constexpr int64_t kEndedGraceMs = 3000;

  void read_loop();
  void handle(const RunMessage& m);
  bool all(bool WorkerState::*flag) const;
  // These three with mu_ held.
  void note_ended(const std::vector<EndedWorker>& ended);
  std::optional<Lost> first_lost() const;
  std::optional<Error> reported_failure() const;
  // These without: lost() may ask the Kubernetes API about a pod.
  Error lost(int index, const std::string& why);
  void record_failure(const Error& e);

  WorkerLauncher& launcher_;
  MetricsStore& metrics_;
  EventLog& events_;
  FleetOptions options_;
  WorkerLaunch launch_;
  const RunClock* clock_ = nullptr;
  std::unique_ptr<RunTopic> topic_;
  std::thread reader_;
  std::atomic<bool> stopping_reader_{false};
  bool launched_ = false;  // every worker was started
  bool stopped_ = false;

  mutable std::mutex mu_;
  std::vector<WorkerState> state_;
  std::map<std::string, AckLedger> ledgers_;
  std::optional<Error> failure_;
};

}  // namespace kapture
