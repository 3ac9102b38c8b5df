#include "targets/KafkaNode.h"

#include <sys/wait.h>

#include <filesystem>
#include <fstream>
#include <random>

#include <nlohmann/json.hpp>

namespace kapture {

namespace {

std::string properties_text(const KafkaNodeConfig& c) {
  std::map<std::string, std::string> p;
  p["node.id"] = std::to_string(c.id);
  p["process.roles"] = c.controller ? "broker,controller" : "broker";
  p["controller.quorum.voters"] = c.voters;
  p["controller.listener.names"] = "CONTROLLER";
  p["inter.broker.listener.name"] = "PLAINTEXT";
  p["listener.security.protocol.map"] = "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT";
  std::string plain = "PLAINTEXT://127.0.0.1:" + std::to_string(c.port);
  p["listeners"] = c.controller ? plain + ",CONTROLLER://127.0.0.1:" + std::to_string(c.controller_port) : plain;
  p["advertised.listeners"] = plain;
  p["log.dirs"] = c.dir + "/data";
  std::string rf = std::to_string(c.internal_replication);
  p["offsets.topic.replication.factor"] = rf;
  p["transaction.state.log.replication.factor"] = rf;
  p["transaction.state.log.min.isr"] = std::to_string(std::min(2, c.internal_replication));
  p["group.initial.rebalance.delay.ms"] = "0";
  // Notice a killed or paused broker in seconds, not the default 9 s, so
  // leadership moves while the chaos step is still on.
  p["broker.heartbeat.interval.ms"] = "500";
  p["broker.session.timeout.ms"] = "3000";
  p["replica.lag.time.max.ms"] = "5000";
  for (const auto& [k, v] : c.overrides) p[k] = v;
  std::string out = "# written by kapture-engine for the local target\n";
  for (const auto& [k, v] : p) out += k + "=" + v + "\n";
  return out;
}

}  // namespace

Status KafkaNode::begin_format(const std::string& cluster_id) {
  std::error_code ec;
  std::filesystem::create_directories(config_.dir + "/data", ec);
  if (ec) return runtime_error("cannot create " + config_.dir + ": " + ec.message());
  std::ofstream(config_.dir + "/server.properties") << properties_text(config_);
  return format_.start({dist_.java, "-Xmx256m", "-cp", dist_.classpath(), "-Dlog4j2.configurationFile=" + dist_.log_config(),
                        "kafka.tools.StorageTool", "format", "--cluster-id=" + cluster_id, "-c", config_.dir + "/server.properties",
                        "--ignore-formatted"},
                       config_.dir + "/format.log");
}

Status KafkaNode::wait_formatted() {
  auto status = format_.wait_exit(120000);
  if (!status) return status.error();
  if (WIFEXITED(*status) && WEXITSTATUS(*status) == 0) return std::nullopt;
  std::string msg = "formatting the storage of Kafka node " + std::to_string(config_.id) + " " + describe_wait_status(*status);
  msg += " (log: " + config_.dir + "/format.log)";
  std::string tail = tail_of_file(config_.dir + "/format.log");
  if (!tail.empty()) msg += ":\n" + tail;
  return unreachable_error(msg);
}

Status KafkaNode::start() {
  // The flags kafka-server-start.sh uses, with a small heap: a few brokers
  // share this machine with the load generator.
  return process_.start({dist_.java, "-Xms256m", "-Xmx768m", "-server", "-XX:+UseG1GC", "-XX:MaxGCPauseMillis=20",
                         "-XX:InitiatingHeapOccupancyPercent=35", "-XX:+ExplicitGCInvokesConcurrent", "-Djava.awt.headless=true",
                         "-Dlog4j2.configurationFile=" + dist_.log_config(), "-cp", dist_.classpath(), "kafka.Kafka",
                         config_.dir + "/server.properties"},
                        log_file());
}

std::pair<int, int> KafkaNode::quorum_leader() const {
  std::ifstream in(config_.dir + "/data/__cluster_metadata-0/quorum-state");
  if (!in) return {-1, -1};
  auto j = nlohmann::json::parse(in, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return {-1, -1};
  return {j.value("leaderId", -1), j.value("leaderEpoch", -1)};
}

std::string new_kafka_cluster_id() {
  static const char* alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::random_device rng;
  unsigned char b[16];
  for (auto& x : b) x = static_cast<unsigned char>(rng());
  // Like Kafka's Uuid.randomUuid(): an id starting with '-' reads as an
  // option to kafka-storage (and to people), so the first character is
  // kept out of "-" and "_" by clearing one bit of its 6-bit index (one run
  // in 64 failed to format before).
  b[0] &= 0xF7;
  std::string out;
  for (int i = 0; i < 16; i += 3) {
    uint32_t v = static_cast<uint32_t>(b[i]) << 16;
    if (i + 1 < 16) v |= static_cast<uint32_t>(b[i + 1]) << 8;
    if (i + 2 < 16) v |= b[i + 2];
    int chars = i + 2 < 16 ? 4 : (i + 1 < 16 ? 3 : 2);
    for (int k = 0; k < chars; ++k) out += alphabet[(v >> (18 - 6 * k)) & 63];
  }
  return out;  // 22 characters
}

}  // namespace kapture
