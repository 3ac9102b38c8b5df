#include "targets/ExistingKafkaTarget.h"

#include <spdlog/spdlog.h>

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
  if (missing.empty()) return std::nullopt;
  // Create what is missing with the Admin API.
  std::vector<rd_kafka_NewTopic_t*> topics;
  char err[512];
  for (const auto* t : missing) {
    rd_kafka_NewTopic_t* nt = rd_kafka_NewTopic_new(t->name.c_str(), t->partitions, t->replication_factor, err, sizeof err);
    if (!nt) {
      for (auto* x : topics) rd_kafka_NewTopic_destroy(x);
      return usage_error("topic " + t->name + ": " + err, t->where);
    }
    for (const auto& [k, v] : t->configs) rd_kafka_NewTopic_set_config(nt, k.c_str(), v.c_str());
    topics.push_back(nt);
  }
  rd_kafka_queue_t* q = rd_kafka_queue_new(client->get());
  rd_kafka_CreateTopics(client->get(), topics.data(), topics.size(), nullptr, q);
  rd_kafka_event_t* ev = rd_kafka_queue_poll(q, 30000);
  Status result;
  if (!ev) {
    result = unreachable_error("Kafka at " + bootstrap_ + ": CreateTopics timed out");
  } else {
    const rd_kafka_CreateTopics_result_t* res = rd_kafka_event_CreateTopics_result(ev);
    size_t n = 0;
    const rd_kafka_topic_result_t** results = res ? rd_kafka_CreateTopics_result_topics(res, &n) : nullptr;
    if (rd_kafka_event_error(ev)) {
      result = unreachable_error("Kafka at " + bootstrap_ + ": CreateTopics failed: " + rd_kafka_event_error_string(ev));
    }
    for (size_t i = 0; i < n && !result; ++i) {
      rd_kafka_resp_err_t e = rd_kafka_topic_result_error(results[i]);
      if (e && e != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS)
        result = unreachable_error(std::string("Kafka at ") + bootstrap_ + ": cannot create topic " + rd_kafka_topic_result_name(results[i]) +
                                   ": " + rd_kafka_topic_result_error_string(results[i]));
    }
    rd_kafka_event_destroy(ev);
  }
  rd_kafka_queue_destroy(q);
  for (auto* x : topics) rd_kafka_NewTopic_destroy(x);
  return result;
}

}  // namespace kapture
