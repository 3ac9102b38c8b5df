#pragma once
// type: sse: `connections` readers of one event stream (the webapp's GET
// /api/topics/{topic}), each on its own thread, each expected to see every
// message. Per message: the delivery delay (arrival minus the send time the
// message carries, both on this run's clock). At the end, with `verifies`,
// which messages the http workload had acknowledged (2xx) never arrived
// (sse.lost) or arrived twice at different positions (sse.duplicates): the
// chaos hands-on's "no chat message lost while brokers die", proven.
#include <atomic>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "metrics/MetricsStore.h"
#include "metrics/RunClock.h"
#include "workloads/HttpWorkload.h"
#include "workloads/Workload.h"

namespace kapture {

struct SseContext {
  const RunClock* clock = nullptr;
  MetricsStore* metrics = nullptr;
  const HttpWorkload* verifies = nullptr;  // stopped before this one
};

class SseWorkload : public Workload {
 public:
  SseWorkload(const SseWorkloadSpec& spec, SseContext ctx);
  ~SseWorkload() override;
  const std::string& name() const override { return spec_.name; }
  // Returns once every reader is connected (or with the first one's error).
  Status start() override;
  void set_load(const LoadSpec&, int64_t, int64_t) override {}  // reads whatever arrives
  // Waits up to `drain_ms` for every acknowledged message, then stops.
  void stop(int drain_ms) override;
  // Readers reconnect rather than fail (sse.reconnects counts it).
  std::optional<Error> failure() const override { return std::nullopt; }
  int64_t stuck_in_lua_ms() const override { return 0; }

 private:
  struct Reader;
  void run(Reader& r);
  // Acknowledged ids some reader has not seen (all of them when `ids` is empty).
  std::vector<int64_t> missing(const std::vector<int64_t>& acked) const;
  void verify(const std::vector<int64_t>& acked);

  const SseWorkloadSpec& spec_;
  SseContext ctx_;
  std::vector<std::unique_ptr<Reader>> readers_;
  std::atomic<bool> stopping_{false};
  bool stopped_ = false;
};

}  // namespace kapture
