#include "distributed/RunTopic.h"

#include <algorithm>

#include <spdlog/spdlog.h>

#include "drivers/kafka/ConsumedValue.h"
#include "drivers/kafka/KafkaAdmin.h"

namespace kapture {

Status RunTopic::create(const std::string& bootstrap, const std::map<std::string, std::string>& props, const std::string& base) {
  auto client = make_kafka_client(bootstrap, props);
  if (!client) return client.error();
  auto md = fetch_partition_leaders(client->get(), 10000);
  if (!md) return unreachable_error("Kafka at " + bootstrap + ": " + md.error().message);
  const int brokers = static_cast<int>(md->brokers.size());
  std::vector<TopicSpec> specs(2);
  specs[0].name = control_topic(base);
  specs[1].name = results_topic(base);
  for (auto& spec : specs) {
    spec.partitions = 1;
    spec.replication_factor = std::clamp(brokers, 1, 3);
    // A broker lost to chaos must neither lose what the workers measured
    // nor stop them from sending it: two copies, one to spare.
    if (spec.replication_factor >= 3) spec.configs["min.insync.replicas"] = "2";
  }
  return create_topics(client->get(), {&specs[0], &specs[1]}, bootstrap);
}

Status RunTopic::remove(const std::string& bootstrap, const std::map<std::string, std::string>& props, const std::string& base) {
  auto client = make_kafka_client(bootstrap, props);
  if (!client) return client.error();
  return delete_topics(client->get(), {control_topic(base), results_topic(base)}, bootstrap);
}

Result<std::unique_ptr<RunTopic>> RunTopic::open(const std::string& bootstrap, const std::map<std::string, std::string>& props,
                                                 const std::string& base, bool coordinator) {
  std::unique_ptr<RunTopic> t(new RunTopic());
  t->base_ = base;
  t->write_topic_ = coordinator ? control_topic(base) : results_topic(base);
  t->read_topic_ = coordinator ? results_topic(base) : control_topic(base);
  t->bootstrap_ = bootstrap;
  char errstr[512];
  {
    KafkaConf conf(rd_kafka_conf_new());
    std::map<std::string, std::string> all = props;
    all["bootstrap.servers"] = bootstrap;
    all["acks"] = "all";
    all["enable.idempotence"] = "true";  // in order, once, through broker failures
    all["linger.ms"] = "1";
    all["message.timeout.ms"] = "60000";
    all.emplace("log_level", "3");
    if (auto err = set_kafka_properties(conf.get(), all)) return *err;
    rd_kafka_conf_set_dr_msg_cb(conf.get(), on_delivery);
    rd_kafka_conf_set_opaque(conf.get(), t.get());
    rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf.get(), errstr, sizeof errstr);
    if (!rk) return unreachable_error(std::string("run topic: cannot create a Kafka producer: ") + errstr);
    conf.release();
    t->producer_.reset(rk);
  }
  {
    KafkaConf conf(rd_kafka_conf_new());
    std::map<std::string, std::string> all = props;
    all["bootstrap.servers"] = bootstrap;
    // assign() needs a group id, though nothing joins or commits.
    all["group.id"] = t->read_topic_ + (coordinator ? ".coordinator" : ".worker");
    all["enable.auto.commit"] = "false";
    all["enable.partition.eof"] = "false";
    all["fetch.wait.max.ms"] = "50";  // messages are few and small: latency matters, not batching
    all.emplace("log_level", "3");
    if (auto err = set_kafka_properties(conf.get(), all)) return *err;
    rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf.get(), errstr, sizeof errstr);
    if (!rk) return unreachable_error(std::string("run topic: cannot create a Kafka consumer: ") + errstr);
    conf.release();
    t->reader_.reset(rk);
    rd_kafka_poll_set_consumer(rk);
    rd_kafka_topic_partition_list_t* parts = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(parts, t->read_topic_.c_str(), 0)->offset = RD_KAFKA_OFFSET_BEGINNING;
    rd_kafka_resp_err_t err = rd_kafka_assign(rk, parts);
    rd_kafka_topic_partition_list_destroy(parts);
    if (err) return unreachable_error("run topic " + t->read_topic_ + ": cannot read it: " + rd_kafka_err2str(err));
  }
  return t;
}

RunTopic::~RunTopic() {
  if (reader_) rd_kafka_consumer_close(reader_.get());
  if (producer_) rd_kafka_flush(producer_.get(), 5000);
}

void RunTopic::on_delivery(rd_kafka_t*, const rd_kafka_message_t* m, void* opaque) {
  if (!m->err) return;
  auto* t = static_cast<RunTopic*>(opaque);
  std::lock_guard lock(t->mu_);
  if (!t->failure_)
    t->failure_ = unreachable_error("run topic " + t->write_topic_ + " at " + t->bootstrap_ + ": a message was not delivered: " +
                                    rd_kafka_err2str(m->err));
}

Status RunTopic::send(const RunMessage& m) {
  std::string bytes = encode_run_message(m);
  std::string key = m.from < 0 ? "coordinator" : "worker-" + std::to_string(m.from);
  rd_kafka_resp_err_t err = rd_kafka_producev(producer_.get(), RD_KAFKA_V_TOPIC(write_topic_.c_str()), RD_KAFKA_V_PARTITION(0),
                                              RD_KAFKA_V_KEY(key.data(), key.size()), RD_KAFKA_V_VALUE(bytes.data(), bytes.size()),
                                              RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
  rd_kafka_poll(producer_.get(), 0);
  if (err) return unreachable_error("run topic " + write_topic_ + ": cannot send '" + run_message_type_name(m.type) + "': " + rd_kafka_err2str(err));
  return std::nullopt;
}

Status RunTopic::flush(int timeout_ms) {
  if (rd_kafka_flush(producer_.get(), timeout_ms) != RD_KAFKA_RESP_ERR_NO_ERROR)
    return unreachable_error("run topic " + write_topic_ + " at " + bootstrap_ + ": messages not acknowledged within " +
                             std::to_string(timeout_ms / 1000) + " s");
  if (auto f = failure()) return f;
  return std::nullopt;
}

std::optional<RunMessage> RunTopic::next(int timeout_ms) {
  rd_kafka_poll(producer_.get(), 0);  // delivery reports
  rd_kafka_message_t* msg = rd_kafka_consumer_poll(reader_.get(), timeout_ms);
  if (!msg) return std::nullopt;
  std::optional<RunMessage> out;
  if (msg->err) {
    spdlog::debug("run topic {}: {}", read_topic_, rd_kafka_message_errstr(msg));
  } else {
    std::string value_copy;
    auto m = decode_run_message(consumed_value(msg, value_copy));
    if (m) {
      out = std::move(*m);
    } else if (!warned_garbage_) {
      warned_garbage_ = true;
      spdlog::warn("{}", m.error().message);
    }
  }
  destroy_consumed(msg);
  return out;
}

std::optional<Error> RunTopic::failure() const {
  std::lock_guard lock(mu_);
  return failure_;
}

}  // namespace kapture
