#include "scenario/Scenario.h"

namespace kapture {

Result<FieldTemplate> parse_field_template(const std::string& src) {
  FieldTemplate t;
  t.source = src;
  size_t i = 0;
  while (i < src.size()) {
    size_t open = src.find('{', i);
    if (open == std::string::npos) {
      t.parts.push_back({false, src.substr(i), {}});
      break;
    }
    if (open > i) t.parts.push_back({false, src.substr(i, open - i), {}});
    size_t close = src.find('}', open);
    if (close == std::string::npos) return usage_error("'" + src + "' has a '{' without a closing '}'");
    FieldTemplate::Part p;
    p.is_field = true;
    p.text = src.substr(open + 1, close - open - 1);
    size_t start = 0;
    for (;;) {
      size_t dot = p.text.find('.', start);
      std::string seg = p.text.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
      if (seg.empty()) return usage_error("'" + src + "' has an empty field name in '{" + p.text + "}'");
      p.path.push_back(seg);
      if (dot == std::string::npos) break;
      start = dot + 1;
    }
    t.parts.push_back(std::move(p));
    i = close + 1;
  }
  return t;
}

bool chaos_verb_takes_broker(ChaosVerb v) {
  return v == ChaosVerb::BrokerDown || v == ChaosVerb::BrokerDelay || chaos_verb_is_outage(v);
}

bool chaos_verb_is_outage(ChaosVerb v) {
  return v == ChaosVerb::BrokerDown || v == ChaosVerb::BrokerKill || v == ChaosVerb::BrokerPause || v == ChaosVerb::BrokerStop;
}

bool chaos_verb_is_scale(ChaosVerb v) {
  return v == ChaosVerb::AddBrokers || v == ChaosVerb::AddPartitions || v == ChaosVerb::ScaleProducer || v == ChaosVerb::ScaleStatefulSet ||
         v == ChaosVerb::ScaleDeployment;
}

bool chaos_verb_is_kube(ChaosVerb v) {
  return v == ChaosVerb::PodKill || v == ChaosVerb::PodEvict || v == ChaosVerb::NodeCordon || v == ChaosVerb::NodeDrain ||
         v == ChaosVerb::ScaleStatefulSet || v == ChaosVerb::ScaleDeployment;
}

std::string PodSelection::describe() const {
  std::string out;
  if (!leader_topic.empty()) out = "the pod leading " + leader_topic + "/" + std::to_string(leader_partition);
  else if (!name.empty()) out = "pod " + name;
  else out = "pods " + (selector.empty() ? std::string("(all)") : selector);
  if (!namespace_.empty()) out += " in " + namespace_;
  return out;
}

std::string NodeSelection::describe() const {
  if (!name.empty()) return "node " + name;
  return "a random node" + (selector.empty() ? std::string() : " matching " + selector);
}

bool chaos_verb_targets_broker(ChaosVerb v) {
  return chaos_verb_takes_broker(v) || v == ChaosVerb::AddBrokers || v == ChaosVerb::AddPartitions;
}

const char* chaos_verb_name(ChaosVerb v) {
  switch (v) {
    case ChaosVerb::BrokerDown: return "broker-down";
    case ChaosVerb::BrokerDelay: return "broker-delay";
    case ChaosVerb::BrokerKill: return "broker-kill";
    case ChaosVerb::BrokerPause: return "broker-pause";
    case ChaosVerb::BrokerStop: return "broker-stop";
    case ChaosVerb::AddBrokers: return "add-brokers";
    case ChaosVerb::AddPartitions: return "add-partitions";
    case ChaosVerb::ScaleProducer: return "producer";
    case ChaosVerb::RedisKill: return "redis-kill";
    case ChaosVerb::RedisPause: return "redis-pause";
    case ChaosVerb::PostgresKill: return "postgres-kill";
    case ChaosVerb::PostgresPause: return "postgres-pause";
    case ChaosVerb::ConsumerCrash: return "consumer-crash";
    case ChaosVerb::PodKill: return "pod-kill";
    case ChaosVerb::PodEvict: return "pod-evict";
    case ChaosVerb::NodeCordon: return "node-cordon";
    case ChaosVerb::NodeDrain: return "node-drain";
    case ChaosVerb::ScaleStatefulSet: return "statefulset";
    case ChaosVerb::ScaleDeployment: return "deployment";
  }
  return "?";
}

std::string BrokerChoice::describe() const {
  switch (kind) {
    case Kind::Random: return "random broker";
    case Kind::Id: return "broker " + std::to_string(id);
    case Kind::LeaderOf: return "leader of " + topic + "/" + std::to_string(partition);
    case Kind::Controller: return "the active controller";
  }
  return "?";
}

}  // namespace kapture
