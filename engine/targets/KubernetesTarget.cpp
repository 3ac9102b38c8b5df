#include "targets/KubernetesTarget.h"

#include "common/RandomSuffix.h"

#include <algorithm>
#include <random>
#include <thread>

#include <spdlog/spdlog.h>

#include "chaos/PodPicker.h"
#include "drivers/kafka/KafkaAdmin.h"
#include "drivers/kafka/KafkaHandles.h"
#include "drivers/kube/KubeRollout.h"
#include "drivers/kube/KubeUndo.h"
#include "targets/KubeManifests.h"

namespace kapture {

namespace {

KubeResourceType builtin(const char* api_version, const char* kind) { return *builtin_resource_type(api_version, kind); }

std::string ms_text(int64_t us) { return std::to_string(us / 1000000) + "s"; }

// Kubernetes names: lowercase alphanumerics and '-', at most 63.
std::string dns_label(std::string s) {
  for (auto& c : s) c = std::isalnum(static_cast<unsigned char>(c)) ? static_cast<char>(std::tolower(c)) : '-';
  if (s.size() > 63) s.resize(63);
  while (!s.empty() && s.back() == '-') s.pop_back();
  return s;
}

bool uses_kafka(const Scenario& s) { return !s.kafka.topics.empty() || !s.workloads.empty() || !s.etls.empty() || s.webapp.declared; }

}  // namespace

KubernetesTarget::KubernetesTarget(KubeTargetOptions options) : options_(std::move(options)) {}

KubernetesTarget::~KubernetesTarget() = default;

std::vector<ChaosVerb> KubernetesTarget::chaos_verbs() const {
  return {ChaosVerb::BrokerKill, ChaosVerb::PodKill, ChaosVerb::PodEvict, ChaosVerb::NodeCordon, ChaosVerb::NodeDrain, ChaosVerb::ScaleStatefulSet,
          ChaosVerb::ScaleDeployment};
}

std::vector<std::string> KubernetesTarget::tls_warnings() const {
  if (!client_ || !access_.endpoint.insecure) return {};
  return {"kubernetes: TLS verification of the API server " + access_.endpoint.server + " is off (insecure-skip-tls-verify in context '" +
          access_.endpoint.context + "')"};
}

void KubernetesTarget::event(const std::string& type, nlohmann::json fields) {
  if (events_) events_->write(type, std::move(fields));
}

Status KubernetesTarget::connect() {
  if (client_) return std::nullopt;
  auto access = resolve_kube_access(options_.access);
  if (!access) return access.error();
  for (const auto& w : access->endpoint.warnings) spdlog::warn("kubeconfig: {}", w);
  access_ = *access;
  auto client = KubeClient::create(*access);
  if (!client) return client.error();
  client_ = std::move(*client);
  // One cheap call proves the server and the credential before anything changes.
  auto version = client_->request("GET", "/version");
  if (!kube_ok(version)) {
    Error e = to_error(kube_error(version));
    e.kind = ErrorKind::Unreachable;
    e.message = "Kubernetes API (" + client_->endpoint().describe() + "): " + e.message;
    return e;
  }
  return std::nullopt;
}

std::string KubernetesTarget::run_namespace(const Scenario& s) const {
  if (!options_.access.namespace_.empty()) return options_.access.namespace_;
  if (!s.kubernetes.namespace_.empty()) return s.kubernetes.namespace_;
  // kapture-NAME-XXXXXX: a fresh namespace per run.
  std::string base = dns_label("kapture-" + s.name);
  if (base.size() > 55) base.resize(55);
  return base + "-" + random_suffix();
}

int KubernetesTarget::record_undo(const std::string& description, const nlohmann::json& replay_form) {
  if (!undo_) {
    own_journal_ = std::make_unique<UndoJournal>("");
    undo_ = own_journal_.get();
  }
  nlohmann::json recorded = replay_form;
  recorded["server"] = client_->endpoint().server;  // `recover` checks it talks to the same cluster
  return undo_->push(description, [this, replay_form] { return replay(replay_form); }, recorded);
}

Status KubernetesTarget::replay(const nlohmann::json& undo) { return replay_kube_undo(*client_, undo, ready_timeout_); }

// Chaos only where it is allowed: checked for every namespace a step names
// before anything changes. The run's own namespace, when the run creates
// it, is labelled as allowed.
Status KubernetesTarget::check_chaos_namespaces(const Scenario& s) {
  std::set<std::string> namespaces;
  for (const auto& phase : s.phases)
    for (const auto& step : phase.steps) {
      if (!chaos_verb_is_kube(step.verb) && step.verb != ChaosVerb::BrokerKill) continue;
      if (step.verb == ChaosVerb::NodeCordon) continue;
      std::string ns = !step.pods.namespace_.empty() ? step.pods.namespace_ : !step.kube_namespace.empty() ? step.kube_namespace : ns_;
      if (step.verb != ChaosVerb::NodeDrain) namespaces.insert(ns);
    }
  for (const auto& ns : namespaces) {
    auto got = client_->get(KubeObjectRef{builtin("v1", "Namespace"), "", ns});
    nlohmann::json labels = nlohmann::json::object();
    if (kube_ok(got)) {
      labels = kube_value(got)["metadata"].value("labels", nlohmann::json::object());
    } else if (kube_error(got).http_status == 404 && ns == ns_) {
      labels["kapture.io/chaos"] = "allowed";  // the run creates it so
    } else if (kube_error(got).http_status == 404) {
      return usage_error("a step acts in namespace '" + ns + "', which does not exist");
    } else {
      return to_error(kube_error(got));
    }
    if (auto refusal = chaos_namespace_refusal(ns, labels, options_.allow_namespaces)) return usage_error(*refusal);
  }
  return std::nullopt;
}

Status KubernetesTarget::start(const Scenario& s) {
  ready_timeout_ = std::chrono::milliseconds(s.kubernetes.ready_timeout_us / 1000);
  if (auto err = connect()) return err;
  ns_ = run_namespace(s);
  run_label_ = dns_label(s.name);
  if (auto err = check_chaos_namespaces(s)) return err;
  if (auto err = deploy(s)) return err;
  return prepare_kafka(s);
}

Status KubernetesTarget::deploy(const Scenario& s) {
  auto t0 = std::chrono::steady_clock::now();
  auto components = load_component_objects(s, ns_, run_label_);
  if (!components) return components.error();
  KubeObjectRef ns_ref{builtin("v1", "Namespace"), "", ns_};
  auto existing = client_->get(ns_ref);
  if (!kube_ok(existing) && kube_error(existing).http_status != 404) return to_error(kube_error(existing));
  bool created_namespace = !kube_ok(existing);
  if (created_namespace) {
    if (!options_.keep) record_undo("delete namespace " + ns_, delete_namespace_undo(ns_));
    nlohmann::json ns = {{"apiVersion", "v1"},
                         {"kind", "Namespace"},
                         {"metadata",
                          {{"name", ns_},
                           {"labels", {{"kapture.io/chaos", "allowed"}, {"kapture.io/created-by", "kapture-engine"}, {"kapture.io/run", run_label_}}}}}};
    auto r = client_->apply(ns, "");
    if (!kube_ok(r)) return to_error(kube_error(r));
  }
  event("kube_namespace", {{"namespace", ns_}, {"created", created_namespace}, {"kept", options_.keep}, {"server", client_->endpoint().server}});
  for (const auto& c : *components) {
    if (interrupted_) return runtime_error("interrupted before deploying " + c.component);
    auto c0 = std::chrono::steady_clock::now();
    std::vector<KubeObjectRef> refs;
    for (const auto& o : c.objects) {
      auto ref = ref_of(*client_, o, ns_);
      if (!kube_ok(ref)) return to_error(kube_error(ref));
      // In a namespace the run did not create, each object it creates is
      // deleted again (objects that were there already are left).
      if (!created_namespace && !options_.keep && kube_value(ref).type.namespaced) {
        auto before = client_->get(kube_value(ref));
        if (!kube_ok(before) && kube_error(before).http_status == 404)
          record_undo("delete " + kube_value(ref).describe(), delete_undo(kube_value(ref)));
      } else if (!kube_value(ref).type.namespaced && !options_.keep) {
        record_undo("delete " + kube_value(ref).describe(), delete_undo(kube_value(ref)));
      }
      auto applied = client_->apply(o, ns_);
      if (!kube_ok(applied)) return runtime_error(c.file + ": " + to_error(kube_error(applied)).message);
      refs.push_back(kube_value(ref));
    }
    for (const auto& ref : refs)
      if (auto err = wait_until_ready(*client_, ref, ready_timeout_, &interrupted_)) return runtime_error("deploying " + c.component + ": " + err->message);
    auto took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - c0).count();
    spdlog::info("kubernetes: {} ready in {} ({} objects, {} ms)", c.component, ns_, refs.size(), took);
    event("kube_deployed", {{"component", c.component}, {"objects", refs.size()}, {"took_ms", took}});
  }
  auto took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count();
  event("kube_ready", {{"namespace", ns_}, {"took_ms", took}});
  if (options_.keep)
    spdlog::info("kubernetes: --keep: namespace {} stays after the run; remove it with `kapture-engine down {}`", ns_, ns_);
  return std::nullopt;
}

