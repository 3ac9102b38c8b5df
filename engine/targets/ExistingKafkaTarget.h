#pragma once
// A Kafka the user already runs (--kafka HOST:PORT). The engine only
// produces to it and creates missing topics; it cannot take brokers down, so
// chaos steps are refused by validation.
#include "drivers/kafka/KafkaHandles.h"
#include "targets/Target.h"

namespace kapture {

class ExistingKafkaTarget : public Target {
 public:
  ExistingKafkaTarget(std::string bootstrap, std::map<std::string, std::string> properties)
      : bootstrap_(std::move(bootstrap)), properties_(std::move(properties)) {}
  std::string name() const override { return "existing Kafka at " + bootstrap_; }
  std::vector<ChaosVerb> chaos_verbs() const override { return {}; }
  Status start(const Scenario& scenario) override;
  std::string kafka_bootstrap() const override { return bootstrap_; }
  std::map<std::string, std::string> kafka_properties() const override { return properties_; }
  Result<ChaosInjection> inject(const ChaosAction&) override {
    return usage_error("chaos needs control over the brokers; an existing cluster given with --kafka has none");
  }
  void stop() override {}

 private:
  std::string bootstrap_;
  std::map<std::string, std::string> properties_;
};

}  // namespace kapture
