#pragma once
// One Apache Kafka process in KRaft mode on loopback: a combined
// broker+controller (the first nodes of a local cluster, which form the
// quorum) or a broker only (nodes beyond the quorum, and brokers added by a
// scale step). Its own data directory, properties file and log file.
#include <map>
#include <string>

#include "targets/ChildProcess.h"
#include "targets/KafkaDistribution.h"

namespace kapture {

struct KafkaNodeConfig {
  int id = 1;
  bool controller = true;
  int port = 0;             // PLAINTEXT listener
  int controller_port = 0;  // CONTROLLER listener (controllers only)
  std::string voters;       // controller.quorum.voters: "1@127.0.0.1:P,..."
  std::string dir;          // the node's directory: config, data/, server.log
  int internal_replication = 1;  // __consumer_offsets and transaction log replication
  std::map<std::string, std::string> overrides;  // broker properties from the scenario
};

class KafkaNode {
 public:
  KafkaNode(const KafkaDistribution& dist, KafkaNodeConfig config) : dist_(dist), config_(std::move(config)) {}

  // Writes server.properties and starts the storage format tool; finish with
  // wait_formatted() (formats of several nodes run side by side).
  Status begin_format(const std::string& cluster_id);
  Status wait_formatted();
  Status start();  // does not wait: the target waits for the cluster

  int id() const { return config_.id; }
  bool controller() const { return config_.controller; }
  std::string bootstrap() const { return "127.0.0.1:" + std::to_string(config_.port); }
  std::string log_file() const { return config_.dir + "/server.log"; }
  ChildProcess& process() { return process_; }

  // The quorum leader and epoch this controller last persisted, from its
  // quorum-state file; {-1, -1} when unknown.
  std::pair<int, int> quorum_leader() const;

 private:
  const KafkaDistribution& dist_;
  KafkaNodeConfig config_;
  ChildProcess format_;
  ChildProcess process_;
};

// A KRaft cluster id: 16 random bytes, base64url without padding (what
// `kafka-storage random-uuid` prints).
std::string new_kafka_cluster_id();

}  // namespace kapture
