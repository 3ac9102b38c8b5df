#pragma once
// The typed, validated model of a scenario file. Loading only parses and
// checks; nothing random is decided here (see plan/Plan.h).
#include <algorithm>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/Error.h"
#include "scenario/BodyTemplate.h"
#include "slo/SloExpression.h"

namespace kapture {

struct TopicSpec {
  std::string name;  // expanded: no placeholders left
  int partitions = 1;
  int replication_factor = 1;
  std::map<std::string, std::string> configs;
  SourceLocation where;
};

// Redis or PostgreSQL: an endpoint the user gives, or (empty url) a real
// server the engine starts on loopback for the run.
struct StoreTopology {
  bool declared = false;
  std::string url;
  SourceLocation where;
};

// The webapp in front of Kafka (`serve webapp`): started by the engine as a
// child process on loopback for the run, or an existing one (url). http and
// sse workloads reach it as "{webapp}" in their url.
struct WebAppTopology {
  bool declared = false;
  std::string url;         // an existing webapp; empty: the engine starts one
  std::string acks = "all";
  std::map<std::string, std::string> properties;  // librdkafka properties for its clients (enable.idempotence, ...)
  SourceLocation where;
};

// `target: kubernetes`: what the engine deploys from manifests/ into the
// run's namespace, and how it reaches the cluster (kubeconfig, context).
struct KubernetesTopology {
  bool declared = false;
  std::string namespace_;           // empty: kapture-<scenario>-<stamp>, created and deleted by the run
  std::string manifests;            // the manifests directory (resolved path); default manifests/ beside scenarios/
  std::vector<std::string> deploy;  // components, in order: rbac kafka redis postgres etl loader webapp
  std::map<std::string, std::string> images;      // component -> image
  std::map<std::string, int> replicas;            // component -> replicas (kafka: topology.kafka.brokers)
  std::map<std::string, nlohmann::json> resources;  // component -> container resources {requests, limits}
  int64_t ready_timeout_us = 300000000;
  SourceLocation where;
};

struct KafkaTopology {
  int brokers = 3;
  std::string bootstrap;                          // an existing cluster, if given
  std::map<std::string, std::string> properties;  // librdkafka client properties for every client
  std::vector<TopicSpec> topics;
};

struct GeneratorSpec {
  std::string lua_path;      // resolved path on disk
  std::string display_path;  // as written in the scenario, for messages
  std::string function = "generate";
  nlohmann::json params;     // handed to init(params)
};

struct PayloadSpec {
  std::string value;  // fixed payload bytes
};

// "bps.{store.location.state}": literal text and dotted field paths.
struct FieldTemplate {
  struct Part {
    bool is_field = false;
    std::string text;                 // literal text or the dotted path
    std::vector<std::string> path;    // split path when is_field
  };
  std::string source;
  std::vector<Part> parts;
  bool empty() const { return parts.empty(); }
  bool has_fields() const {
    for (const auto& p : parts)
      if (p.is_field) return true;
    return false;
  }
};

// "bps.{store.location.state}" -> its parts. The error message says what is
// wrong with the text; callers add where it came from.
Result<FieldTemplate> parse_field_template(const std::string& text);

struct ProducerWorkloadSpec {
  std::string name;
  std::optional<GeneratorSpec> generator;
  std::optional<PayloadSpec> payload;
  FieldTemplate topic;
  FieldTemplate key;
  std::string acks = "all";
  bool idempotence = false;
  std::string compression = "none";
  std::map<std::string, std::string> properties;
  int threads = 1;
  int max_threads = 1;             // threads a `scale: producer` step may grow to (workers started)
  std::vector<std::string> allow;  // Lua libraries let out of the sandbox
  bool ledger = false;             // record every acknowledged id for the ledger
  SourceLocation where;
};

struct EtlRedisSpec {
  bool enabled = false;
  bool set = true;
  FieldTemplate key;  // default "tx:{id}"
  int64_t ttl_us = 0;
  bool sales_by_state = false;
  bool store_counters = false;
};

// Kafka -> transform -> Redis and/or Postgres, at least once: offsets are
// committed only after every sink has the batch.
struct EtlWorkloadSpec {
  std::string name;
  std::vector<std::string> topics;  // names, or patterns with '*' (subscribed as regexes)
  std::string group;
  int consumers = 1;
  int batch = 500;
  int64_t batch_wait_us = 50000;
  std::optional<GeneratorSpec> transform;  // lua + function (default "transform")
  // Built-in transform instead of Lua: output field -> dotted path in the
  // record ("state" -> store.location.state). `id` and `created_ms` are kept.
  std::vector<std::pair<std::string, std::vector<std::string>>> field_map;
  EtlRedisSpec redis;
  bool postgres = false;
  std::map<std::string, std::string> properties;  // librdkafka consumer properties
  std::vector<std::string> allow;
  SourceLocation where;
};

// `type: http`: requests to one URL through libcurl's multi interface, open
// loop at the phases' rates (latency from the intended send time) or closed
// loop with a concurrency and a request count (Apache Bench's -c/-n).
struct HttpClosedLoop {
  int concurrency = 1;
  int64_t requests = 0;
};

struct HttpWorkloadSpec {
  std::string name;
  std::string url;                                 // http:// or https://
  std::string method = "GET";
  std::map<std::string, std::string> headers;
  std::string body;                                // `body`, or the contents of `body_file`
  std::optional<BodyTemplate> body_template;       // `body_template`: ${seq}, ${now_us}, ... per request
  std::optional<GeneratorSpec> request;            // Lua request(seq, now_ms) -> {method, path|url, headers, body}
  std::optional<GeneratorSpec> response;           // Lua response(status, headers, body) -> ok[, message]
  bool http2 = false;                              // `http: "2"`: prior knowledge (http://) or ALPN (https://)
  int connections = 16;                            // the keep-alive pool, per workload
  int64_t timeout_us = 10000000;                   // per request
  bool insecure = false;                           // skip TLS verification
  std::optional<HttpClosedLoop> closed;            // closed loop; open loop (phase loads) without it
  int threads = 1;                                 // each with its own multi handle and share of the pool
  std::vector<std::string> allow;                  // Lua libraries let out of the sandbox
  bool keep_acked_ids = false;                     // an sse workload verifies this one: remember the seq of every 2xx
  SourceLocation where;
};

// `type: sse`: readers of a server-sent event stream (the webapp's GET
// /api/topics/{topic}) measuring each message's delivery delay (arrival
// minus the send time the message carries) and, with `verifies`, that every
// message an http workload had acknowledged arrived.
struct SseWorkloadSpec {
  std::string name;
  std::string url;
  int connections = 1;                 // readers, each seeing every message
  std::string id_field = "id";         // JSON field of each event's data: the message id (the poster's ${seq})
  std::string sent_field = "sent_us";  // JSON field: the send time, Unix epoch
  int64_t sent_unit_us = 1;            // 1: the field is in microseconds; 1000: milliseconds
  std::string verifies;                // an http workload whose 2xx'd messages must all arrive
  bool insecure = false;
  SourceLocation where;
};

// What Kubernetes API load workloads create: objects of one resource type
// (any, custom resources included), each carrying `size` bytes of payload
// (a ConfigMap's or Secret's data, an annotation otherwise), names padded to
// `name_length`, and the client-side send time in the annotation
// kapture.io/sent-us (Unix epoch microseconds) on every write.
struct KubeObjectShape {
  std::string resource = "configmaps";  // plural, or RESOURCE.GROUP / RESOURCE.VERSION.GROUP as kubectl names them
  std::string namespace_;               // empty: the run's namespace
  int64_t size_bytes = 0;
  int name_length = 0;                  // 0: names as short as they come
  nlohmann::json fields = nlohmann::json::object();  // merged into every object (a custom resource's spec)
};

// `type: kube-churn`: creates at the phases' rates (open loop, absolute
// schedule), each object deleted `lifetime` after its create was due
// (lifetime = population / rate when `population` is given instead),
// spread over `connections` and over every API server in `servers`.
struct KubeChurnWorkloadSpec {
  std::string name;
  KubeObjectShape object;
  int64_t lifetime_us = 0;
  int64_t population = 0;
  int connections = 8;               // requests in flight at most (one per connection)
  std::vector<std::string> servers;  // more API server URLs, same credentials and CA
  bool csv = false;                  // every operation in kube-ops-NAME.csv
  SourceLocation where;
};

// `type: kube-lifecycle`: closed loop: `threads` each run create -> `updates`
// patches -> delete (create only with `create_only`), starting lifecycles at
// the phases' rates as far as they keep up.
struct KubeLifecycleWorkloadSpec {
  std::string name;
  KubeObjectShape object;
  int updates = 3;
  std::string patch = "merge";  // merge, strategic, apply
  bool create_only = false;
  int threads = 4;
  bool csv = false;
  SourceLocation where;
};

// `type: kube-watch`: `observers` list+watch clients of a resource measuring
// each notification's latency (arrival minus the kapture.io/sent-us
// annotation), duplicates, and with `observes` every object the named
// workloads created that an observer never saw (missed).
struct KubeWatchWorkloadSpec {
  std::string name;
  std::string resource = "configmaps";
  std::string namespace_;
  std::string selector;  // empty: the objects of this run (kapture.io/run)
  int observers = 1;
  int64_t restart_min_us = 0, restart_max_us = 0;  // each watch restarted after a random time in [min, max] (0: never)
  std::vector<std::string> observes;
  SourceLocation where;
};

enum class Arrivals { Constant, Poisson };

struct LoadSpec {
  enum class Kind { Rate, Ramp, Max } kind = Kind::Rate;
  double rate = 0;  // per second (Kind::Rate)
  double from = 0;  // per second (Kind::Ramp)
  double to = 0;
  Arrivals arrivals = Arrivals::Constant;
  SourceLocation where;
};

// What a step does. Chaos verbs are undone after `for`; scale verbs
// (add-brokers, add-partitions) are not undone and wait until they took effect.
enum class ChaosVerb {
  BrokerDown, BrokerDelay, BrokerKill, BrokerPause, BrokerStop,
  RedisKill, RedisPause, PostgresKill, PostgresPause, ConsumerCrash,
  AddBrokers, AddPartitions, ScaleProducer,
  // Kubernetes (the kubernetes target): pods, nodes, controllers.
  PodKill, PodEvict, NodeCordon, NodeDrain, ScaleStatefulSet, ScaleDeployment
};
const char* chaos_verb_name(ChaosVerb v);
bool chaos_verb_targets_broker(ChaosVerb v);  // carried out by the Kafka target
bool chaos_verb_takes_broker(ChaosVerb v);    // acts on one broker (a `broker:` choice)
bool chaos_verb_is_outage(ChaosVerb v);       // the broker stops serving until undone
bool chaos_verb_is_scale(ChaosVerb v);
bool chaos_verb_is_kube(ChaosVerb v);        // carried out through the Kubernetes API

// Which pods a pod-kill or pod-evict hits (chaoskube's options): those
// matching the selector (or the one named, or the pod leading a partition),
// at least min_age old, at most one per owning controller when asked, then
// `count` of them picked at random from the run's seed.
struct PodSelection {
  std::string namespace_;       // empty: the run's namespace
  std::string selector;         // label selector
  std::string name;             // one pod by name
  std::string leader_topic;     // the pod leading partition leader_partition of this topic
  int leader_partition = 0;
  int64_t min_age_us = 0;
  bool one_per_owner = false;
  std::string describe() const;
};

// The node a node-cordon or node-drain acts on: by name, or random among
// those matching the selector (all nodes when empty).
struct NodeSelection {
  std::string name;
  std::string selector;
  std::string describe() const;
};
struct BrokerChoice {
  enum class Kind { Random, Id, LeaderOf, Controller } kind = Kind::Random;
  int id = 0;
  std::string topic;
  int partition = 0;
  std::string describe() const;
};

struct StepSpec {
  std::string name;  // optional: what `recovery_time(...) after NAME` refers to
  std::optional<int64_t> at_us;
  std::optional<int64_t> every_us;
  int64_t start_us = 0;  // first offset when `every`
  ChaosVerb verb = ChaosVerb::BrokerDown;
  BrokerChoice broker;
  int64_t for_us = 0;
  int64_t delay_us = 0;
  std::string workload;  // consumer-crash: which ETL workload
  int count = 1;         // brokers hit at once (random), or brokers added (add-brokers)
  int64_t spacing_us = 0;  // random: least time between two hits on the same broker
  bool dry_run = false;  // record what would happen, do nothing
  std::string topic;     // add-partitions
  int partitions = 0;    // add-partitions: the new total
  double rate = -1;      // scale producer: the new rate (-1: unchanged)
  int threads = 0;       // scale producer: the new thread count (0: unchanged)
  PodSelection pods;     // pod-kill, pod-evict
  NodeSelection node;    // node-cordon, node-drain
  int64_t grace_period_us = -1;  // pod-kill, pod-evict, node-drain: -1 = the pod's own
  std::string kube_name;         // scale statefulset/deployment: its name
  std::string kube_namespace;    // ... in this namespace (empty: the run's)
  int replicas = -1;             // ... to this many
  SourceLocation where;
};

// Kapture's benchmark mode: a producer's rate steps up every `every` until
// its throughput stops rising or an expectation breaks; the knee is the
// highest step that kept up and held every expectation.
struct BenchmarkSpec {
  std::string workload;
  // `by: rate`: records per second. `by: threads`: producer threads, each
  // sending as fast as it can.
  bool by_threads = false;
  double from = 0, step = 0, max = 0;
  int64_t every_us = 0;
  // A step "rises" when achieved throughput grows by at least this fraction
  // of what the step added: of its rate increase, or with threads of what
  // the added threads would bring at the previous step's per-thread rate.
  double rise = 0.5;
  // Clamped before the cast: rates in a file can make the quotient exceed an
  // int (the loader refuses more than 1000 steps, or max below from).
  int steps() const {
    if (step <= 0) return 1;
    return static_cast<int>(std::clamp((max - from) / step + 1e-9, -1e6, 1e6)) + 1;
  }
  SourceLocation where;
};

struct PhaseSpec {
  std::string name;
  int64_t duration_us = 0;  // the timeout when `until` is set
  std::vector<SloExpression> until;  // all must hold
  std::map<std::string, LoadSpec> loads;  // by workload name
  std::vector<StepSpec> steps;
  std::optional<BenchmarkSpec> benchmark;  // its duration and its workload's load follow from it
  SourceLocation where;
};

// A PromQL query whose single value, at the end of the run, is compared with
// a threshold: the cluster's own measurements (CPU, memory, disk).
struct PrometheusCheck {
  std::string query;
  std::string cmp;           // < <= > >= == !=
  double threshold = 0;      // in Prometheus' base units: seconds, bytes, per second
  SloDimension dim = SloDimension::Number;
  std::string threshold_text;  // as written
  std::string url;           // empty: topology.prometheus
};

struct ExpectationSpec {
  SloExpression expr;                 // unless `lua` or `prometheus` is set
  std::optional<GeneratorSpec> lua;   // a Lua assertion: function(ctx) -> ok, message
  std::optional<PrometheusCheck> prometheus;
  bool abort = false;                 // stop the run as soon as it is violated
  SourceLocation where;
  std::string text() const {
    if (lua) return "lua " + lua->display_path + ":" + lua->function + "()";
    if (prometheus) return "prometheus " + prometheus->query + " " + prometheus->cmp + " " + prometheus->threshold_text;
    return expr.text;
  }
};

struct Scenario {
  std::string file;
  std::string name;
  std::string description;
  uint64_t seed = 0;
  std::string target = "embedded";
  // Distributed load: kafka-producer workloads run by this many worker
  // processes (local target); 0: by this engine itself.
  int workers = 0;
  SourceLocation workers_where;
  KafkaTopology kafka;
  StoreTopology redis;
  StoreTopology postgres;
  WebAppTopology webapp;
  KubernetesTopology kubernetes;
  std::string prometheus_url;  // topology.prometheus.url: for prometheus expectations
  std::vector<ProducerWorkloadSpec> workloads;
  std::vector<EtlWorkloadSpec> etls;
  std::vector<HttpWorkloadSpec> https;
  std::vector<SseWorkloadSpec> sses;
  std::vector<KubeChurnWorkloadSpec> kube_churns;
  std::vector<KubeLifecycleWorkloadSpec> kube_lifecycles;
  std::vector<KubeWatchWorkloadSpec> kube_watches;
  std::vector<PhaseSpec> phases;
  std::vector<ExpectationSpec> expectations;

  bool has_workload(const std::string& name) const {
    for (const auto& w : workloads)
      if (w.name == name) return true;
    for (const auto& e : etls)
      if (e.name == name) return true;
    for (const auto& h : https)
      if (h.name == name) return true;
    for (const auto& r : sses)
      if (r.name == name) return true;
    for (const auto& k : kube_churns)
      if (k.name == name) return true;
    for (const auto& k : kube_lifecycles)
      if (k.name == name) return true;
    for (const auto& k : kube_watches)
      if (k.name == name) return true;
    return false;
  }
  bool has_kube_workloads() const { return !kube_churns.empty() || !kube_lifecycles.empty() || !kube_watches.empty(); }
  bool uses_ledger() const {
    for (const auto& w : workloads)
      if (w.ledger) return true;
    return false;
  }
  const PhaseSpec* phase(const std::string& name) const {
    for (const auto& p : phases)
      if (p.name == name) return &p;
    return nullptr;
  }
};

}  // namespace kapture
