#include "targets/EmbeddedTarget.h"

#include <spdlog/spdlog.h>

namespace kapture {

EmbeddedTarget::~EmbeddedTarget() { stop(); }

Status EmbeddedTarget::start(const Scenario& scenario) {
  KafkaConf conf(rd_kafka_conf_new());
  char err[512];
  rd_kafka_conf_set(conf.get(), "log_level", "3", err, sizeof err);
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf.get(), err, sizeof err);
  if (!rk) return unreachable_error(std::string("embedded target: cannot create the mock cluster's handle: ") + err);
  conf.release();
  owner_.reset(rk);
  brokers_ = scenario.kafka.brokers;
  cluster_ = rd_kafka_mock_cluster_new(owner_.get(), brokers_);
  if (!cluster_) return unreachable_error("embedded target: cannot start a mock Kafka cluster");
  bootstrap_ = rd_kafka_mock_cluster_bootstraps(cluster_);
  for (const auto& t : scenario.kafka.topics) {
    // The mock has no Admin API: topics are made directly. Topic configs are
    // accepted but the mock ignores them (it keeps about 5 MB per partition).
    rd_kafka_resp_err_t e = rd_kafka_mock_topic_create(cluster_, t.name.c_str(), t.partitions, t.replication_factor);
    if (e) return unreachable_error("embedded target: cannot create topic " + t.name + ": " + rd_kafka_err2str(e));
  }
  auto client = make_kafka_client(bootstrap_, {});
  if (!client) return client.error();
  metadata_client_ = std::move(*client);
  spdlog::debug("embedded target: {} brokers at {}", brokers_, bootstrap_);
  return std::nullopt;
}

void EmbeddedTarget::stop() {
  metadata_client_.reset();
  if (cluster_) {
    rd_kafka_mock_cluster_destroy(cluster_);
    cluster_ = nullptr;
  }
  owner_.reset();
}

Result<int> EmbeddedTarget::resolve_broker(const BrokerChoice& choice) {
  switch (choice.kind) {
    case BrokerChoice::Kind::Id: return choice.id;
    case BrokerChoice::Kind::Random: return runtime_error("internal: random broker not resolved by the plan");
    case BrokerChoice::Kind::LeaderOf: return fetch_partition_leader(metadata_client_.get(), choice.topic, choice.partition);
    case BrokerChoice::Kind::Controller:
      return usage_error("the embedded target's mock cluster has no controller quorum: use --target local to hit the controller");
  }
  return runtime_error("internal: bad broker choice");
}

Result<ChaosInjection> EmbeddedTarget::inject(const ChaosAction& action) {
  auto broker = resolve_broker(action.broker);
  if (!broker) return broker.error();
  if (*broker < 1 || *broker > brokers_) return runtime_error("broker " + std::to_string(*broker) + " does not exist");
  if (action.verb == ChaosVerb::BrokerDown) return broker_down(*broker);
  return broker_delay(*broker, action.delay_us);
}

Result<ChaosInjection> EmbeddedTarget::broker_down(int broker) {
  std::lock_guard lock(mu_);
  // Read leadership before the broker goes: afterwards the metadata may not
  // come from it at all.
  auto leaders = fetch_partition_leaders(metadata_client_.get(), 5000);
  if (!leaders) return leaders.error();
  ChaosInjection inj;
  inj.undo = [this, broker]() -> Status {
    std::lock_guard lock(mu_);
    if (!cluster_) return std::nullopt;
    rd_kafka_resp_err_t e = rd_kafka_mock_broker_set_up(cluster_, broker);
    down_.erase(broker);
    if (e) return runtime_error("embedded target: cannot bring broker " + std::to_string(broker) + " back up: " + rd_kafka_err2str(e));
    return std::nullopt;
  };
  rd_kafka_resp_err_t e = rd_kafka_mock_broker_set_down(cluster_, broker);
  if (e) return runtime_error("embedded target: cannot take broker " + std::to_string(broker) + " down: " + rd_kafka_err2str(e));
  down_.insert(broker);
  // A real controller elects a new leader from the in-sync replicas; the mock
  // does not, so do what the controller would.
  nlohmann::json moved = nlohmann::json::array();
  int offline = 0;
  for (const auto& [tp, leader] : leaders->leader) {
    if (leader != broker) continue;
    int next = -1;
    for (int r : leaders->replicas[tp])
      if (r != broker && !down_.count(r)) {
        next = r;
        break;
      }
    rd_kafka_mock_partition_set_leader(cluster_, tp.first.c_str(), tp.second, next);
    if (next < 0) ++offline;
    moved.push_back({{"topic", tp.first}, {"partition", tp.second}, {"from", broker}, {"to", next}});
  }
  inj.description = "broker " + std::to_string(broker) + " down; leadership of " + std::to_string(moved.size()) + " partitions moved" +
                    (offline ? " (" + std::to_string(offline) + " offline: no live replica)" : "");
  inj.details = {{"broker", broker}, {"leaders_moved", moved}};
  inj.out_of_service = broker;
  return inj;
}

Result<ChaosInjection> EmbeddedTarget::broker_delay(int broker, int64_t delay_us) {
  std::lock_guard lock(mu_);
  int ms = static_cast<int>(delay_us / 1000);
  ChaosInjection inj;
  inj.undo = [this, broker]() -> Status {
    std::lock_guard lock(mu_);
    if (!cluster_) return std::nullopt;
    rd_kafka_resp_err_t e = rd_kafka_mock_broker_set_rtt(cluster_, broker, 0);
    if (e) return runtime_error("embedded target: cannot remove the delay on broker " + std::to_string(broker) + ": " + rd_kafka_err2str(e));
    return std::nullopt;
  };
  rd_kafka_resp_err_t e = rd_kafka_mock_broker_set_rtt(cluster_, broker, ms);
  if (e) return runtime_error("embedded target: cannot delay broker " + std::to_string(broker) + ": " + rd_kafka_err2str(e));
  inj.description = "broker " + std::to_string(broker) + " round trip +" + std::to_string(ms) + "ms";
  inj.details = {{"broker", broker}, {"rtt_ms", ms}};
  return inj;
}

}  // namespace kapture
