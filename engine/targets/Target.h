#pragma once
// Where Kafka lives and how to hurt it. Validation asks a target which chaos
// verbs it has, so an impossible step fails before anything runs.
#include <string>
#include <vector>

#include "chaos/ChaosAction.h"
#include "common/Error.h"
#include "scenario/Scenario.h"

namespace kapture {

class UndoJournal;
class EventLog;

class Target : public ChaosInjector {
 public:
  virtual ~Target() = default;
  virtual std::string name() const = 0;
  virtual std::vector<ChaosVerb> chaos_verbs() const = 0;
  // Whether `broker: controller` means something here (a KRaft quorum).
  virtual bool can_target_controller() const { return false; }
  // Whether the cluster answers Admin API requests (the mock does not).
  virtual bool has_admin_api() const { return true; }
  // The run's undo journal and event log, before start(): targets that
  // change a shared system (Kubernetes) record their undos there.
  virtual void attach_run(UndoJournal&, EventLog&) {}
  // SIGINT/SIGTERM while start() runs: give up waiting and return.
  virtual void interrupt() {}
  // Brings up (or connects to) the topology and creates its topics.
  virtual Status start(const Scenario& scenario) = 0;
  virtual std::string kafka_bootstrap() const = 0;
  // Client properties every Kafka client of the run needs (security etc.).
  virtual std::map<std::string, std::string> kafka_properties() const = 0;
  // Where the target's own settings turned TLS verification off (known once
  // start() connected), for the results' warnings.
  virtual std::vector<std::string> tls_warnings() const { return {}; }
  // Applies the action; the caller registers the returned undo before doing
  // anything else. The target performs the change itself before returning:
  // if the change half-happened, the undo still puts it back.
  Result<ChaosInjection> inject(const ChaosAction& action) override = 0;
  virtual void stop() = 0;
};

struct TargetOptions {
  std::string kind = "embedded";               // --target
  std::string kafka_bootstrap;                 // --kafka: an existing cluster
  std::map<std::string, std::string> kafka_properties;  // --kafka-prop
  // The kubernetes target: --kubeconfig, --context, --namespace, --keep, --allow-namespace.
  std::string kubeconfig, kube_context, kube_namespace;
  bool keep = false;
  std::vector<std::string> allow_namespaces;
};

// The target a scenario runs on, honouring --target and --kafka.
Result<std::unique_ptr<Target>> make_target(const Scenario& scenario, const TargetOptions& options);

// What validation reports for steps the target cannot do.
std::vector<Error> check_target_supports(const Scenario& scenario, const Target& target);

}  // namespace kapture
