#include "targets/ExistingKafkaTarget.h"

#include "drivers/kafka/KafkaAdmin.h"

namespace kapture {

Status ExistingKafkaTarget::start(const Scenario& scenario) {
  auto client = make_kafka_client(bootstrap_, properties_);
  if (!client) return client.error();
  auto leaders = fetch_partition_leaders(client->get(), 10000);
  if (!leaders) return unreachable_error("Kafka at " + bootstrap_ + " did not answer: " + leaders.error().message);
  std::vector<const TopicSpec*> missing;
  for (const auto& t : scenario.kafka.topics) {
    bool found = false;
    for (const auto& [tp, leader] : leaders->leader)
      if (tp.first == t.name) found = true;
    if (!found) missing.push_back(&t);
  }
  return create_topics(client->get(), missing, bootstrap_);
}

}  // namespace kapture
