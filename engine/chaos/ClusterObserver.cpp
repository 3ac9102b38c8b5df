#include "chaos/ClusterObserver.h"

#include <algorithm>

#include "drivers/kafka/KafkaAdmin.h"

namespace kapture {

namespace {

constexpr int kPollMs = 250;
constexpr int64_t kGiveUpUs = 120 * 1000000LL;  // an outage not healed by then is reported as such

SecondSample one_value(const std::string& name, int64_t value) {
  Histogram h;
  h.record(value);
  SecondSample s;
  s.histograms[name] = h.compact();
  return s;
}

bool internal_topic(const TopicPartition& tp) { return tp.first.rfind("__", 0) == 0; }

// The scenario's partitions (not __consumer_offsets) that lack replicas in
// sync, and that lack a leader.
struct Health {
  int under_replicated = 0;
  int offline = 0;
};
Health health_of(const PartitionLeaders& s) {
  Health h;
  for (const auto& [tp, reps] : s.replicas) {
    if (internal_topic(tp)) continue;
    auto isr = s.isr.find(tp);
    h.under_replicated += isr == s.isr.end() || isr->second.size() < reps.size();
    auto leader = s.leader.find(tp);
    h.offline += leader == s.leader.end() || leader->second < 0;
  }
  return h;
}

}  // namespace

Status ClusterObserver::start(const std::string& bootstrap, const std::map<std::string, std::string>& properties) {
  // Quiet: a broker being down is what chaos is for; failures come back as values.
  auto props = properties;
  props["log_level"] = "0";
  auto client = make_kafka_client(bootstrap, props);
  if (!client) return client.error();
  client_ = std::move(*client);
  thread_ = std::thread([this] { loop(); });
  return std::nullopt;
}

void ClusterObserver::stop() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  client_.reset();
}

std::optional<PartitionLeaders> ClusterObserver::snapshot() {
  if (!client_) return std::nullopt;
  auto s = fetch_partition_leaders(client_.get(), 2000);
  if (!s) return std::nullopt;
  return *s;
}

void ClusterObserver::out_of_service(int broker, int64_t at_us, std::optional<PartitionLeaders> before) {
  std::lock_guard lock(mu_);
  outages_.push_back(Outage{broker, at_us, std::move(before), false});
}

void ClusterObserver::back_in_service(int broker, int64_t at_us) {
  std::lock_guard lock(mu_);
  for (auto it = outages_.begin(); it != outages_.end();) {
    if (it->broker != broker) {
      ++it;
      continue;
    }
    // Back before the cluster moved leadership off it: say so, since the
    // fault was shorter than the cluster's failure detection.
    if (!it->leaders_recovered)
      events_.write("leaders_not_recovered",
                    {{"broker", broker}, {"after_ms", (at_us - it->since_us) / 1000}, {"reason", "the broker came back before leadership moved"}});
    it = outages_.erase(it);
  }
  returns_.push_back(Return{broker, at_us});
}

nlohmann::json ClusterObserver::snapshot_json(const PartitionLeaders& s) {
  nlohmann::json parts = nlohmann::json::object();
  for (const auto& [tp, leader] : s.leader) {
    if (internal_topic(tp)) continue;
    auto isr = s.isr.find(tp);
    parts[tp.first + "/" + std::to_string(tp.second)] = {{"leader", leader},
                                                          {"isr", isr == s.isr.end() ? std::vector<int>{} : isr->second}};
  }
  return {{"brokers", s.brokers}, {"partitions", parts}};
}

nlohmann::json ClusterObserver::describe(const std::vector<std::string>& topics, bool with_configs) {
  nlohmann::json j = nlohmann::json::object();
  auto md = snapshot();
  if (!md) return j;
  j["brokers"] = md->brokers;
  std::map<std::string, std::pair<int, size_t>> shape;  // topic -> partitions, replication factor
  for (const auto& [tp, reps] : md->replicas) {
    if (std::find(topics.begin(), topics.end(), tp.first) == topics.end()) continue;
    auto& s = shape[tp.first];
    ++s.first;
    s.second = std::max(s.second, reps.size());
  }
  std::map<std::string, std::map<std::string, std::string>> configs;
  if (with_configs)
    if (auto c = describe_topic_configs(client_.get(), topics, "the cluster")) configs = *c;
  for (const auto& [topic, s] : shape) {
    nlohmann::json t = {{"partitions", s.first}, {"replication_factor", s.second}};
    if (with_configs) t["configs"] = configs[topic];
    j["topics"][topic] = t;
  }
  return j;
}

