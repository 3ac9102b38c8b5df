#pragma once
// kube-watch: `observers` list+watch clients of one resource in one
// namespace (a label selector: by default this run's objects). Each lists
// (kube.list_latency), then watches from the list's resourceVersion; for
// each ADDED or MODIFIED notification after that list carrying a
// kapture.io/sent-us it records kube.watch_latency = arrival (wall clock)
// minus that send time, once per object and send time. It counts
// notifications by type, duplicates (a uid at a resourceVersion it had
// already seen, or older), relists and restarts; with `restart` each watch
// ends after a random time in [min, max] (seeded per observer) and resumes
// from the last resourceVersion it saw. stop() first waits (up to its drain)
// until every observer has seen every object the `observes` workloads
// created; each one an observer never saw counts in kube.watch_missed.
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "drivers/kube/KubeClient.h"
#include "workloads/KubeMetrics.h"
#include "workloads/KubeWorkloadContext.h"
#include "workloads/Workload.h"

namespace kapture {

// A resourceVersion as a number (etcd's revision), or -1 when it is not
// one: resourceVersions are opaque to clients, and only compared when both
// are numbers.
int64_t kube_resource_version_number(const std::string& rv);

class KubeWatchWorkload : public Workload {
 public:
  KubeWatchWorkload(const KubeWatchWorkloadSpec& spec, KubeWorkloadContext ctx, std::vector<const KubeObjectSource*> observes);
  ~KubeWatchWorkload() override;
  const std::string& name() const override { return spec_.name; }
  // Returns once every observer has made its first list (so objects
  // created from then on arrive as notifications); fails when one cannot.
  Status start() override;
  void set_load(const LoadSpec&, int64_t, int64_t) override {}
  void stop(int drain_ms) override;
  std::optional<Error> failure() const override { return std::nullopt; }
  int64_t stuck_in_lua_ms() const override { return 0; }

 private:
  struct Observer;
  void run(Observer& o);
  void on_event(Observer& o, const KubeWatchEvent& ev);
  void saw_list(Observer& o, const nlohmann::json& list);
  void tick(int64_t now_us);
  void halt();

  KubeWatchWorkloadSpec spec_;
  KubeWorkloadContext ctx_;
  std::vector<const KubeObjectSource*> observes_;
  KubeResourceType type_;
  std::string namespace_;
  std::string selector_;
  std::unique_ptr<KubeMetrics> metrics_;
  std::vector<std::unique_ptr<Observer>> observers_;
  std::atomic<bool> stopping_{false};
  std::atomic<int> logged_{0};
  bool started_ = false;
  bool stopped_ = false;

  std::mutex ready_mu_;
  std::condition_variable ready_cv_;
  int ready_ = 0;  // observers that listed (or failed to)
};

}  // namespace kapture
