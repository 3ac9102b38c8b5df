#include "drivers/kafka/KafkaProducerDriver.h"

#include <algorithm>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

namespace kapture {
namespace {

constexpr int kMaxInFlight = 100000;  // also librdkafka's queue.buffering.max.messages

void on_log(const rd_kafka_t*, int level, const char* fac, const char* buf) {
  // Connection failures (level 3) are what chaos causes; they are counted in
  // the metrics, so only worse than that is worth a console line.
  if (level <= 2) spdlog::warn("kafka: {}: {}", fac, buf);
  else spdlog::debug("kafka: {}: {}", fac, buf);
}

}  // namespace

// Callbacks run inside rd_kafka_poll, on the worker thread that owns the
// recorder: no locks needed.
void KafkaProducerDriver::on_error(rd_kafka_t*, int err, const char* reason, void* opaque) {
  // Transport errors are expected while chaos has a broker down: counted, not printed.
  spdlog::debug("kafka: {}: {}", rd_kafka_err2name(static_cast<rd_kafka_resp_err_t>(err)), reason);
  auto* d = static_cast<KafkaProducerDriver*>(opaque);
  d->recorder_.client_errors++;
  if (err == RD_KAFKA_RESP_ERR__FATAL) d->fatal_ = true;  // handled after the poll returns
  if (!d->faults_) return;
  // A broker that cannot be reached: librdkafka names it first in the
  // reason ("127.0.0.1:9093/2: Connect to ... failed"), as the statistics do.
  std::string_view why(reason ? reason : "");
  if (err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN) {
    d->faults_->failed("kafka", "all brokers", std::string(why));
  } else if (err == RD_KAFKA_RESP_ERR__TRANSPORT || err == RD_KAFKA_RESP_ERR__RESOLVE || err == RD_KAFKA_RESP_ERR__TIMED_OUT) {
    size_t colon = why.find(": ");
    if (colon != std::string_view::npos && why.substr(0, colon).find('/') != std::string_view::npos)
      d->faults_->failed("kafka", std::string(why.substr(0, colon)), std::string(why));
  }
}

// Retries are only visible in librdkafka's statistics: the sum of txretries
// over brokers, which only grows.
int KafkaProducerDriver::on_stats(rd_kafka_t*, char* json, size_t len, void* opaque) {
  auto* d = static_cast<KafkaProducerDriver*>(opaque);
  auto j = nlohmann::json::parse(json, json + len, nullptr, false);
  if (j.is_discarded() || !j.contains("brokers")) return 0;
  int64_t total = 0;
  bool any_up = false;
  for (const auto& [name, b] : j["brokers"].items()) {
    total += b.value("txretries", int64_t{0});
    if (!d->faults_ || b.value("nodeid", -1) < 0) continue;  // bootstrap entries are not brokers yet
    // A broker the producer was connected to and is no longer: a paused
    // broker sends no error, its requests just time out.
    const bool up = b.value("state", "") == "UP";
    any_up = any_up || up;
    auto was = d->broker_up_.find(name);
    if (up) d->faults_->ok("kafka", name);
    else if (was != d->broker_up_.end() && was->second) d->faults_->failed("kafka", name, "connection state " + b.value("state", std::string("?")));
    d->broker_up_[name] = up;
  }
  if (any_up) d->faults_->ok("kafka", "all brokers");
  if (total > d->retries_seen_) d->recorder_.retries += total - d->retries_seen_;
  d->retries_seen_ = std::max(d->retries_seen_, total);
  return 0;  // librdkafka frees the JSON
}

Result<std::unique_ptr<KafkaProducerDriver>> KafkaProducerDriver::create(const std::string& bootstrap,
                                                                         const std::map<std::string, std::string>& cluster_props,
                                                                         const ProducerWorkloadSpec& spec, const RunClock& clock,
                                                                         ProducerRecorder& recorder, AckLedger* ledger,
                                                                         DependencyFaults* faults) {
  std::unique_ptr<KafkaProducerDriver> d(new KafkaProducerDriver(clock, recorder, ledger, faults));
  std::map<std::string, std::string> props = cluster_props;
  props["bootstrap.servers"] = bootstrap;
  props["acks"] = spec.acks;
  props["enable.idempotence"] = spec.idempotence ? "true" : "false";
  props["compression.type"] = spec.compression;
  props["queue.buffering.max.messages"] = std::to_string(kMaxInFlight);
  props.emplace("linger.ms", "5");
  props["statistics.interval.ms"] = "1000";  // produce.retries, broker outages
  // Keep a connection to every broker, not only to partition leaders: a
  // broker that comes back after an outage has lost its leaderships, and
  // with sparse connections nothing would reconnect to it, so its outage
  // would never be seen to end (nor a non-leader's outage to begin).
  props.emplace("enable.sparse.connections", "false");
  // The scenario's own properties win over the defaults above.
  for (const auto& [k, v] : spec.properties) props[k] = v;
  d->props_ = props;
  if (auto err = d->open()) {
    Error e = *err;
    e.message = "workload '" + spec.name + "': " + e.message;
    e.where = spec.where;
    return e;
  }
  return d;
}

Status KafkaProducerDriver::open() {
  KafkaConf conf(rd_kafka_conf_new());
  if (auto err = set_kafka_properties(conf.get(), props_)) return err;
  // librdkafka may have been told a larger queue; size the slot table to it.
  char buf[64];
  size_t len = sizeof buf;
  int64_t max_msgs = kMaxInFlight;
  if (rd_kafka_conf_get(conf.get(), "queue.buffering.max.messages", buf, &len) == RD_KAFKA_CONF_OK) max_msgs = std::atoll(buf);
  rd_kafka_conf_set_dr_msg_cb(conf.get(), &KafkaProducerDriver::on_delivery);
  rd_kafka_conf_set_log_cb(conf.get(), on_log);
  rd_kafka_conf_set_error_cb(conf.get(), &KafkaProducerDriver::on_error);
  rd_kafka_conf_set_stats_cb(conf.get(), &KafkaProducerDriver::on_stats);
  rd_kafka_conf_set_opaque(conf.get(), this);
  char errstr[512];
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf.get(), errstr, sizeof errstr);
  if (!rk) return usage_error(std::string("cannot create a Kafka producer: ") + errstr);
  conf.release();
  rk_.reset(rk);
  retries_seen_ = 0;
  if (slots_.empty()) {
    slots_.resize(static_cast<size_t>(max_msgs) + 1);
    free_slots_.reserve(slots_.size());
    for (size_t i = slots_.size(); i-- > 0;) free_slots_.push_back(static_cast<uint32_t>(i));
  }
  return std::nullopt;
}