Status KubernetesTarget::add_objects(const std::vector<nlohmann::json>& objects) {
  for (const auto& o : objects) {
    auto ref = ref_of(*client_, o, ns_);
    if (!kube_ok(ref)) return to_error(kube_error(ref));
    if (!options_.keep) record_undo("delete " + kube_value(ref).describe(), delete_undo(kube_value(ref)));
    auto applied = client_->apply(o, ns_);
    if (!kube_ok(applied)) return to_error(kube_error(applied));
  }
  return std::nullopt;
}

Status KubernetesTarget::prepare_kafka(const Scenario& s) {
  deployed_kafka_ = std::find(s.kubernetes.deploy.begin(), s.kubernetes.deploy.end(), "kafka") != s.kubernetes.deploy.end();
  bootstrap_ = options_.kafka_bootstrap;
  if (bootstrap_.empty() && client_->endpoint().in_cluster)
    bootstrap_ = "kafka." + ns_ + ".svc:9092";  // the manifests' client Service
  if (bootstrap_.empty()) {
    if (!uses_kafka(s)) return std::nullopt;
    return usage_error("the scenario uses Kafka, which runs inside the cluster where the engine cannot reach it from here: give --kafka HOST:PORT "
                       "(a port-forward or a LoadBalancer address) or run the engine in the cluster (manifests/loader.yaml)");
  }
  auto client = make_kafka_client(bootstrap_, options_.kafka_properties);
  if (!client) return client.error();
  auto leaders = fetch_partition_leaders(client->get(), 10000);
  if (!leaders) return unreachable_error("Kafka at " + bootstrap_ + " did not answer: " + leaders.error().message);
  std::vector<const TopicSpec*> missing;
  for (const auto& t : s.kafka.topics) {
    bool found = false;
    for (const auto& [tp, leader] : leaders->leader) found = found || tp.first == t.name;
    if (!found) missing.push_back(&t);
  }
  return create_topics(client->get(), missing, bootstrap_);
}

