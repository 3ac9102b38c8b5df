#include <memory>

#include "targets/EmbeddedTarget.h"
#include "targets/ExistingKafkaTarget.h"
#include "targets/KubernetesTarget.h"
#include "targets/LocalKafkaTarget.h"
#include "targets/Target.h"

namespace kapture {

Result<std::unique_ptr<Target>> make_target(const Scenario& scenario, const TargetOptions& options) {
  std::string bootstrap = !options.kafka_bootstrap.empty() ? options.kafka_bootstrap : scenario.kafka.bootstrap;
  std::string kind = options.kind.empty() ? scenario.target : options.kind;
  if (kind == "kubernetes") {
    // Kafka given here is how the engine reaches the cluster's Kafka (a
    // port-forward, a LoadBalancer); the topology itself is deployed.
    KubeTargetOptions ko;
    ko.access.kubeconfig = options.kubeconfig;
    ko.access.context = options.kube_context;
    ko.access.namespace_ = options.kube_namespace;
    ko.keep = options.keep;
    ko.allow_namespaces = std::set<std::string>(options.allow_namespaces.begin(), options.allow_namespaces.end());
    ko.kafka_bootstrap = bootstrap;
    ko.kafka_properties = scenario.kafka.properties;
    for (const auto& [k, v] : options.kafka_properties) ko.kafka_properties[k] = v;
    return std::unique_ptr<Target>(std::make_unique<KubernetesTarget>(ko));
  }
  if (!bootstrap.empty()) {
    auto props = scenario.kafka.properties;
    for (const auto& [k, v] : options.kafka_properties) props[k] = v;
    return std::unique_ptr<Target>(std::make_unique<ExistingKafkaTarget>(bootstrap, props));
  }
  if (kind == "embedded") return std::unique_ptr<Target>(std::make_unique<EmbeddedTarget>());
  if (kind == "local") return std::unique_ptr<Target>(std::make_unique<LocalKafkaTarget>());
  return usage_error("unknown target '" + kind + "' (embedded, local, kubernetes)");
}

std::vector<Error> check_target_supports(const Scenario& scenario, const Target& target) {
  std::vector<Error> errors;
  auto verbs = target.chaos_verbs();
  for (const auto& phase : scenario.phases) {
    for (const auto& step : phase.steps) {
      if (!chaos_verb_targets_broker(step.verb) && !chaos_verb_is_kube(step.verb)) continue;  // stores and workloads are checked elsewhere
      bool ok = false;
      for (auto v : verbs) ok = ok || v == step.verb;
      if (ok && step.broker.kind == BrokerChoice::Kind::Controller && chaos_verb_takes_broker(step.verb) && !target.can_target_controller())
        errors.push_back(usage_error("broker: controller needs a KRaft controller quorum, which the " + target.name() +
                                         " target does not have (run on --target local)",
                                     step.where));
      if (ok) continue;
      std::string msg = std::string("step '") + chaos_verb_name(step.verb) + "' is not available on the " + target.name() + " target";
      if (chaos_verb_is_kube(step.verb)) msg += " (it acts on Kubernetes objects: run with --target kubernetes)";
      if (verbs.empty()) {
        msg += ", which gives no control over the brokers (run on --target local or embedded, or drop the step)";
      } else {
        msg += " (it has:";
        for (auto v : verbs) {
          msg += ' ';
          msg += chaos_verb_name(v);
        }
        msg += ")";
      }
      errors.push_back(usage_error(msg, step.where));
    }
  }
  return errors;
}

}  // namespace kapture
