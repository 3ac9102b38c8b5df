#pragma once
// A run's two message topics, as the coordinator and each worker use them:
// the control topic (coordinator -> workers) and the results topic
// (workers -> coordinator), one partition each so every reader sees one
// order. A process writes one and reads the other from its beginning (a
// worker that starts late still reads the `start` it missed); no consumer
// group, nothing committed. Two topics, not one: a worker must not read
// every other worker's measurements.
#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "common/Error.h"
#include "distributed/RunMessage.h"
#include "drivers/kafka/KafkaHandles.h"

namespace kapture {

class RunTopic {
 public:
  // The run's topic names from its base name.
  static std::string control_topic(const std::string& base) { return base + ".control"; }
  static std::string results_topic(const std::string& base) { return base + ".results"; }
  // Creates both topics (one partition, replicated to up to three brokers,
  // acks from two): the coordinator does this before any worker starts.
  static Status create(const std::string& bootstrap, const std::map<std::string, std::string>& props, const std::string& base);
  static Status remove(const std::string& bootstrap, const std::map<std::string, std::string>& props, const std::string& base);

  // `coordinator`: writes control, reads results; a worker the other way round.
  static Result<std::unique_ptr<RunTopic>> open(const std::string& bootstrap, const std::map<std::string, std::string>& props,
                                                const std::string& base, bool coordinator);
  ~RunTopic();

  // Queues the message on the topic this process writes (thread-safe); a
  // delivery that fails later shows in failure().
  Status send(const RunMessage& m);
  // Waits until every sent message was acknowledged, up to `timeout_ms`.
  Status flush(int timeout_ms);
  // The next message on the topic this process reads (one reader thread
  // only), or nothing within `timeout_ms`.
  // Messages that are not ours are skipped (and logged once).
  std::optional<RunMessage> next(int timeout_ms);
  std::optional<Error> failure() const;
  const std::string& name() const { return base_; }

 private:
  RunTopic() = default;
  static void on_delivery(rd_kafka_t*, const rd_kafka_message_t* m, void* opaque);

  std::string base_, write_topic_, read_topic_, bootstrap_;
  KafkaHandle producer_, reader_;
  mutable std::mutex mu_;
  std::optional<Error> failure_;
  bool warned_garbage_ = false;
};

}  // namespace kapture