Result<std::string> KubernetesTarget::leader_pod(const std::string& topic, int partition) {
  if (bootstrap_.empty()) return usage_error("leader_of needs Kafka: give --kafka HOST:PORT");
  auto client = make_kafka_client(bootstrap_, options_.kafka_properties);
  if (!client) return client.error();
  auto leader = fetch_partition_leader(client->get(), topic, partition);
  if (!leader) return leader.error();
  return "kafka-" + std::to_string(*leader - 1);  // node id = ordinal + 1 (manifests/kafka.yaml)
}

Result<std::vector<nlohmann::json>> KubernetesTarget::candidate_pods(const ChaosAction& a, std::string& ns, std::string& selector) {
  ns = a.pods.namespace_.empty() ? ns_ : a.pods.namespace_;
  selector = a.pods.selector;
  KubeListOptions lo;
  lo.label_selector = selector;
  std::string name = a.pods.name;
  if (!a.pods.leader_topic.empty()) {
    auto pod = leader_pod(a.pods.leader_topic, a.pods.leader_partition);
    if (!pod) return pod.error();
    name = *pod;
  }
  if (!name.empty()) lo.field_selector = "metadata.name=" + name;
  auto list = client_->list(KubeObjectRef{builtin("v1", "Pod"), ns, ""}, lo);
  if (!kube_ok(list)) return to_error(kube_error(list));
  if (kube_value(list)["items"].empty())
    return runtime_error(std::string(chaos_verb_name(a.verb)) + ": no pod matches " + a.pods.describe() + " in namespace " + ns);
  std::vector<nlohmann::json> out;
  for (const auto& p : kube_value(list)["items"]) out.push_back(p);
  return out;
}

