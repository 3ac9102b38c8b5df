#pragma once
// type: http: requests to one URL through libcurl's multi interface, on
// `threads` threads each with its own multi handle, share of the connection
// pool, Lua states and recorder. Open loop at the phases' rates (latency
// from the intended send time, as wrk2 measures), or a closed loop of
// `concurrency` requests in flight until `requests` are done (ab's -c/-n).
#include <atomic>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "metrics/MetricsStore.h"
#include "metrics/RunClock.h"
#include "workloads/Workload.h"

namespace kapture {

struct HttpContext {
  uint64_t seed = 0;
  const RunClock* clock = nullptr;
  MetricsStore* metrics = nullptr;
};

class HttpWorkload : public Workload {
 public:
  HttpWorkload(const HttpWorkloadSpec& spec, HttpContext ctx);
  ~HttpWorkload() override;
  const std::string& name() const override { return spec_.name; }
  Status start() override;
  void set_load(const LoadSpec& load, int64_t start_us, int64_t duration_us) override;
  void stop(int drain_ms) override;
  std::optional<Error> failure() const override;
  int64_t stuck_in_lua_ms() const override;
  // The seq of every request answered 2xx (spec.keep_acked_ids), sorted;
  // complete once stop() returned.
  std::vector<int64_t> acked_ids() const;

 private:
  struct Worker;
  void run(Worker& w);
  void fail(const Error& e);

  const HttpWorkloadSpec& spec_;
  HttpContext ctx_;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::atomic<bool> stopping_{false};
  std::atomic<int> drain_ms_{10000};

  mutable std::mutex mu_;
  LoadSpec load_;
  int64_t load_start_us_ = 0;
  int64_t load_duration_us_ = 0;
  std::atomic<uint64_t> load_version_{0};
  std::optional<Error> failure_;
};

}  // namespace kapture
