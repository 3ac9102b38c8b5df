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

// Partition -> leader broker id, for leader_of chaos targets and reports.
struct PartitionLeaders {
  std::map<std::pair<std::string, int>, int> leader;
  std::map<std::pair<std::string, int>, std::vector<int>> replicas;
};
Result<PartitionLeaders> fetch_partition_leaders(rd_kafka_t* rk, int timeout_ms);

}  // namespace kapture