void ClusterObserver::loop() {
  std::unique_lock lock(mu_);
  while (!stop_) {
    lock.unlock();
    auto now = fetch_partition_leaders(client_.get(), 2000);
    int64_t now_us = clock_.now_us();
    lock.lock();
    if (now) examine(*now, now_us);
    cv_.wait_for(lock, std::chrono::milliseconds(kPollMs), [this] { return stop_; });
  }
}

// Called with mu_ held.
void ClusterObserver::examine(const PartitionLeaders& now, int64_t now_us) {
  int64_t second = now_us / 1000000;
  if (second != last_gauge_second_) {
    last_gauge_second_ = second;
    SecondSample g;
    Health h = health_of(now);
    g.gauges["kafka.brokers"] = static_cast<double>(now.brokers.size());
    g.gauges["kafka.under_replicated"] = h.under_replicated;
    g.gauges["kafka.offline_partitions"] = h.offline;
    metrics_.add(second, g);
  }
  int64_t moved = 0;
  for (const auto& [tp, leader] : now.leader) {
    if (internal_topic(tp) || leader < 0) continue;
    auto [it, fresh] = last_leader_.emplace(tp, leader);
    if (!fresh && it->second != leader) {
      ++moved;
      it->second = leader;
    }
  }
  if (moved) metrics_.add_counter(second, "kafka.leader_changes", moved);
  std::vector<int> down;
  for (const auto& o : outages_) down.push_back(o.broker);
  for (auto& o : outages_) {
    if (o.leaders_recovered) continue;
    // Recovered when no partition is led by a broker that is out of service,
    // and every partition that has a live replica has a leader. Partitions
    // whose replicas are all out of service cannot recover: counted, not awaited.
    int waiting = 0, stranded = 0;
    for (const auto& [tp, leader] : now.leader) {
      if (internal_topic(tp)) continue;
      const auto& reps = now.replicas.at(tp);
      bool any_live = std::any_of(reps.begin(), reps.end(), [&](int r) { return std::find(down.begin(), down.end(), r) == down.end(); });
      bool led_by_down = std::find(down.begin(), down.end(), leader) != down.end();
      if (!any_live) ++stranded;
      else if (leader < 0 || led_by_down) ++waiting;
    }
    int64_t took = now_us - o.since_us;
    if (waiting > 0 && took < kGiveUpUs) continue;
    o.leaders_recovered = true;
    nlohmann::json moved = nlohmann::json::array();
    if (o.before) {
      for (const auto& [tp, was] : o.before->leader) {
        auto it = now.leader.find(tp);
        if (internal_topic(tp) || it == now.leader.end() || it->second == was) continue;
        moved.push_back({{"topic", tp.first}, {"partition", tp.second}, {"from", was}, {"to", it->second}});
      }
    }
    nlohmann::json ev = {{"broker", o.broker},       {"after_ms", took / 1000}, {"leaders_moved", moved},
                         {"stranded_partitions", stranded}, {"after", snapshot_json(now)}};
    if (o.before) ev["before"] = snapshot_json(*o.before);
    if (waiting > 0) {
      ev["partitions_still_without_leader"] = waiting;
      events_.write("leaders_not_recovered", ev);
    } else {
      events_.write("leaders_recovered", ev);
      metrics_.add(second, one_value("kafka.leader_recovery", took));
    }
  }
  int under = health_of(now).under_replicated;
  for (auto it = returns_.begin(); it != returns_.end();) {
    int64_t took = now_us - it->since_us;
    bool listed = std::find(now.brokers.begin(), now.brokers.end(), it->broker) != now.brokers.end();
    if ((under > 0 || !listed) && took < kGiveUpUs) {
      ++it;
      continue;
    }
    if (under == 0 && listed) {
      events_.write("replicas_in_sync", {{"broker", it->broker}, {"after_ms", took / 1000}});
      metrics_.add(second, one_value("kafka.isr_recovery", took));
    } else {
      events_.write("replicas_not_in_sync", {{"broker", it->broker}, {"after_ms", took / 1000}, {"under_replicated", under}});
    }
    it = returns_.erase(it);
  }
}

}  // namespace kapture