Result<ChaosInjection> KubernetesTarget::pod_chaos(const ChaosAction& a) {
  std::string ns, selector;
  auto pods = candidate_pods(a, ns, selector);
  if (!pods) return pods.error();
  nlohmann::json list = {{"items", *pods}};
  auto running = running_pods(list, std::chrono::system_clock::now());
  PodSelection sel = a.pods;
  if (!sel.leader_topic.empty()) sel.name.clear();  // already narrowed to the leader's pod
  auto victims = pick_pods(running, sel, std::max(1, a.count), a.seed);
  bool evict = a.verb == ChaosVerb::PodEvict;
  // What `for` waits for: each hit owner (StatefulSet, ReplicaSet) with as
  // many Ready pods as it has now. A bare pod has no one to bring it back.
  auto ready_by_owner = [this, ns]() -> Result<std::map<std::string, int>> {
    auto all = client_->list(KubeObjectRef{builtin("v1", "Pod"), ns, ""});
    if (!kube_ok(all)) return to_error(kube_error(all));
    std::map<std::string, int> out;
    for (const auto& p : running_pods(kube_value(all), std::chrono::system_clock::now()))
      if (p.ready && !p.owner.empty()) ++out[p.owner];
    return out;
  };
  std::map<std::string, int> ready_before;
  if (a.for_us > 0) {
    auto counted = ready_by_owner();
    if (!counted) return counted.error();
    for (const auto& v : victims)
      if (!v.owner.empty()) ready_before[v.owner] = (*counted)[v.owner];
  }
  ChaosInjection inj;
  inj.details = {{"namespace", ns}, {"matched", pods->size()}, {"eligible", running.size()}};
  if (a.dry_run) inj.details["dry_run"] = true;
  std::vector<std::string> hit, refused, uids;
  std::optional<int64_t> grace;
  if (a.grace_period_us >= 0) grace = a.grace_period_us / 1000000;
  for (const auto& v : victims) {
    if (a.dry_run) {
      hit.push_back(v.name);
      continue;
    }
    if (evict) {
      auto r = client_->evict(v.namespace_, v.name, grace);
      if (!kube_ok(r)) {
        // A PodDisruptionBudget said no: that is the answer being tested, not a failure.
        if (kube_error(r).http_status == 429) {
          refused.push_back(v.name + ": " + kube_error(r).message);
          continue;
        }
        return to_error(kube_error(r));
      }
    } else {
      auto r = client_->remove(KubeObjectRef{builtin("v1", "Pod"), v.namespace_, v.name}, {grace, ""}, true);
      if (!kube_ok(r)) return to_error(kube_error(r));
    }
    hit.push_back(v.name);
    uids.push_back(v.uid);
  }
  inj.details["pods"] = hit;
  inj.details["owners"] = nlohmann::json::array();
  for (const auto& v : victims) inj.details["owners"].push_back(v.owner);
  if (!refused.empty()) inj.details["refused"] = refused;
  std::string verb = a.dry_run ? (evict ? "would be evicted (dry run)" : "would be deleted (dry run)") : evict ? "evicted" : "deleted";
  if (hit.empty() && refused.empty()) inj.description = std::string(chaos_verb_name(a.verb)) + ": no pod of " + a.pods.describe() + " is eligible now";
  else if (hit.empty()) inj.description = std::string(chaos_verb_name(a.verb)) + ": eviction refused for " + std::to_string(refused.size()) + " pod(s) (PodDisruptionBudget)";
  else {
    inj.description = "pod";
    inj.description += hit.size() > 1 ? "s " : " ";
    for (size_t i = 0; i < hit.size(); ++i) inj.description += (i ? ", " : "") + hit[i];
    inj.description += " " + verb + " in " + ns;
    if (grace) inj.description += " (grace " + std::to_string(*grace) + "s)";
  }
  // Nothing to put back (their controllers replace them); with `for`, the
  // step ends once as many pods are Ready again as before.
  int64_t wait_us = a.for_us;
  inj.undo = [this, ns, ready_before, wait_us, ready_by_owner, any = !hit.empty()]() -> Status {
    if (wait_us <= 0 || !any) return std::nullopt;
    auto deadline = std::chrono::steady_clock::now() + ready_timeout_;
    for (;;) {
      auto now = ready_by_owner();
      if (!now) return now.error();
      std::string short_of;
      for (const auto& [owner, want] : ready_before)
        if ((*now)[owner] < want) short_of = owner + " has " + std::to_string((*now)[owner]) + " of " + std::to_string(want) + " pods Ready";
      if (short_of.empty()) return std::nullopt;
      if (std::chrono::steady_clock::now() > deadline) return runtime_error("in " + ns + ", " + short_of + " after " + ms_text(ready_timeout_.count() * 1000));
      std::this_thread::sleep_for(std::chrono::milliseconds(250));
    }
  };
  return inj;
}

