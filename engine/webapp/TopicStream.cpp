#include "webapp/TopicStream.h"

#include <string_view>

#include "drivers/kafka/ConsumedValue.h"

namespace kapture {

Result<std::unique_ptr<TopicStream>> TopicStream::open(const std::string& bootstrap, const std::map<std::string, std::string>& props,
                                                       const std::string& topic, bool from_beginning) {
  KafkaConf conf(rd_kafka_conf_new());
  std::map<std::string, std::string> all = props;
  all["bootstrap.servers"] = bootstrap;
  all["group.id"] = "kapture-webapp-sse";  // required by the consumer API; never joined (assign, no subscribe)
  all["enable.auto.commit"] = "false";
  all["fetch.wait.max.ms"] = "10";  // a chat stream wants messages now, not in full batches
  if (auto err = set_kafka_properties(conf.get(), all)) return *err;
  char errstr[512];
  std::unique_ptr<TopicStream> s(new TopicStream());
  s->rk_.reset(rd_kafka_new(RD_KAFKA_CONSUMER, conf.get(), errstr, sizeof errstr));
  if (!s->rk_) return usage_error(std::string("kafka consumer: ") + errstr);
  conf.release();
  rd_kafka_poll_set_consumer(s->rk_.get());
  // Every partition the topic has now.
  rd_kafka_topic_t* t = rd_kafka_topic_new(s->rk_.get(), topic.c_str(), nullptr);
  const rd_kafka_metadata_t* md = nullptr;
  rd_kafka_resp_err_t err = rd_kafka_metadata(s->rk_.get(), 0, t, &md, 5000);
  rd_kafka_topic_destroy(t);
  if (err) return unreachable_error("kafka at " + bootstrap + ": metadata for topic " + topic + ": " + rd_kafka_err2str(err));
  KafkaMetadata meta(md);
  if (md->topic_cnt != 1 || md->topics[0].err || md->topics[0].partition_cnt == 0)
    return usage_error("no topic '" + topic + "' in the cluster");
  rd_kafka_topic_partition_list_t* parts = rd_kafka_topic_partition_list_new(md->topics[0].partition_cnt);
  for (int i = 0; i < md->topics[0].partition_cnt; ++i)
    rd_kafka_topic_partition_list_add(parts, topic.c_str(), md->topics[0].partitions[i].id)->offset =
        from_beginning ? RD_KAFKA_OFFSET_BEGINNING : RD_KAFKA_OFFSET_END;
  err = rd_kafka_assign(s->rk_.get(), parts);
  rd_kafka_topic_partition_list_destroy(parts);
  if (err) return runtime_error("kafka: assign " + topic + ": " + rd_kafka_err2str(err));
  return s;
}

TopicStream::~TopicStream() {
  if (rk_) rd_kafka_consumer_close(rk_.get());
}

std::string TopicStream::poll(int wait_ms) {
  std::string out;
  std::string value_copy;  // see ConsumedValue.h
  int timeout = wait_ms;
  // Everything already fetched, then stop at the first empty poll.
  for (int i = 0; i < 500; ++i) {
    rd_kafka_message_t* m = rd_kafka_consumer_poll(rk_.get(), timeout);
    if (!m) break;
    timeout = 0;
    if (!m->err) {
      out += "id: " + std::to_string(m->partition) + ":" + std::to_string(m->offset) + "\n";
      std::string_view v = consumed_value(m, value_copy);
      size_t start = 0;
      do {
        size_t nl = v.find('\n', start);
        out += "data: ";
        out += v.substr(start, nl == std::string_view::npos ? std::string_view::npos : nl - start);
        out += "\n";
        start = nl == std::string_view::npos ? v.size() + 1 : nl + 1;
      } while (start <= v.size());
      out += "\n";
    }
    destroy_consumed(m);
  }
  if (out.empty()) {
    quiet_ms_ += wait_ms;
    if (quiet_ms_ >= 2000) {
      quiet_ms_ = 0;
      return ": keep-alive\n\n";
    }
  } else {
    quiet_ms_ = 0;
  }
  return out;
}

}  // namespace kapture
