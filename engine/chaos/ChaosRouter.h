#pragma once
// Sends each chaos action to whoever can carry it out: broker actions to the
// target, Redis/PostgreSQL actions to the store servers, consumer crashes to
// the ETL workload named in the step.
#include <map>
#include <string>

#include "chaos/ChaosAction.h"
#include "targets/StoreServers.h"
#include "targets/Target.h"
#include "workloads/EtlWorkload.h"

namespace kapture {

class ChaosRouter : public ChaosInjector {
 public:
  ChaosRouter(Target& target, StoreServers& stores, std::map<std::string, EtlWorkload*> etls)
      : target_(target), stores_(stores), etls_(std::move(etls)) {}

  Result<ChaosInjection> inject(const ChaosAction& action) override {
    if (chaos_verb_targets_broker(action.verb)) return target_.inject(action);
    if (action.verb == ChaosVerb::ConsumerCrash) {
      auto it = etls_.find(action.workload);
      if (it == etls_.end()) return runtime_error("no etl workload named '" + action.workload + "'");
      return it->second->crash_consumer();
    }
    return stores_.inject(action);
  }

 private:
  Target& target_;
  StoreServers& stores_;
  std::map<std::string, EtlWorkload*> etls_;
};

}  // namespace kapture
