#pragma once
// Sends each step to whoever can carry it out: broker actions and scale steps
// to the target, Redis/PostgreSQL actions to the store servers, consumer
// crashes to the ETL workload named in the step, producer scale steps to
// the producer. Dry runs stop here. Broker
// outages are reported to the cluster observer, which measures recovery.
#include <map>
#include <string>

#include "chaos/ChaosAction.h"
#include "chaos/ClusterObserver.h"
#include "targets/StoreServers.h"
#include "targets/Target.h"
#include "workloads/EtlWorkload.h"
#include "workloads/ProducerWorkload.h"

namespace kapture {

class ChaosRouter : public ChaosInjector {
 public:
  ChaosRouter(Target& target, StoreServers& stores, std::map<std::string, EtlWorkload*> etls,
              std::map<std::string, ProducerWorkload*> producers, ClusterObserver* observer, const RunClock& clock)
      : target_(target), stores_(stores), etls_(std::move(etls)), producers_(std::move(producers)), observer_(observer), clock_(clock) {}

  Result<ChaosInjection> inject(const ChaosAction& action) override {
    // Kubernetes dry runs go to the target, which names the pods or node it would hit.
    if (action.dry_run && !chaos_verb_is_kube(action.verb)) return dry_run(action);
    if (action.verb == ChaosVerb::ConsumerCrash) {
      auto it = etls_.find(action.workload);
      if (it == etls_.end()) return runtime_error("no etl workload named '" + action.workload + "'");
      return it->second->crash_consumer();
    }
    if (action.verb == ChaosVerb::ScaleProducer) {
      auto it = producers_.find(action.workload);
      if (it == producers_.end()) return runtime_error("no kafka-producer workload named '" + action.workload + "'");
      return it->second->scale(action.rate, action.threads);
    }
    if (!chaos_verb_targets_broker(action.verb) && !chaos_verb_is_kube(action.verb)) return stores_.inject(action);
    std::optional<PartitionLeaders> before;
    if (observer_ && chaos_verb_is_outage(action.verb)) before = observer_->snapshot();
    auto inj = target_.inject(action);
    if (!inj || inj->out_of_service < 0 || !observer_) return inj;
    int broker = inj->out_of_service;
    observer_->out_of_service(broker, clock_.now_us(), std::move(before));
    inj->undo = [undo = std::move(inj->undo), this, broker]() -> Status {
      Status st = undo();
      if (!st) observer_->back_in_service(broker, clock_.now_us());
      return st;
    };
    return inj;
  }

 private:
  static Result<ChaosInjection> dry_run(const ChaosAction& action) {
    ChaosInjection inj;
    inj.description = "dry run: would ";
    inj.description += chaos_verb_name(action.verb);
    if (chaos_verb_takes_broker(action.verb)) {
      inj.description += ' ';
      inj.description += action.broker.describe();
    }
    inj.details = {{"dry_run", true}};
    inj.undo = [] { return Status{}; };
    return inj;
  }

  Target& target_;
  StoreServers& stores_;
  std::map<std::string, EtlWorkload*> etls_;
  std::map<std::string, ProducerWorkload*> producers_;
  ClusterObserver* observer_;
  const RunClock& clock_;
};

}  // namespace kapture