Result<std::string> KubernetesTarget::pick_node(const NodeSelection& sel, uint64_t seed) {
  if (!sel.name.empty()) return sel.name;
  KubeListOptions lo;
  lo.label_selector = sel.selector;
  auto list = client_->list(KubeObjectRef{builtin("v1", "Node"), "", ""}, lo);
  if (!kube_ok(list)) return to_error(kube_error(list));
  std::vector<std::string> names;
  for (const auto& n : kube_value(list)["items"])
    if (!n["spec"].value("unschedulable", false)) names.push_back(n["metadata"].value("name", ""));
  if (names.empty()) return runtime_error("no schedulable node matches " + sel.describe());
  std::sort(names.begin(), names.end());
  std::mt19937_64 rng(seed);
  return names[rng() % names.size()];
}

Result<ChaosInjection> KubernetesTarget::node_chaos(const ChaosAction& a) {
  auto node = pick_node(a.node, a.seed);
  if (!node) return node.error();
  KubeObjectRef ref{builtin("v1", "Node"), "", *node};
  if (a.dry_run) {
    ChaosInjection inj;
    inj.description = "dry run: would " + std::string(a.verb == ChaosVerb::NodeDrain ? "drain" : "cordon") + " node " + *node;
    inj.details = {{"node", *node}, {"dry_run", true}};
    inj.undo = [] { return Status{}; };
    return inj;
  }
  auto replay_form = uncordon_undo(*node);
  int id = record_undo("uncordon node " + *node, replay_form);
  ChaosInjection inj;
  inj.journal_id = id;
  inj.undo = [this, replay_form] { return replay(replay_form); };
  auto r = client_->patch(ref, {{"spec", {{"unschedulable", true}}}});
  if (!kube_ok(r)) {
    undo_->run(id);
    return to_error(kube_error(r));
  }
  inj.description = "node " + *node + " cordoned";
  inj.details = {{"node", *node}};
  if (a.verb == ChaosVerb::NodeDrain) {
    // kubectl drain's rules: DaemonSet and mirror pods stay; the rest are
    // evicted (PodDisruptionBudgets honoured), only in namespaces open to chaos.
    KubeListOptions lo;
    lo.field_selector = "spec.nodeName=" + *node;
    auto pods = client_->list(KubeObjectRef{builtin("v1", "Pod"), "", ""}, lo);
    if (!kube_ok(pods)) return to_error(kube_error(pods));
    std::vector<std::string> evicted, skipped, refused;
    std::map<std::string, nlohmann::json> ns_labels;
    std::optional<int64_t> grace;
    if (a.grace_period_us >= 0) grace = a.grace_period_us / 1000000;
    for (const auto& p : kube_value(pods)["items"]) {
      const auto& meta = p["metadata"];
      std::string ns = meta.value("namespace", ""), name = meta.value("name", "");
      bool daemon = false;
      for (const auto& o : meta.value("ownerReferences", nlohmann::json::array())) daemon = daemon || o.value("kind", "") == "DaemonSet";
      bool mirror = meta.contains("annotations") && meta["annotations"].contains("kubernetes.io/config.mirror");
      if (daemon || mirror || meta.contains("deletionTimestamp")) continue;
      if (!ns_labels.count(ns)) {
        auto got = client_->get(KubeObjectRef{builtin("v1", "Namespace"), "", ns});
        ns_labels[ns] = kube_ok(got) ? kube_value(got)["metadata"].value("labels", nlohmann::json::object()) : nlohmann::json::object();
        if (ns == ns_) ns_labels[ns]["kapture.io/chaos"] = "allowed";
      }
      if (chaos_namespace_refusal(ns, ns_labels[ns], options_.allow_namespaces)) {
        skipped.push_back(ns + "/" + name);
        continue;
      }
      auto e = client_->evict(ns, name, grace);
      if (kube_ok(e)) evicted.push_back(ns + "/" + name);
      else if (kube_error(e).http_status == 429) refused.push_back(ns + "/" + name);
      else if (kube_error(e).http_status != 404) return to_error(kube_error(e));
    }
    inj.description = "node " + *node + " drained: " + std::to_string(evicted.size()) + " pods evicted";
    if (!refused.empty()) inj.description += ", " + std::to_string(refused.size()) + " refused by a PodDisruptionBudget";
    if (!skipped.empty()) inj.description += ", " + std::to_string(skipped.size()) + " left (namespace not open to chaos)";
    inj.details["evicted"] = evicted;
    inj.details["refused"] = refused;
    inj.details["skipped"] = skipped;
  }
  return inj;
}

