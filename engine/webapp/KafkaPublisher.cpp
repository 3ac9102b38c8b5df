#include "webapp/KafkaPublisher.h"

#include <spdlog/spdlog.h>

#include <exception>
#include <future>

namespace kapture {

namespace {

// Travels with a message as its opaque, until its delivery report.
struct Pending {
  KafkaPublisher::DeliveryCallback done;
};

}  // namespace

void KafkaPublisher::on_delivery(rd_kafka_t*, const rd_kafka_message_t* msg, void*) {
  std::unique_ptr<Pending> p(static_cast<Pending*>(msg->_private));
  // Nothing may unwind through librdkafka's C frames.
  try {
    if (msg->err) p->done(runtime_error(std::string("kafka: ") + rd_kafka_err2str(msg->err)));
    else p->done(Delivery{msg->partition, msg->offset});
  } catch (const std::exception& e) {
    spdlog::error("kafka delivery report: {}", e.what());
  }
}

Result<std::unique_ptr<KafkaPublisher>> KafkaPublisher::open(const std::string& bootstrap, const std::map<std::string, std::string>& props) {
  KafkaConf conf(rd_kafka_conf_new());
  std::map<std::string, std::string> all = {{"bootstrap.servers", bootstrap}, {"acks", "all"}, {"linger.ms", "1"}};
  for (const auto& [k, v] : props) all[k] = v;
  if (auto err = set_kafka_properties(conf.get(), all)) return *err;
  rd_kafka_conf_set_dr_msg_cb(conf.get(), on_delivery);
  char errstr[512];
  std::unique_ptr<KafkaPublisher> p(new KafkaPublisher());
  p->rk_.reset(rd_kafka_new(RD_KAFKA_PRODUCER, conf.get(), errstr, sizeof errstr));
  if (!p->rk_) return usage_error(std::string("kafka producer: ") + errstr);
  conf.release();  // rd_kafka_new took it
  p->poller_ = std::thread([raw = p.get()] {
    while (!raw->stopping_) rd_kafka_poll(raw->rk_.get(), 100);
  });
  return p;
}

KafkaPublisher::~KafkaPublisher() {
  // Requests still waiting get their reports (or failures) before the handle goes.
  if (rk_) rd_kafka_flush(rk_.get(), 10000);
  stopping_ = true;
  if (poller_.joinable()) poller_.join();
  if (rk_) rd_kafka_purge(rk_.get(), RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
  if (rk_) rd_kafka_poll(rk_.get(), 0);
}

Result<Delivery> KafkaPublisher::publish(const std::string& topic, std::string_view key, std::string_view value) {
  std::promise<Result<Delivery>> delivered;
  auto result = delivered.get_future();
  publish_async(topic, key, value, [&delivered](Result<Delivery> d) { delivered.set_value(std::move(d)); });
  return result.get();
}

void KafkaPublisher::publish_async(const std::string& topic, std::string_view key, std::string_view value, DeliveryCallback done) {
  auto pending = std::make_unique<Pending>(Pending{std::move(done)});
  rd_kafka_resp_err_t err = rd_kafka_producev(
      rk_.get(), RD_KAFKA_V_TOPIC(topic.c_str()), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
      RD_KAFKA_V_VALUE(const_cast<char*>(value.data()), value.size()),
      RD_KAFKA_V_KEY(key.empty() ? nullptr : const_cast<char*>(key.data()), key.size()), RD_KAFKA_V_OPAQUE(pending.get()),
      RD_KAFKA_V_END);
  if (err) {
    pending->done(runtime_error("kafka: produce to " + topic + ": " + rd_kafka_err2str(err)));
    return;
  }
  pending.release();  // on_delivery owns it now
}

}  // namespace kapture
