#include "scenario/Scenario.h"

namespace kapture {

const char* chaos_verb_name(ChaosVerb v) {
  switch (v) {
    case ChaosVerb::BrokerDown: return "broker-down";
    case ChaosVerb::BrokerDelay: return "broker-delay";
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
