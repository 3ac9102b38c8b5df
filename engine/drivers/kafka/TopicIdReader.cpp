#include "drivers/kafka/TopicIdReader.h"

#include <algorithm>
#include <chrono>
#include <memory>
#include <random>

#include "drivers/kafka/ConsumedValue.h"
#include "drivers/kafka/KafkaHandles.h"
#include "workloads/JsonTopLevelScan.h"

namespace kapture {

namespace {

struct PartitionListDeleter {
  void operator()(rd_kafka_topic_partition_list_t* l) const { rd_kafka_topic_partition_list_destroy(l); }
};
struct MessageDeleter {
  void operator()(rd_kafka_message_t* m) const { destroy_consumed(m); }
};
// A consumer leaves cleanly before its handle is destroyed.
struct ConsumerClose {
  rd_kafka_t* rk;
  ~ConsumerClose() { rd_kafka_consumer_close(rk); }
};

}  // namespace

Result<TopicIds> read_topic_ids(const std::string& bootstrap, const std::map<std::string, std::string>& properties,
                                const std::vector<std::string>& topics, int timeout_ms, uint64_t seq_limit) {
  std::map<std::string, std::string> props = properties;
  props["bootstrap.servers"] = bootstrap;
  // A group id is required by the consumer API; nothing is committed under it.
  props["group.id"] = "kapture-ledger-" + std::to_string(std::random_device{}());
  props["enable.auto.commit"] = "false";
  props["enable.partition.eof"] = "false";
  props["log_level"] = "3";
  KafkaConf conf(rd_kafka_conf_new());
  if (auto err = set_kafka_properties(conf.get(), props)) return *err;
  char errstr[512];
  KafkaHandle rk(rd_kafka_new(RD_KAFKA_CONSUMER, conf.get(), errstr, sizeof errstr));
  if (!rk) return unreachable_error(std::string("ledger read-back: cannot create a Kafka consumer: ") + errstr);
  conf.release();
  ConsumerClose closer{rk.get()};
  auto md = fetch_partition_leaders(rk.get(), 10000);
  if (!md) return unreachable_error("ledger read-back from Kafka at " + bootstrap + ": " + md.error().message);

  TopicIds out{StoredIds(seq_limit)};
  std::map<TopicPartition, int64_t> end;  // high watermark to read up to
  std::unique_ptr<rd_kafka_topic_partition_list_t, PartitionListDeleter> assign(rd_kafka_topic_partition_list_new(16));
  for (const auto& [tp, leader] : md->leader) {
    if (std::find(topics.begin(), topics.end(), tp.first) == topics.end()) continue;
    int64_t low = 0, high = 0;
    rd_kafka_resp_err_t e = rd_kafka_query_watermark_offsets(rk.get(), tp.first.c_str(), tp.second, &low, &high, 10000);
    if (e)
      return unreachable_error("ledger read-back: watermarks of " + tp.first + "/" + std::to_string(tp.second) + ": " + rd_kafka_err2str(e));
    out.truncated += low;
    if (high <= low) continue;
    end[tp] = high;
    rd_kafka_topic_partition_list_add(assign.get(), tp.first.c_str(), tp.second)->offset = low;
  }
  if (end.empty()) return out;
  if (rd_kafka_resp_err_t e = rd_kafka_assign(rk.get(), assign.get()))
    return unreachable_error(std::string("ledger read-back: assign failed: ") + rd_kafka_err2str(e));

  const std::vector<std::string> wanted = {"id"};
  std::vector<ScannedField> fields;
  std::string value_copy;  // see ConsumedValue.h
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (!end.empty()) {
    if (std::chrono::steady_clock::now() > deadline)
      return unreachable_error("ledger read-back: " + std::to_string(end.size()) + " partitions not read to their end within " +
                               std::to_string(timeout_ms / 1000) + " s");
    std::unique_ptr<rd_kafka_message_t, MessageDeleter> m(rd_kafka_consumer_poll(rk.get(), 200));
    if (!m) continue;
    if (m->err) continue;  // transient (a broker restarting): keep polling until the deadline
    TopicPartition tp{rd_kafka_topic_name(m->rkt), m->partition};
    auto it = end.find(tp);
    if (it == end.end() || m->offset >= it->second) continue;
    ++out.records;
    std::string_view value = consumed_value(m.get(), value_copy);
    if (scan_top_level(value, wanted, fields) && fields[0].found) out.ids.add(fields[0].text);
    else ++out.without_id;
    if (m->offset + 1 >= it->second) end.erase(it);
  }
  return out;
}

}  // namespace kapture
