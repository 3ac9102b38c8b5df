#pragma once
// RAII for librdkafka handles and a small helper for configuration errors.
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <librdkafka/rdkafka.h>

#include "common/Error.h"

namespace kapture {

struct KafkaDeleter {
  void operator()(rd_kafka_t* rk) const { rd_kafka_destroy(rk); }
  void operator()(rd_kafka_conf_t* c) const { rd_kafka_conf_destroy(c); }
  void operator()(rd_kafka_topic_t* t) const { rd_kafka_topic_destroy(t); }
  void operator()(const rd_kafka_metadata_t* m) const { rd_kafka_metadata_destroy(m); }
};
using KafkaHandle = std::unique_ptr<rd_kafka_t, KafkaDeleter>;
using KafkaConf = std::unique_ptr<rd_kafka_conf_t, KafkaDeleter>;
using KafkaMetadata = std::unique_ptr<const rd_kafka_metadata_t, KafkaDeleter>;

// Sets every property; the first one librdkafka rejects becomes the error
// (naming the property, as the user wrote it).
Status set_kafka_properties(rd_kafka_conf_t* conf, const std::map<std::string, std::string>& props);

// A plain producer handle for metadata look-ups and similar one-off calls.
Result<KafkaHandle> make_kafka_client(const std::string& bootstrap, const std::map<std::string, std::string>& props);

// What a metadata request says about the cluster: live brokers, and per
// partition its leader (-1: none), replicas and in-sync replicas. Used for
// leader_of chaos targets, before/after snapshots and health gauges.
using TopicPartition = std::pair<std::string, int>;
struct PartitionLeaders {
  std::vector<int> brokers;  // the brokers the cluster reports alive
  std::map<TopicPartition, int> leader;
  std::map<TopicPartition, std::vector<int>> replicas;
  std::map<TopicPartition, std::vector<int>> isr;
};
Result<PartitionLeaders> fetch_partition_leaders(rd_kafka_t* rk, int timeout_ms);

// The current leader of topic/partition; an error if it has none or the
// cluster does not know the partition.
Result<int> fetch_partition_leader(rd_kafka_t* rk, const std::string& topic, int partition);

}  // namespace kapture
