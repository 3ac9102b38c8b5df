#pragma once
// Watches the Kafka cluster through metadata requests while the timeline
// runs, on any target: every second the gauges kafka.brokers,
// kafka.under_replicated and kafka.offline_partitions; after a broker is taken
// out of service, the time until every partition it led has a live leader
// again (kafka.leader_recovery, with a before/after snapshot of leaders and
// ISRs in events.jsonl), and after it is back, the time until no partition is
// under-replicated (kafka.isr_recovery). Every poll also counts partitions
// whose leader moved to another broker (kafka.leader_changes), whatever the
// cause: the chaos hands-on's "watch partition leadership move".
#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "drivers/kafka/KafkaHandles.h"
#include "metrics/MetricsStore.h"
#include "metrics/RunClock.h"
#include "report/EventLog.h"

namespace kapture {

class ClusterObserver {
 public:
  ClusterObserver(MetricsStore& metrics, EventLog& events, const RunClock& clock) : metrics_(metrics), events_(events), clock_(clock) {}
  ~ClusterObserver() { stop(); }
  ClusterObserver(const ClusterObserver&) = delete;
  ClusterObserver& operator=(const ClusterObserver&) = delete;

  Status start(const std::string& bootstrap, const std::map<std::string, std::string>& properties);
  void stop();

  // A fresh snapshot (blocking metadata request), taken just before a fault.
  std::optional<PartitionLeaders> snapshot();
  // `broker` went out of service at `at_us`; `before` is the snapshot taken
  // just before. The observer reports when leadership has moved off it.
  void out_of_service(int broker, int64_t at_us, std::optional<PartitionLeaders> before);
  // `broker` is back (restarted, resumed); reports when replicas are in sync.
  void back_in_service(int broker, int64_t at_us);

  static nlohmann::json snapshot_json(const PartitionLeaders& s);
  // What the run starts on: live brokers, and per topic its partitions,
  // replication factor and the configs set on it (where the cluster has an
  // Admin API: not the embedded mock).
  nlohmann::json describe(const std::vector<std::string>& topics, bool with_configs);

 private:
  struct Outage {
    int broker = 0;
    int64_t since_us = 0;
    std::optional<PartitionLeaders> before;
    bool leaders_recovered = false;
  };
  struct Return {
    int broker = 0;
    int64_t since_us = 0;
  };

  void loop();
  void examine(const PartitionLeaders& now, int64_t now_us);

  MetricsStore& metrics_;
  EventLog& events_;
  const RunClock& clock_;
  KafkaHandle client_;
  std::thread thread_;
  std::mutex mu_;  // guards outages_, returns_, stop_ (librdkafka handles are thread-safe)
  std::condition_variable cv_;
  bool stop_ = false;
  std::vector<Outage> outages_;
  std::vector<Return> returns_;
  int64_t last_gauge_second_ = -1;
  std::map<TopicPartition, int> last_leader_;  // the last live leader seen per partition
};

}  // namespace kapture