// A fatal error (librdkafka before 2.3 raises one for an idempotent producer
// whose sequence numbers desynchronise while brokers are killed) leaves the
// handle unusable: everything in it fails, and a new handle (a new producer
// id) takes over, as librdkafka's documentation asks of applications.
void KafkaProducerDriver::recover_from_fatal() {
  char reason[512];
  rd_kafka_resp_err_t err = rd_kafka_fatal_error(rk_.get(), reason, sizeof reason);
  spdlog::warn("kafka producer: fatal error ({}: {}); its {} unacknowledged records count as failed and a new producer takes over",
               rd_kafka_err2name(err), reason, in_flight_);
  last_error_ = reason;
  drop_in_flight();
  for (auto& [name, t] : topics_) rd_kafka_topic_destroy(t);
  topics_.clear();
  last_topic_ = nullptr;
  last_topic_name_.clear();
  rk_.reset();
  fatal_ = false;
  recorder_.producer_restarts++;
  if (auto e = open()) last_error_ = e->message;
}

// Purges what the handle still holds; purged records come back through the
// delivery callback as failed. Whatever does not come back is failed here, so
// no record goes unaccounted for.
void KafkaProducerDriver::drop_in_flight() {
  rd_kafka_purge(rk_.get(), RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
  for (int i = 0; i < 50 && in_flight_ > 0; ++i) poll_once(100);
  if (in_flight_ == 0) return;
  std::vector<bool> free(slots_.size(), false);
  for (uint32_t f : free_slots_) free[f] = true;
  for (uint32_t i = 0; i < slots_.size(); ++i) {
    if (free[i]) continue;
    if (ledger_) ledger_->failed.add(static_cast<uint64_t>(slots_[i].seq));
    recorder_.failed++;
    recorder_.topics[slots_[i].topic]->failed++;
    free_slots_.push_back(i);
  }
  in_flight_ = 0;
}

KafkaProducerDriver::~KafkaProducerDriver() {
  for (auto& [name, t] : topics_) rd_kafka_topic_destroy(t);
  topics_.clear();
  // rd_kafka_destroy (via rk_) waits for nothing: flush_and_purge was called.
}

rd_kafka_topic_t* KafkaProducerDriver::topic_handle(const std::string& name) {
  // Most workloads send runs of records to one topic: skip the hash lookup.
  if (last_topic_ && name == last_topic_name_) return last_topic_;
  auto it = topics_.find(name);
  if (it != topics_.end()) {
    last_topic_ = it->second;
    last_topic_name_ = name;
    return it->second;
  }
  // The topic's opaque is its per-topic series in the recorder, so a send
  // finds it without a lookup. The conf is the handle's default topic conf
  // (user properties such as acks live there), duplicated.
  rd_kafka_topic_conf_t* conf = rd_kafka_default_topic_conf_dup(rk_.get());
  rd_kafka_topic_conf_set_opaque(conf, reinterpret_cast<void*>(static_cast<uintptr_t>(recorder_.topic_series(name))));
  rd_kafka_topic_t* t = rd_kafka_topic_new(rk_.get(), name.c_str(), conf);
  if (!t) return nullptr;
  topics_.emplace(name, t);
  last_topic_ = t;
  last_topic_name_ = name;
  return t;
}

KafkaProducerDriver::SendResult KafkaProducerDriver::send(const std::string& topic, const std::string* key, std::string_view value,
                                                          int64_t intended_us, int64_t now, int64_t seq) {
  if (fatal_) recover_from_fatal();
  if (free_slots_.empty()) return SendResult::QueueFull;
  rd_kafka_topic_t* t = topic_handle(topic);
  if (!t) {
    last_error_ = "cannot use topic '" + topic + "'";
    return SendResult::Failed;
  }
  uint32_t slot = free_slots_.back();
  slots_[slot] = Slot{intended_us, now, seq, static_cast<size_t>(reinterpret_cast<uintptr_t>(rd_kafka_topic_opaque(t)))};
  int rc = rd_kafka_produce(t, RD_KAFKA_PARTITION_UA, RD_KAFKA_MSG_F_COPY, const_cast<char*>(value.data()), value.size(),
                            key ? key->data() : nullptr, key ? key->size() : 0,
                            reinterpret_cast<void*>(static_cast<uintptr_t>(slot)));
  if (rc != 0) {
    rd_kafka_resp_err_t err = rd_kafka_last_error();
    if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL) return SendResult::QueueFull;
    if (err == RD_KAFKA_RESP_ERR__FATAL) fatal_ = true;
    last_error_ = std::string("produce to ") + topic + ": " + rd_kafka_err2str(err);
    return SendResult::Failed;
  }
  free_slots_.pop_back();
  ++in_flight_;
  recorder_.sent++;
  recorder_.schedule_lag.record(now - intended_us);
  return SendResult::Sent;
}

