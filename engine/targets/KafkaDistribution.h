#pragma once
// Where Apache Kafka's jars are: KAPTURE_KAFKA_HOME, else the cache that
// scripts/fetch-kafka fills from Maven Central (~/.cache/kapture/kafka-V),
// fetched on demand the first time the local target needs it.
#include <string>

#include "common/Error.h"

namespace kapture {

struct KafkaDistribution {
  std::string java;        // absolute path of the java binary
  std::string home;        // holds libs/ (the classpath) and log4j2.yaml
  std::string classpath() const { return home + "/libs/*"; }
  std::string log_config() const { return home + "/log4j2.yaml"; }
};

Result<KafkaDistribution> find_kafka_distribution();

}  // namespace kapture
