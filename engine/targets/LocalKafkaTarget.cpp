#include "targets/LocalKafkaTarget.h"

#include <stdlib.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <thread>

#include <spdlog/spdlog.h>

#include "drivers/kafka/KafkaAdmin.h"

namespace kapture {

namespace {

using Clock = std::chrono::steady_clock;
constexpr int kStartTimeoutMs = 180000;  // JVMs on two shared cores start slowly
constexpr int kMaxControllers = 3;

}  // namespace

LocalKafkaTarget::~LocalKafkaTarget() { stop(); }

KafkaNode* LocalKafkaTarget::node(int id) {
  for (auto& n : nodes_)
    if (n->id() == id) return n.get();
  return nullptr;
}

Status LocalKafkaTarget::start(const Scenario& scenario) {
  auto dist = find_kafka_distribution();
  if (!dist) return dist.error();
  dist_ = *dist;
  char tmpl[] = "/tmp/kapture-kafka.XXXXXX";
  if (!mkdtemp(tmpl)) return runtime_error(std::string("cannot create a directory for Kafka under /tmp: ") + std::strerror(errno));
  dir_ = tmpl;
  cluster_id_ = new_kafka_cluster_id();
  int brokers = scenario.kafka.brokers;
  int controllers = std::min(brokers, kMaxControllers);
  internal_replication_ = std::min(brokers, 3);
  std::vector<KafkaNodeConfig> configs;
  for (int id = 1; id <= brokers; ++id) {
    KafkaNodeConfig c;
    c.id = id;
    c.controller = id <= controllers;
    auto port = free_loopback_port();
    if (!port) return port.error();
    c.port = *port;
    if (c.controller) {
      auto cport = free_loopback_port();
      if (!cport) return cport.error();
      c.controller_port = *cport;
      if (!voters_.empty()) voters_ += ',';
      voters_ += std::to_string(id) + "@127.0.0.1:" + std::to_string(c.controller_port);
    }
    c.dir = dir_ + "/node-" + std::to_string(id);
    c.internal_replication = internal_replication_;
    configs.push_back(c);
  }
  for (auto& c : configs) {
    c.voters = voters_;
    nodes_.push_back(std::make_unique<KafkaNode>(dist_, c));
    if (!bootstrap_.empty()) bootstrap_ += ',';
    bootstrap_ += nodes_.back()->bootstrap();
  }
  spdlog::info("local target: starting {} Kafka brokers ({} controllers) in {}", brokers, controllers, dir_);
  if (auto err = start_nodes(0, kStartTimeoutMs)) return err;
  std::vector<const TopicSpec*> topics;
  for (const auto& t : scenario.kafka.topics) topics.push_back(&t);
  if (auto err = create_topics(admin_.get(), topics, bootstrap_)) return err;
  // Created is not ready: wait until every partition has a leader.
  return wait_for("the topics' partitions to have leaders", 60000, [&](const PartitionLeaders& md) {
    for (const auto& t : scenario.kafka.topics)
      for (int p = 0; p < t.partitions; ++p) {
        auto it = md.leader.find({t.name, p});
        if (it == md.leader.end() || it->second < 0) return false;
      }
    return true;
  });
}

Status LocalKafkaTarget::start_nodes(size_t first, int timeout_ms) {
  for (size_t i = first; i < nodes_.size(); ++i)
    if (auto err = nodes_[i]->begin_format(cluster_id_)) return err;
  for (size_t i = first; i < nodes_.size(); ++i)
    if (auto err = nodes_[i]->wait_formatted()) return err;
  for (size_t i = first; i < nodes_.size(); ++i)
    if (auto err = nodes_[i]->start()) return err;
  if (!admin_) {
    // Quiet while the brokers start (connection refused); failures come back as values.
    auto client = make_kafka_client(bootstrap_, {{"log_level", "0"}});
    if (!client) return client.error();
    admin_ = std::move(*client);
  }
  std::vector<int> ids;
  for (size_t i = first; i < nodes_.size(); ++i) ids.push_back(nodes_[i]->id());
  return wait_for("brokers to register", timeout_ms, [&](const PartitionLeaders& md) {
    for (int id : ids)
      if (std::find(md.brokers.begin(), md.brokers.end(), id) == md.brokers.end()) return false;
    return true;
  });
}

// Polls metadata until `done`; a node that exits meanwhile fails fast with
// the end of its log.
Status LocalKafkaTarget::wait_for(const std::string& what, int timeout_ms, const std::function<bool(const PartitionLeaders&)>& done) {
  auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  for (;;) {
    for (auto& n : nodes_) {
      if (out_.count(n->id()) || n->process().running()) continue;
      std::string msg = "Kafka node " + std::to_string(n->id()) + " exited while waiting for " + what + " (log: " + n->log_file() + ")";
      std::string tail = tail_of_file(n->log_file(), 8);
      if (!tail.empty()) msg += ":\n" + tail;
      return unreachable_error(msg);
    }
    auto md = fetch_partition_leaders(admin_.get(), 1000);
    if (md && done(*md)) return std::nullopt;
    if (Clock::now() >= deadline) {
      std::string msg = "local Kafka at " + bootstrap_ + ": timed out after " + std::to_string(timeout_ms / 1000) + " s waiting for " + what;
      msg += " (logs: " + dir_ + "/node-*/server.log)";
      return unreachable_error(msg);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
}

void LocalKafkaTarget::stop() {
  admin_.reset();
  // SIGKILL, not a controlled shutdown: the data is deleted next, and brokers
  // stopping one by one wait for a quorum that is stopping too.
  for (auto& n : nodes_)
    if (n->process().running()) n->process().kill_hard();
  nodes_.clear();
  if (!dir_.empty()) {
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }
  dir_.clear();
}

Result<int> LocalKafkaTarget::resolve_broker(const BrokerChoice& choice) {
  switch (choice.kind) {
    case BrokerChoice::Kind::Id: return choice.id;
    case BrokerChoice::Kind::Random: return runtime_error("internal: random broker not resolved by the plan");
    case BrokerChoice::Kind::LeaderOf: return fetch_partition_leader(admin_.get(), choice.topic, choice.partition);
    case BrokerChoice::Kind::Controller: {
      // The quorum leader with the highest epoch any controller has written.
      std::pair<int, int> best{-1, -1};
      for (auto& n : nodes_) {
        if (!n->controller()) continue;
        auto q = n->quorum_leader();
        if (q.second > best.second) best = q;
      }
      if (best.first < 0) return runtime_error("the KRaft quorum has no leader right now");
      return best.first;
    }
  }
  return runtime_error("internal: bad broker choice");
}

Result<ChaosInjection> LocalKafkaTarget::inject(const ChaosAction& action) {
  if (action.verb == ChaosVerb::AddBrokers) return add_brokers(action.count);
  if (action.verb == ChaosVerb::AddPartitions) return add_partitions(action.topic, action.partitions);
  auto broker = resolve_broker(action.broker);
  if (!broker) return broker.error();
  if (!node(*broker)) return runtime_error("broker " + std::to_string(*broker) + " does not exist");
  if (out_.count(*broker)) return runtime_error("broker " + std::to_string(*broker) + " is already out of service");
  return take_out(*broker, action.verb);
}

Result<ChaosInjection> LocalKafkaTarget::take_out(int broker, ChaosVerb verb) {
  KafkaNode* n = node(broker);
  ChildProcess& p = n->process();
  std::string name = "broker " + std::to_string(broker);
  if (n->controller()) name += " (controller)";
  ChaosInjection inj;
  inj.out_of_service = broker;
  inj.details = {{"broker", broker}, {"pid", p.pid()}, {"controller", n->controller()}};
  Status st;
  if (verb == ChaosVerb::BrokerPause) {
    st = p.pause();
    inj.description = name + " paused (SIGSTOP)";
    inj.undo = [this, broker]() -> Status {
      out_.erase(broker);
      KafkaNode* n = node(broker);
      return n ? n->process().resume() : std::nullopt;  // gone: the cluster was stopped first
    };
  } else {
    bool graceful = verb == ChaosVerb::BrokerStop;
    st = graceful ? p.stop(60000) : p.kill_hard();
    inj.description = name + (graceful ? " stopped (SIGTERM, controlled shutdown)" : " killed (SIGKILL)");
    // Restarted with the same data, as Kubernetes restarts a pod; the
    // observer reports when it is back in sync.
    inj.undo = [this, broker]() -> Status {
      out_.erase(broker);
      KafkaNode* n = node(broker);
      return n ? n->process().restart() : std::nullopt;
    };
  }
  if (st) return *st;
  out_.insert(broker);
  return inj;
}

Result<ChaosInjection> LocalKafkaTarget::add_brokers(int count) {
  size_t first = nodes_.size();
  int next_id = 1;
  for (auto& n : nodes_) next_id = std::max(next_id, n->id() + 1);
  std::vector<int> ids;
  for (int i = 0; i < count; ++i) {
    KafkaNodeConfig c;
    c.id = next_id + i;
    c.controller = false;
    auto port = free_loopback_port();
    if (!port) return port.error();
    c.port = *port;
    c.voters = voters_;
    c.dir = dir_ + "/node-" + std::to_string(c.id);
    c.internal_replication = internal_replication_;
    nodes_.push_back(std::make_unique<KafkaNode>(dist_, c));
    ids.push_back(c.id);
  }
  if (auto err = start_nodes(first, kStartTimeoutMs)) return *err;
  ChaosInjection inj;
  inj.description = "added " + std::to_string(count) + (count == 1 ? " broker" : " brokers") + " (ids";
  for (int id : ids) inj.description += " " + std::to_string(id);
  inj.description += "), registered in the cluster's metadata";
  inj.details = {{"brokers_added", ids}};
  return inj;
}

Result<ChaosInjection> LocalKafkaTarget::add_partitions(const std::string& topic, int total) {
  if (auto err = create_partitions(admin_.get(), topic, total, bootstrap_)) return *err;
  if (auto err = wait_for(topic + " to have " + std::to_string(total) + " partitions with leaders", 60000, [&](const PartitionLeaders& md) {
        for (int p = 0; p < total; ++p) {
          auto it = md.leader.find({topic, p});
          if (it == md.leader.end() || it->second < 0) return false;
        }
        return true;
      }))
    return *err;
  ChaosInjection inj;
  inj.description = topic + " now has " + std::to_string(total) + " partitions, each with a leader";
  inj.details = {{"topic", topic}, {"partitions", total}};
  return inj;
}

}  // namespace kapture
