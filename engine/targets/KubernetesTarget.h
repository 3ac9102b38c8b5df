#pragma once
// The topology on a Kubernetes cluster, reached through the engine's own API
// client: the components of topology.kubernetes.deploy applied from
// manifests/ into the run's namespace in order, each waited for; chaos on
// pods and nodes, scale steps on StatefulSets and Deployments. Every
// mutation writes its undo into the journal first (with a replayable form
// for `kapture-engine recover`); the namespace the run created, or the
// objects it created in an existing one, are deleted when the journal runs
// at the end, unless --keep.
//
// Kafka in the cluster is reached at --kafka / topology.kafka.bootstrap
// (a port-forward, a LoadBalancer) or, when the engine itself runs in the
// cluster, at the kafka Service. Broker N of the plan is pod kafka-(N-1):
// the manifests give each broker its StatefulSet ordinal + 1 as node id.
#include <atomic>
#include <memory>
#include <mutex>
#include <set>

#include "drivers/kube/KubeClient.h"
#include "drivers/kube/KubeConfig.h"
#include "report/EventLog.h"
#include "targets/Target.h"
#include "timeline/UndoJournal.h"

namespace kapture {

struct KubeTargetOptions {
  KubeConfigOptions access;              // --kubeconfig, --context, --namespace
  bool keep = false;                     // --keep: leave what was deployed
  std::set<std::string> allow_namespaces;  // --allow-namespace
  std::string kafka_bootstrap;           // --kafka or topology.kafka.bootstrap
  std::map<std::string, std::string> kafka_properties;
};

class KubernetesTarget : public Target {
 public:
  explicit KubernetesTarget(KubeTargetOptions options);
  ~KubernetesTarget() override;
  std::string name() const override { return "kubernetes"; }
  std::vector<ChaosVerb> chaos_verbs() const override;
  std::vector<std::string> tls_warnings() const override;
  void attach_run(UndoJournal& undo, EventLog& events) override {
    undo_ = &undo;
    events_ = &events;
  }
  Status start(const Scenario& scenario) override;
  std::string kafka_bootstrap() const override { return bootstrap_; }
  std::map<std::string, std::string> kafka_properties() const override { return options_.kafka_properties; }
  Result<ChaosInjection> inject(const ChaosAction& action) override;
  void stop() override {}
  void interrupt() override { interrupted_ = true; }

  // Connects (no change to the cluster) and says, for each Kubernetes step
  // of the plan, what it would hit now: `plan` against a cluster.
  Result<std::vector<std::string>> preview(const Scenario& scenario, const std::vector<ChaosAction>& actions);

  // Objects a run adds after start (a distributed run's worker Job, its
  // ConfigMap and Secret) in the run's namespace: each one's deletion is
  // journaled first, as for the deployed components (unless --keep).
  Status add_objects(const std::vector<nlohmann::json>& objects);
  // Kafka as pods in the cluster reach it: the kafka Service when the run
  // deployed Kafka, else the bootstrap the engine was given.
  std::string in_cluster_kafka_bootstrap() const { return deployed_kafka_ ? "kafka." + ns_ + ".svc:9092" : bootstrap_; }

  const std::string& namespace_name() const { return ns_; }
  const std::string& run_label() const { return run_label_; }
  // How the target reached the cluster, for the API load workloads (after start()).
  const KubeAccess& access() const { return access_; }

 private:
  Status connect();
  std::string run_namespace(const Scenario& scenario) const;
  Status check_chaos_namespaces(const Scenario& scenario);
  Status deploy(const Scenario& scenario);
  Status prepare_kafka(const Scenario& scenario);
  Result<std::vector<nlohmann::json>> candidate_pods(const ChaosAction& action, std::string& ns, std::string& selector);
  Result<std::string> leader_pod(const std::string& topic, int partition);
  Result<ChaosInjection> pod_chaos(const ChaosAction& action);
  Result<ChaosInjection> node_chaos(const ChaosAction& action);
  Result<ChaosInjection> scale(const ChaosAction& action);
  Result<ChaosInjection> broker_kill(const ChaosAction& action);
  Result<std::string> pick_node(const NodeSelection& selection, uint64_t seed);
  // Journal entry first, then the change (the undo of a half-done change is harmless).
  int record_undo(const std::string& description, const nlohmann::json& replay);
  Status replay(const nlohmann::json& undo);
  void event(const std::string& type, nlohmann::json fields);

  KubeTargetOptions options_;
  KubeAccess access_;
  std::unique_ptr<KubeClient> client_;
  std::string ns_;
  std::string run_label_;
  std::string bootstrap_;
  bool deployed_kafka_ = false;
  std::chrono::milliseconds ready_timeout_{300000};
  UndoJournal* undo_ = nullptr;
  EventLog* events_ = nullptr;
  std::unique_ptr<UndoJournal> own_journal_;  // when no run attached one (serve, tests)
  std::atomic<bool> interrupted_{false};
};

// `kapture-engine down NAMESPACE`: deletes what runs left there with --keep
// (objects labelled kapture.io/run) and the namespace itself if a run created it.
Status tear_down_namespace(KubeClient& client, const std::string& ns, std::chrono::milliseconds timeout, std::string& report);

}  // namespace kapture