Result<ChaosInjection> KubernetesTarget::scale(const ChaosAction& a) {
  bool sts = a.verb == ChaosVerb::ScaleStatefulSet;
  KubeObjectRef ref{builtin("apps/v1", sts ? "StatefulSet" : "Deployment"), a.kube_namespace.empty() ? ns_ : a.kube_namespace, a.kube_name};
  auto before = client_->get_scale(ref);
  if (!kube_ok(before)) return to_error(kube_error(before));
  int from = kube_value(before);
  auto replay_form = scale_undo(ref, from);
  int id = record_undo("scale " + ref.describe() + " back to " + std::to_string(from), replay_form);
  auto restore = [this, replay_form] { return replay(replay_form); };
  auto t0 = std::chrono::steady_clock::now();
  auto r = client_->set_scale(ref, a.replicas);
  if (!kube_ok(r)) {
    undo_->run(id);
    return to_error(kube_error(r));
  }
  if (auto err = wait_until_ready(*client_, ref, ready_timeout_)) return *err;  // the undo stays pending: the run's end restores it
  auto took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count();
  ChaosInjection inj;
  inj.description = ref.describe() + " scaled " + std::to_string(from) + " -> " + std::to_string(a.replicas) + " (ready in " +
                    std::to_string(took) + " ms)";
  inj.details = {{"from", from}, {"to", a.replicas}, {"ready_ms", took}};
  inj.journal_id = id;
  if (a.for_us > 0) inj.undo = restore;  // restored after `for`; else when the run ends
  return inj;
}

