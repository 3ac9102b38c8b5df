#pragma once
// The webapp's way into Kafka: one producer shared by every request thread
// and HTTP/2 connection; every publish gets its own delivery report, so the
// HTTP answer says whether the brokers acknowledged the message (and where
// it landed).
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <shared_mutex>
#include <thread>
#include <atomic>

#include "common/Error.h"
#include "drivers/kafka/KafkaHandles.h"

namespace kapture {

struct Delivery {
  int partition = -1;
  int64_t offset = -1;
};

class KafkaPublisher {
 public:
  // `props` are librdkafka producer properties (acks, linger.ms, ...).
  static Result<std::unique_ptr<KafkaPublisher>> open(const std::string& bootstrap, const std::map<std::string, std::string>& props);
  ~KafkaPublisher();
  KafkaPublisher(const KafkaPublisher&) = delete;
  KafkaPublisher& operator=(const KafkaPublisher&) = delete;

  // Produces and waits for the delivery report; an error says what the
  // client or the brokers said (a timeout is message.timeout.ms).
  Result<Delivery> publish(const std::string& topic, std::string_view key, std::string_view value);

  // Produces without waiting: `done` gets the delivery report on the
  // publisher's poll thread (so it must be quick and must not block), or
  // at once on the calling thread when the client refused the message.
  using DeliveryCallback = std::function<void(Result<Delivery>)>;
  void publish_async(const std::string& topic, std::string_view key, std::string_view value, DeliveryCallback done);

 private:
  KafkaPublisher() = default;
  static void on_delivery(rd_kafka_t*, const rd_kafka_message_t* msg, void*);
  static Result<KafkaHandle> new_producer(const std::map<std::string, std::string>& props);
  // On the poll thread: a fatal error left the handle unusable; a new one
  // takes over and the old one fails what it still held.
  void replace_after_fatal();

  std::map<std::string, std::string> props_;  // every property, bootstrap included: for a new handle
  std::shared_mutex handle_mu_;  // publishers share it; replace_after_fatal swaps the handle under it
  KafkaHandle rk_;
  std::atomic<bool> stopping_{false};
  std::thread poller_;  // serves delivery reports
};

}  // namespace kapture
