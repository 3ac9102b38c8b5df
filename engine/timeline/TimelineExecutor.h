#pragma once
// Runs a Plan: phases in order, loads re-rated at each phase start, chaos
// steps injected and undone on time, `until` conditions checked each second.
// It knows steps, not drivers: workloads and the target do the work.
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <vector>

#include "metrics/MetricsStore.h"
#include "metrics/ProcessUsage.h"
#include "metrics/RunClock.h"
#include "plan/Plan.h"
#include "report/EventLog.h"
#include "targets/Target.h"
#include "timeline/ConsoleStatus.h"
#include "timeline/LiveStatus.h"
#include "timeline/RunRecord.h"
#include "timeline/UndoJournal.h"
#include "workloads/Workload.h"

namespace kapture {

struct ExecutorOptions {
  bool quiet = false;
  int drain_ms = 10000;                // how long stopped workloads wait for deliveries
  int64_t lua_stuck_limit_ms = 5000;  // watchdog for runaway Lua calls
  LiveStatus* live = nullptr;          // filled in each second for the status line and /metrics
  // How long after a whole second its checks run: once every recorder has
  // handed it over (a distributed run's workers ship theirs over Kafka
  // every 250 ms, so a second is complete at the coordinator later).
  int64_t check_delay_us = 100000;
};

class TimelineExecutor {
 public:
  TimelineExecutor(const Plan& plan, ChaosInjector& chaos, std::vector<Workload*> workloads, MetricsStore& metrics, EventLog& events,
                   UndoJournal& undo, const RunClock& clock, ExecutorOptions options);

  RunRecord run();
  // Thread-safe; called from the signal-handling thread.
  void interrupt();

 private:
  // Waits until run offset `us` or an interrupt; returns false if interrupted.
  bool wait_until(int64_t us);
  bool condition_holds(const SloExpression& e, int64_t to_second) const;
  // Every expression expectation over the seconds so far; the first
  // `abort: true` one violated ends the run.
  std::optional<RunRecord::Abort> check_expectations(const RunRecord& so_far);
  void sample_process(int64_t second);
  // Measures the benchmark step that just ended; false when the phase
  // should end here (the knee was found or max reached).
  bool benchmark_step(const PlannedPhase& phase, BenchmarkRecord& b, int64_t phase_start, int64_t now_us);
  // Sets a benchmark's step k (its rate, or its thread count).
  void benchmark_load(const BenchmarkSpec& spec, int k, int64_t now_us);
  std::optional<Error> check_workloads();

  const Plan& plan_;
  ChaosInjector& chaos_;
  std::vector<Workload*> workloads_;
  MetricsStore& metrics_;
  EventLog& events_;
  UndoJournal& undo_;
  const RunClock& clock_;
  ExecutorOptions options_;

  std::vector<bool> violated_;  // by expectation index: reported once
  int failing_ = 0;
  ProcessUsage process_;
  int64_t last_sampled_second_ = -1;
  ConsoleStatus console_;

  std::mutex mu_;
  std::condition_variable cv_;
  std::atomic<bool> interrupted_{false};
};

}  // namespace kapture