Result<ChaosInjection> KubernetesTarget::broker_kill(const ChaosAction& a) {
  int broker = a.broker.id;
  std::string pod = "kafka-" + std::to_string(broker - 1);
  if (a.broker.kind == BrokerChoice::Kind::LeaderOf) {
    auto p = leader_pod(a.broker.topic, a.broker.partition);
    if (!p) return p.error();
    pod = *p;
    broker = std::stoi(pod.substr(6)) + 1;
  }
  KubeObjectRef ref{builtin("v1", "Pod"), ns_, pod};
  auto got = client_->get(ref);
  if (!kube_ok(got)) return to_error(kube_error(got));
  std::string uid = kube_value(got)["metadata"].value("uid", "");
  std::optional<int64_t> grace = a.grace_period_us >= 0 ? std::optional<int64_t>(a.grace_period_us / 1000000) : std::optional<int64_t>(0);
  auto r = client_->remove(ref, {grace, ""}, false);
  if (!kube_ok(r)) return to_error(kube_error(r));
  ChaosInjection inj;
  inj.description = "broker " + std::to_string(broker) + " killed (pod " + pod + " deleted, grace " + std::to_string(*grace) + "s)";
  inj.details = {{"broker", broker}, {"pod", pod}, {"namespace", ns_}};
  inj.out_of_service = broker;
  // The StatefulSet brings the pod back by itself; the step ends when the new one is Ready.
  inj.undo = [this, ref, uid]() -> Status {
    auto deadline = std::chrono::steady_clock::now() + ready_timeout_;
    for (;;) {
      auto now = client_->get(ref);
      std::string why;
      if (kube_ok(now) && kube_value(now)["metadata"].value("uid", "") != uid && kube_object_ready(kube_value(now), why)) return std::nullopt;
      if (std::chrono::steady_clock::now() > deadline) return runtime_error(ref.describe() + " not back and Ready after " + ms_text(ready_timeout_.count() * 1000));
      std::this_thread::sleep_for(std::chrono::milliseconds(250));
    }
  };
  return inj;
}

Result<ChaosInjection> KubernetesTarget::inject(const ChaosAction& a) {
  if (!client_) return runtime_error("the kubernetes target is not started");
  switch (a.verb) {
    case ChaosVerb::PodKill:
    case ChaosVerb::PodEvict: return pod_chaos(a);
    case ChaosVerb::NodeCordon:
    case ChaosVerb::NodeDrain: return node_chaos(a);
    case ChaosVerb::ScaleStatefulSet:
    case ChaosVerb::ScaleDeployment: return scale(a);
    case ChaosVerb::BrokerKill: return broker_kill(a);
    default: return runtime_error(std::string(chaos_verb_name(a.verb)) + " is not available on the kubernetes target");
  }
}

