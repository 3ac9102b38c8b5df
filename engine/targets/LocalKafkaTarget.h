#pragma once
// Real Apache Kafka brokers (KRaft) as child processes on loopback: the
// `local` target. The first three nodes (fewer in smaller clusters) are
// combined broker+controllers forming the quorum; the rest, and brokers a
// scale step adds, are brokers only. Chaos acts on the processes: SIGKILL and
// restart (broker-kill, broker-down), SIGSTOP/SIGCONT (broker-pause), graceful
// SIGTERM and start again (broker-stop). Everything is stopped and removed at
// the end, also on errors and SIGINT.
#include <memory>
#include <set>
#include <vector>

#include "drivers/kafka/KafkaHandles.h"
#include "targets/KafkaDistribution.h"
#include "targets/KafkaNode.h"
#include "targets/Target.h"

namespace kapture {

class LocalKafkaTarget : public Target {
 public:
  LocalKafkaTarget() = default;
  ~LocalKafkaTarget() override;
  std::string name() const override { return "local"; }
  std::vector<ChaosVerb> chaos_verbs() const override {
    return {ChaosVerb::BrokerDown, ChaosVerb::BrokerKill,  ChaosVerb::BrokerPause,
            ChaosVerb::BrokerStop, ChaosVerb::AddBrokers, ChaosVerb::AddPartitions};
  }
  bool can_target_controller() const override { return true; }
  Status start(const Scenario& scenario) override;
  std::string kafka_bootstrap() const override { return bootstrap_; }
  std::map<std::string, std::string> kafka_properties() const override { return {}; }
  Result<ChaosInjection> inject(const ChaosAction& action) override;
  void stop() override;

 private:
  Status start_nodes(size_t first, int timeout_ms);  // starts nodes_[first..] and waits until all are in the metadata
  Result<int> resolve_broker(const BrokerChoice& choice);
  KafkaNode* node(int id);
  Result<ChaosInjection> take_out(int broker, ChaosVerb verb);
  Result<ChaosInjection> add_brokers(int count);
  Result<ChaosInjection> add_partitions(const std::string& topic, int total);
  Status wait_for(const std::string& what, int timeout_ms, const std::function<bool(const PartitionLeaders&)>& done);

  KafkaDistribution dist_;
  std::string dir_;        // /tmp/kapture-kafka.XXXXXX
  std::string cluster_id_;
  std::string voters_;
  int internal_replication_ = 1;
  std::vector<std::unique_ptr<KafkaNode>> nodes_;
  std::string bootstrap_;
  KafkaHandle admin_;
  std::set<int> out_;  // brokers taken out of service and not yet back
};

}  // namespace kapture
