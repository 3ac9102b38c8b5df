#include "scenario/Scenario.h"

namespace kapture {

bool chaos_verb_targets_broker(ChaosVerb v) { return v == ChaosVerb::BrokerDown || v == ChaosVerb::BrokerDelay; }

const char* chaos_verb_name(ChaosVerb v) {
  switch (v) {
    case ChaosVerb::BrokerDown: return "broker-down";
    case ChaosVerb::BrokerDelay: return "broker-delay";
    case ChaosVerb::RedisKill: return "redis-kill";
    case ChaosVerb::RedisPause: return "redis-pause";
    case ChaosVerb::PostgresKill: return "postgres-kill";
    case ChaosVerb::PostgresPause: return "postgres-pause";
    case ChaosVerb::ConsumerCrash: return "consumer-crash";
  }
  return "?";
}

std::string BrokerChoice::describe() const {
  switch (kind) {
    case Kind::Random: return "random broker";
    case Kind::Id: return "broker " + std::to_string(id);
    case Kind::LeaderOf: return "leader of " + topic + "/" + std::to_string(partition);
  }
  return "?";
}

}  // namespace kapture
