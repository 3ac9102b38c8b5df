#pragma once
// Kafka as librdkafka's in-process mock cluster: real TCP listeners on
// loopback, no installed servers. Broker down and round-trip delay are
// injected through rdkafka_mock.h.
#include <memory>
#include <mutex>
#include <set>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include "drivers/kafka/KafkaHandles.h"
#include "targets/Target.h"

namespace kapture {

class EmbeddedTarget : public Target {
 public:
  EmbeddedTarget() = default;
  ~EmbeddedTarget() override;
  std::string name() const override { return "embedded"; }
  std::vector<ChaosVerb> chaos_verbs() const override { return {ChaosVerb::BrokerDown, ChaosVerb::BrokerDelay}; }
  bool has_admin_api() const override { return false; }
  Status start(const Scenario& scenario) override;
  std::string kafka_bootstrap() const override { return bootstrap_; }
  std::map<std::string, std::string> kafka_properties() const override { return {}; }
  Result<ChaosInjection> inject(const ChaosAction& action) override;
  void stop() override;

 private:
  Result<ChaosInjection> broker_down(int broker);
  Result<ChaosInjection> broker_delay(int broker, int64_t delay_us);
  Result<int> resolve_broker(const BrokerChoice& choice);

  KafkaHandle owner_;  // the handle the mock cluster lives in
  rd_kafka_mock_cluster_t* cluster_ = nullptr;
  KafkaHandle metadata_client_;
  std::string bootstrap_;
  int brokers_ = 0;
  std::mutex mu_;
  std::set<int> down_;
};

}  // namespace kapture
