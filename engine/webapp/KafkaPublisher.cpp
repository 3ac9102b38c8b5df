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

Result<KafkaHandle> KafkaPublisher::new_producer(const std::map<std::string, std::string>& props) {
  KafkaConf conf(rd_kafka_conf_new());
  if (auto err = set_kafka_properties(conf.get(), props)) return *err;
  rd_kafka_conf_set_dr_msg_cb(conf.get(), on_delivery);
  char errstr[512];
  KafkaHandle rk(rd_kafka_new(RD_KAFKA_PRODUCER, conf.get(), errstr, sizeof errstr));
  if (!rk) return usage_error(std::string("kafka producer: ") + errstr);
  conf.release();  // rd_kafka_new took it
  return rk;
}

Result<std::unique_ptr<KafkaPublisher>> KafkaPublisher::open(const std::string& bootstrap, const std::map<std::string, std::string>& props) {
  std::map<std::string, std::string> all = {{"bootstrap.servers", bootstrap}, {"acks", "all"}, {"linger.ms", "1"}};
  for (const auto& [k, v] : props) all[k] = v;
  auto rk = new_producer(all);
  if (!rk) return rk.error();
  std::unique_ptr<KafkaPublisher> p(new KafkaPublisher());
  p->props_ = all;
  p->rk_ = std::move(*rk);
  p->poller_ = std::thread([raw = p.get()] {
    while (!raw->stopping_) {
      rd_kafka_poll(raw->rk_.get(), 100);
      if (rd_kafka_fatal_error(raw->rk_.get(), nullptr, 0) != RD_KAFKA_RESP_ERR_NO_ERROR) raw->replace_after_fatal();
    }
  });
  return p;
}

// librdkafka before 2.3 (Debian 12 has 2.0.2) can raise a fatal error in an
// idempotent producer whose sequence numbers desynchronise while brokers are
// killed; the handle then fails every later message. As librdkafka asks of
// applications: a new handle (a new producer id) takes over; what the old one
// held is purged and answered as failed (503), never left hanging.
void KafkaPublisher::replace_after_fatal() {
  char reason[512];
  rd_kafka_resp_err_t err = rd_kafka_fatal_error(rk_.get(), reason, sizeof reason);
  auto fresh = new_producer(props_);
  if (!fresh) {
    spdlog::error("kafka producer: fatal error ({}: {}), and no new producer: {}", rd_kafka_err2name(err), reason, fresh.error().message);
    stopping_ = true;  // every later publish fails at once; nothing better to do
    return;
  }
  spdlog::warn("kafka producer: fatal error ({}: {}); a new producer takes over, the messages in flight fail", rd_kafka_err2name(err), reason);
  KafkaHandle old;
  {
    std::unique_lock lock(handle_mu_);
    old = std::move(rk_);
    rk_ = std::move(*fresh);
  }
  rd_kafka_purge(old.get(), RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
  rd_kafka_flush(old.get(), 5000);  // serves the purged messages' delivery reports
  rd_kafka_poll(old.get(), 0);
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
  std::shared_lock lock(handle_mu_);
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