Result<std::vector<std::string>> KubernetesTarget::preview(const Scenario& s, const std::vector<ChaosAction>& actions) {
  if (auto err = connect()) return *err;
  ns_ = !options_.access.namespace_.empty() ? options_.access.namespace_ : s.kubernetes.namespace_;
  bootstrap_ = options_.kafka_bootstrap;
  std::vector<std::string> out;
  for (const auto& a : actions) {
    std::string line = chaos_verb_name(a.verb);
    if (ns_.empty() && a.pods.namespace_.empty() && a.kube_namespace.empty() && a.verb != ChaosVerb::NodeCordon && a.verb != ChaosVerb::NodeDrain) {
      out.push_back(line + ": in the run's own namespace, created when the run starts (nothing there yet)");
      continue;
    }
    if (a.verb == ChaosVerb::PodKill || a.verb == ChaosVerb::PodEvict) {
      std::string ns, selector;
      auto pods = candidate_pods(a, ns, selector);
      if (!pods) {
        out.push_back(line + ": " + pods.error().message);
        continue;
      }
      auto running = running_pods(nlohmann::json{{"items", *pods}}, std::chrono::system_clock::now());
      PodSelection sel = a.pods;
      if (!sel.leader_topic.empty()) sel.name.clear();
      auto victims = pick_pods(running, sel, std::max(1, a.count), a.seed);
      line += " " + a.pods.describe() + ": " + std::to_string(running.size()) + " running in " + ns + ", would hit";
      for (const auto& v : victims) line += " " + v.name;
      if (victims.empty()) line += " nothing (none eligible now)";
    } else if (a.verb == ChaosVerb::NodeCordon || a.verb == ChaosVerb::NodeDrain) {
      auto node = pick_node(a.node, a.seed);
      line += node ? " would hit node " + *node : ": " + node.error().message;
    } else if (a.verb == ChaosVerb::ScaleStatefulSet || a.verb == ChaosVerb::ScaleDeployment) {
      KubeObjectRef ref{builtin("apps/v1", a.verb == ChaosVerb::ScaleStatefulSet ? "StatefulSet" : "Deployment"),
                        a.kube_namespace.empty() ? ns_ : a.kube_namespace, a.kube_name};
      auto cur = client_->get_scale(ref);
      line += " " + ref.describe() + ": " + (kube_ok(cur) ? std::to_string(kube_value(cur)) + " -> " + std::to_string(a.replicas) : kube_error(cur).message);
    } else if (a.verb == ChaosVerb::BrokerKill) {
      line += " " + a.broker.describe() + ": pod kafka-" + std::to_string(a.broker.id - 1) + " in " + ns_;
    }
    out.push_back(line);
  }
  return out;
}

Status tear_down_namespace(KubeClient& client, const std::string& ns, std::chrono::milliseconds timeout, std::string& report) {
  auto got = client.get(KubeObjectRef{builtin("v1", "Namespace"), "", ns});
  if (!kube_ok(got)) {
    if (kube_error(got).http_status == 404) {
      report = "namespace " + ns + " does not exist: nothing to remove";
      return std::nullopt;
    }
    return to_error(kube_error(got));
  }
  auto labels = kube_value(got)["metadata"].value("labels", nlohmann::json::object());
  if (labels.value("kapture.io/created-by", "") == "kapture-engine") {
    report = "namespace " + ns + " (created by a run) deleted";
    return replay_kube_undo(client, delete_namespace_undo(ns), timeout);
  }
  // A namespace of the user's: only what runs put there.
  int deleted = 0;
  for (const auto& [api, kind] : std::vector<std::pair<const char*, const char*>>{{"apps/v1", "Deployment"},
                                                                                  {"apps/v1", "StatefulSet"},
                                                                                  {"v1", "Service"},
                                                                                  {"v1", "ConfigMap"},
                                                                                  {"v1", "Secret"},
                                                                                  {"policy/v1", "PodDisruptionBudget"},
                                                                                  {"rbac.authorization.k8s.io/v1", "RoleBinding"},
                                                                                  {"rbac.authorization.k8s.io/v1", "Role"},
                                                                                  {"v1", "ServiceAccount"}}) {
    KubeObjectRef coll{builtin(api, kind), ns, ""};
    KubeListOptions lo;
    lo.label_selector = "kapture.io/run";
    auto list = client.list(coll, lo);
    if (!kube_ok(list)) return to_error(kube_error(list));
    for (const auto& o : kube_value(list)["items"]) {
      KubeObjectRef ref{coll.type, ns, o["metadata"].value("name", "")};
      auto r = client.remove(ref, {std::nullopt, "Background"}, true);
      if (!kube_ok(r)) return to_error(kube_error(r));
      ++deleted;
    }
  }
  report = std::to_string(deleted) + " objects of kapture runs deleted from namespace " + ns + " (the namespace is not the engine's: kept)";
  return std::nullopt;
}

}  // namespace kapture
