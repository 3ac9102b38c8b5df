#pragma once
// kube-churn: objects created open loop at the phases' rates (an absolute
// arrival schedule, constant or Poisson, each of `connections` threads
// taking its share), each deleted `lifetime` after its create was due
// (lifetime = population / rate with `population`), the requests spread
// over the threads (one request in flight each, a client of its own per API
// server) and round-robin over the API servers. stop() stops creating and
// deletes every object still alive, so a run leaves nothing behind.
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "workloads/KubeMetrics.h"
#include "workloads/KubeObjectFactory.h"
#include "workloads/KubeWorkloadContext.h"
#include "workloads/PhaseLoad.h"
#include "workloads/Workload.h"

namespace kapture {

// The rate (per second) `load` asks for at run offset t: its rate, or a
// ramp's at t; nothing at max.
std::optional<double> kube_load_rate_at(const LoadSpec& load, int64_t start_us, int64_t duration_us, int64_t t_us);

// How long an object whose create was due at `intended_us` lives:
// `lifetime_us` when given, else population / (the rate at that time).
// Nothing when that is unbounded (a rate of 0, or max with a population:
// then the oldest objects go once more than the population are alive).
std::optional<int64_t> kube_churn_lifetime_us(int64_t lifetime_us, int64_t population, const LoadSpec& load, int64_t start_us,
                                              int64_t duration_us, int64_t intended_us);

// When that object is deleted: `lifetime` after its create was due (not
// after it was answered: a slow create does not stretch the population).
inline int64_t kube_churn_delete_due_us(int64_t intended_us, int64_t lifetime_us) { return intended_us + lifetime_us; }

class KubeChurnWorkload : public Workload, public KubeObjectSource {
 public:
  KubeChurnWorkload(const KubeChurnWorkloadSpec& spec, KubeWorkloadContext ctx);
  ~KubeChurnWorkload() override;
  const std::string& name() const override { return spec_.name; }
  Status start() override;
  void set_load(const LoadSpec& load, int64_t start_us, int64_t duration_us) override;
  void stop(int drain_ms) override;
  std::optional<Error> failure() const override { return std::nullopt; }
  int64_t stuck_in_lua_ms() const override { return 0; }
  std::vector<std::string> created_objects() const override;

 private:
  struct Worker;
  void run(Worker& w);
  KubeClient& client(Worker& w);

  KubeChurnWorkloadSpec spec_;
  KubeWorkloadContext ctx_;
  std::unique_ptr<KubeObjectFactory> factory_;
  std::unique_ptr<KubeMetrics> metrics_;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::atomic<int64_t> next_seq_{0};
  std::atomic<int> logged_{0};
  bool stopped_ = false;

  PhaseLoad load_;
  CreatedNames created_;
};

}  // namespace kapture