void KafkaProducerDriver::on_delivery(rd_kafka_t*, const rd_kafka_message_t* msg, void* opaque) {
  auto* d = static_cast<KafkaProducerDriver*>(opaque);
  auto slot = static_cast<uint32_t>(reinterpret_cast<uintptr_t>(msg->_private));
  const Slot& s = d->slots_[slot];
  // Inside poll_once the reports come back to back and share one reading;
  // anywhere else (rd_kafka_flush waits between its own polls) each reads.
  if (!d->sharing_clock_ || d->poll_now_us_ == 0) d->poll_now_us_ = d->clock_.now_us();
  int64_t now = d->poll_now_us_;
  ProducerRecorder& r = d->recorder_;
  if (d->ledger_) {
    if (msg->err) d->ledger_->failed.add(static_cast<uint64_t>(s.seq));
    else d->ledger_->acked.add(static_cast<uint64_t>(s.seq));
  }
  ProducerRecorder::TopicSeries& topic = *r.topics[s.topic];
  if (msg->err) {
    r.failed++;
    topic.failed++;
    if (d->last_error_.empty() || msg->err != RD_KAFKA_RESP_ERR__PURGE_QUEUE) d->last_error_ = rd_kafka_err2str(msg->err);
  } else {
    r.acked++;
    r.bytes += static_cast<int64_t>(msg->len);
    r.record_bytes.record(static_cast<int64_t>(msg->len));
    r.latency.record(now - s.intended_us);
    r.send_latency.record(now - s.sent_us);
    topic.acked++;
    topic.bytes += static_cast<int64_t>(msg->len);
    topic.latency.record(now - s.intended_us);
  }
  d->free_slots_.push_back(slot);
  --d->in_flight_;
}

void KafkaProducerDriver::poll_once(int timeout_ms) {
  poll_now_us_ = 0;
  sharing_clock_ = true;
  rd_kafka_poll(rk_.get(), timeout_ms);
  sharing_clock_ = false;
}

void KafkaProducerDriver::poll(int timeout_ms) {
  poll_once(timeout_ms);
  if (fatal_) recover_from_fatal();
  recorder_.in_flight = in_flight_;
}

int64_t KafkaProducerDriver::flush_and_purge(int timeout_ms) {
  if (!fatal_) rd_kafka_flush(rk_.get(), timeout_ms);
  int64_t left = in_flight_;
  if (left > 0) drop_in_flight();
  recorder_.in_flight = in_flight_;
  return left;
}

}  // namespace kapture
