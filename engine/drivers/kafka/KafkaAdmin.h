#pragma once
// Topic management through librdkafka's Admin API: create the scenario's
// topics (partitions, replication factor, configs) and add partitions.
#include <map>
#include <string>
#include <vector>

#include <librdkafka/rdkafka.h>

#include "common/Error.h"
#include "scenario/Scenario.h"

namespace kapture {

// Creates the topics; one that already exists is not an error. `endpoint`
// names the cluster in messages.
Status create_topics(rd_kafka_t* rk, const std::vector<const TopicSpec*>& topics, const std::string& endpoint);

// Topic -> the configs set on it, not defaults (min.insync.replicas=2, ...).
Result<std::map<std::string, std::map<std::string, std::string>>> describe_topic_configs(rd_kafka_t* rk,
                                                                                      const std::vector<std::string>& topics,
                                                                                      const std::string& endpoint);

// Deletes the topics; one that does not exist is not an error.
Status delete_topics(rd_kafka_t* rk, const std::vector<std::string>& topics, const std::string& endpoint);

// Grows `topic` to `total` partitions.
Status create_partitions(rd_kafka_t* rk, const std::string& topic, int total, const std::string& endpoint);

}  // namespace kapture
