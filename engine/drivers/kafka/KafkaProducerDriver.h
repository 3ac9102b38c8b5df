#pragma once
// One librdkafka producer owned by one worker thread. It remembers each
// record's intended and actual send time, so the delivery report yields both
// latencies, and records them into the thread's ProducerRecorder.
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "drivers/kafka/KafkaHandles.h"
#include "etl/Ledger.h"
#include "metrics/DependencyFaults.h"
#include "metrics/RunClock.h"
#include "workloads/ProducerRecorder.h"
#include "scenario/Scenario.h"

namespace kapture {

class KafkaProducerDriver {
 public:
  enum class SendResult { Sent, QueueFull, Failed };

  static Result<std::unique_ptr<KafkaProducerDriver>> create(const std::string& bootstrap,
                                                             const std::map<std::string, std::string>& cluster_props,
                                                             const ProducerWorkloadSpec& spec, const RunClock& clock,
                                                             ProducerRecorder& recorder, AckLedger* ledger = nullptr,
                                                             DependencyFaults* faults = nullptr);
  ~KafkaProducerDriver();

  // `seq` is the record's sequence number, for the ledger; `now_us` is the
  // caller's clock reading (at max rate one serves a run of records, and is
  // also their intended time). The value is copied before send returns.
  SendResult send(const std::string& topic, const std::string* key, std::string_view value, int64_t intended_us, int64_t now_us,
                  int64_t seq = 0);
  void poll(int timeout_ms);
  int64_t in_flight() const { return in_flight_; }
  // Waits up to timeout for outstanding deliveries; what is left is purged and
  // counted as failed, so no record goes unaccounted for.
  int64_t flush_and_purge(int timeout_ms);
  std::string last_error() const { return last_error_; }

 private:
  KafkaProducerDriver(const RunClock& clock, ProducerRecorder& recorder, AckLedger* ledger, DependencyFaults* faults)
      : clock_(clock), recorder_(recorder), ledger_(ledger), faults_(faults) {}
  Status open();  // a handle from props_
  void recover_from_fatal();
  void drop_in_flight();
  void poll_once(int timeout_ms);  // rd_kafka_poll with the deliveries sharing one clock reading
  static void on_delivery(rd_kafka_t* rk, const rd_kafka_message_t* msg, void* opaque);
  static void on_error(rd_kafka_t* rk, int err, const char* reason, void* opaque);
  static int on_stats(rd_kafka_t* rk, char* json, size_t len, void* opaque);
  rd_kafka_topic_t* topic_handle(const std::string& name);

  struct Slot {
    int64_t intended_us;
    int64_t sent_us;
    int64_t seq;
    size_t topic;  // the recorder's per-topic series
  };
  const RunClock& clock_;
  ProducerRecorder& recorder_;
  AckLedger* ledger_;
  DependencyFaults* faults_;
  std::map<std::string, bool> broker_up_;  // by broker name, from the statistics: was it UP last time
  KafkaHandle rk_;
  std::unordered_map<std::string, rd_kafka_topic_t*> topics_;
  rd_kafka_topic_t* last_topic_ = nullptr;
  std::string last_topic_name_;
  std::vector<Slot> slots_;
  std::vector<uint32_t> free_slots_;
  int64_t in_flight_ = 0;
  int64_t retries_seen_ = 0;
  // Within one poll_once, the clock read by the first delivery report; the
  // rest of that poll's reports are dispatched back to back and share it.
  int64_t poll_now_us_ = 0;  // 0: not read yet
  bool sharing_clock_ = false;
  bool fatal_ = false;  // set by the error callback; the handle is replaced outside the callback
  std::map<std::string, std::string> props_;
  std::string last_error_;
};

}  // namespace kapture
