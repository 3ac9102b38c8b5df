#include "drivers/kafka/KafkaHandles.h"

#include <algorithm>

#include "common/Redact.h"

namespace kapture {

Status set_kafka_properties(rd_kafka_conf_t* conf, const std::map<std::string, std::string>& props) {
  char err[512];
  for (const auto& [k, v] : props) {
    if (rd_kafka_conf_set(conf, k.c_str(), v.c_str(), err, sizeof err) != RD_KAFKA_CONF_OK)
      return usage_error("Kafka property " + k + "=" + (is_secret_name(k) ? std::string(kRedacted) : v) + ": " + redact(err));
  }
  return std::nullopt;
}

Result<KafkaHandle> make_kafka_client(const std::string& bootstrap, const std::map<std::string, std::string>& props) {
  KafkaConf conf(rd_kafka_conf_new());
  std::map<std::string, std::string> all = props;
  all["bootstrap.servers"] = bootstrap;
  all.emplace("log_level", "3");
  if (auto err = set_kafka_properties(conf.get(), all)) return *err;
  char errstr[512];
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf.get(), errstr, sizeof errstr);
  if (!rk) return unreachable_error(std::string("cannot create a Kafka client: ") + errstr);
  conf.release();  // owned by rk now
  return KafkaHandle(rk);
}

Result<PartitionLeaders> fetch_partition_leaders(rd_kafka_t* rk, int timeout_ms) {
  const rd_kafka_metadata_t* md = nullptr;
  rd_kafka_resp_err_t err = rd_kafka_metadata(rk, 1, nullptr, &md, timeout_ms);
  if (err) return unreachable_error(std::string("Kafka metadata request failed: ") + rd_kafka_err2str(err));
  KafkaMetadata guard(md);
  PartitionLeaders out;
  for (int b = 0; b < md->broker_cnt; ++b) out.brokers.push_back(md->brokers[b].id);
  std::sort(out.brokers.begin(), out.brokers.end());
  for (int t = 0; t < md->topic_cnt; ++t) {
    const auto& topic = md->topics[t];
    if (topic.err) continue;
    for (int p = 0; p < topic.partition_cnt; ++p) {
      const auto& part = topic.partitions[p];
      auto key = std::make_pair(std::string(topic.topic), static_cast<int>(part.id));
      out.leader[key] = part.leader;
      out.replicas[key] = std::vector<int>(part.replicas, part.replicas + part.replica_cnt);
      out.isr[key] = std::vector<int>(part.isrs, part.isrs + part.isr_cnt);
    }
  }
  return out;
}

Result<int> fetch_partition_leader(rd_kafka_t* rk, const std::string& topic, int partition) {
  auto leaders = fetch_partition_leaders(rk, 5000);
  if (!leaders) return leaders.error();
  std::string name = topic + "/" + std::to_string(partition);
  auto it = leaders->leader.find({topic, partition});
  if (it == leaders->leader.end()) return runtime_error("no partition " + name + " in the cluster's metadata");
  if (it->second < 0) return runtime_error(name + " has no leader right now");
  return it->second;
}

}  // namespace kapture
