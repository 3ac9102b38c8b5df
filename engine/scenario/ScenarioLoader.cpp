#include "scenario/ScenarioLoader.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <functional>
#include <regex>
#include <set>
#include <sstream>

#include "common/Units.h"
#include "common/YamlJson.h"

namespace kapture {
namespace fs = std::filesystem;

std::string did_you_mean(const std::string& word, const std::vector<std::string>& candidates) {
  auto distance = [](const std::string& a, const std::string& b) {
    std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
    for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
    for (size_t i = 1; i <= a.size(); ++i) {
      cur[0] = i;
      for (size_t j = 1; j <= b.size(); ++j) {
        size_t sub = prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
        cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, sub});
      }
      std::swap(prev, cur);
    }
    return prev[b.size()];
  };
  std::string best;
  size_t best_d = std::max<size_t>(2, word.size() / 3) + 1;
  for (const auto& c : candidates) {
    size_t d = distance(word, c);
    if (d < best_d) {
      best_d = d;
      best = c;
    }
  }
  return best;
}

Result<Override> parse_override(const std::string& text) {
  auto eq = text.find('=');
  if (eq == std::string::npos || eq == 0)
    return usage_error("--set expects path=value, e.g. --set timeline.steady.duration=5s (got '" + text + "')");
  return Override{text.substr(0, eq), text.substr(eq + 1)};
}

Status apply_overrides(YAML::Node& root, const std::vector<Override>& overrides) {
  for (const auto& o : overrides) {
    std::vector<std::string> parts;
    std::stringstream ss(o.path);
    for (std::string p; std::getline(ss, p, '.');) parts.push_back(p);
    // Keys such as librdkafka's "linger.ms" contain dots: a segment that does
    // not exist is joined with the next until one matches.
    YAML::Node node = root;
    size_t i = 0;
    std::string where = "--set " + o.path;
    YAML::Node value;
    try {
      value = YAML::Load(o.value);
    } catch (const YAML::Exception& e) {
      return usage_error(where + ": bad value '" + o.value + "': " + e.msg);
    }
    while (i < parts.size()) {
      std::string key = parts[i];
      bool last = i + 1 == parts.size();
      if (node.IsSequence()) {
        YAML::Node next;
        bool found = false;  // a default YAML::Node is a defined null, so track it
        bool all_digits = !key.empty() && std::all_of(key.begin(), key.end(), ::isdigit);
        if (all_digits) {
          size_t idx = std::stoul(key);
          if (idx >= node.size()) return usage_error(where + ": index " + key + " is out of range (" + std::to_string(node.size()) + " items)");
          next = node[idx];
          found = true;
        } else {
          // Items are addressed by their `phase:` or `name:` too.
          for (size_t k = 0; k < node.size(); ++k) {
            YAML::Node item = node[k];
            if (item.IsMap() && ((item["phase"] && item["phase"].Scalar() == key) || (item["name"] && item["name"].Scalar() == key)))
            {
              next = item;
              found = true;
            }
          }
          if (!found) return usage_error(where + ": no item named '" + key + "'");
        }
        if (last) {
          for (size_t k = 0; k < node.size(); ++k)
            if (node[k] == next) node[k] = value;
          break;
        }
        node.reset(next);
        ++i;
        continue;
      }
      if (!node.IsMap() && !node.IsNull()) return usage_error(where + ": '" + key + "' is inside a value that is not a map");
      // Join dotted segments when that names an existing key (linger.ms).
      // Below `properties` and `configs` the rest is always one key: those are
      // Kafka's own dotted names.
      size_t j = i;
      std::string joined = key;
      if (i > 0 && (parts[i - 1] == "properties" || parts[i - 1] == "configs")) {
        for (j = i + 1; j < parts.size(); ++j) {
          joined += '.';
          joined += parts[j];
        }
        j = parts.size() - 1;
      }
      while (!node[joined] && j + 1 < parts.size()) {
        std::string candidate = joined + "." + parts[j + 1];
        bool exists = false;
        for (auto it = node.begin(); node.IsMap() && it != node.end(); ++it)
          if (it->first.Scalar().rfind(candidate, 0) == 0) exists = true;
        if (!exists) break;
        joined = candidate;
        ++j;
      }
      last = j + 1 == parts.size();
      if (last) {
        node[joined] = value;
        break;
      }
      if (!node[joined]) node[joined] = YAML::Node(YAML::NodeType::Map);
      YAML::Node next = node[joined];
      node.reset(next);
      i = j + 1;
    }
  }
  return std::nullopt;
}

namespace {

// [a-z0-9][a-z0-9._-]*: scenario and phase names. Checked by hand, since
// libstdc++'s std::regex_match recurses once per character and a name of some
// 20,000 characters overflowed the stack.
bool plain_name(const std::string& s) {
  auto lower_or_digit = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
  if (s.empty() || !lower_or_digit(s[0])) return false;
  return std::all_of(s.begin() + 1, s.end(), [&](char c) { return lower_or_digit(c) || c == '.' || c == '_' || c == '-'; });
}

// Walks the YAML tree with the scenario's rules, collecting errors with marks.
class Loader {
 public:
  Loader(std::string display, std::string base_dir) : file_(std::move(display)), base_dir_(std::move(base_dir)) {}

  LoadOutcome load(const YAML::Node& root) {
    LoadOutcome out;
    Scenario s;
    s.file = file_;
    if (!root.IsMap()) {
      error(root, "a scenario is a YAML map with name, timeline and so on");
      out.errors = errors_;
      return out;
    }
    keys(root, "scenario", {"name", "description", "seed", "target", "workers", "topology", "workloads", "timeline", "expect"});
    s.name = required_string(root, "name", "scenario");
    if (!s.name.empty() && !plain_name(s.name))
      error(root["name"], "name '" + s.name + "' must be lowercase letters, digits, '.', '_' or '-' (it names the results directory)");
    if (root["description"]) s.description = scalar_string(root["description"], "description");
    if (root["seed"]) {
      auto v = integer(root["seed"], "seed");
      if (v && *v < 0) error(root["seed"], "seed must be zero or positive");
      s.seed = static_cast<uint64_t>(v.value_or(0));
    }
    if (root["target"]) {
      s.target = scalar_string(root["target"], "target");
      one_of(root["target"], s.target, {"embedded", "local", "kubernetes"}, "target");
    }
    if (root["workers"]) {
      s.workers_where = at(root["workers"]);
      auto v = integer(root["workers"], "workers");
      if (v && (*v < 0 || *v > kMaxWorkers)) error(root["workers"], "workers must be between 0 (this engine sends) and " + std::to_string(kMaxWorkers));
      else if (v) s.workers = static_cast<int>(*v);
    }
    if (root["topology"]) topology(root["topology"], s);
    if (!s.kubernetes.declared) {
      // What --target kubernetes deploys when the scenario does not say: Kafka.
      s.kubernetes.deploy = {"kafka"};
      if (auto found = resolve_lua("manifests"); found && fs::is_directory(*found)) s.kubernetes.manifests = *found;
    }
    if (root["workloads"]) workloads(root["workloads"], s);
    link_verifies(s);
    link_observes(s);
    if (!root["timeline"]) error(root, "missing required key 'timeline' (the phases to run)");
    else timeline(root["timeline"], s);
    if (root["expect"]) expectations(root["expect"], s);
    if (s.workers > 0) distributed(root["workers"], s);
    out.errors = errors_;
    if (errors_.empty()) out.scenario = std::move(s);
    return out;
  }

 private:
  static constexpr int64_t kMaxWorkers = 1000;

  // With workers, the kafka-producer workloads are what they share; a step
  // that rescales a producer has no single process to act on.
  void distributed(const YAML::Node& node, const Scenario& s) {
    if (s.workloads.empty()) error(node, "workers: " + std::to_string(s.workers) + " shares kafka-producer workloads, and the scenario has none");
    // Threads beyond `threads` only serve scale steps; with them the
    // workers' sequence numbers would no longer be one engine's.
    for (const auto& w : s.workloads)
      if (w.max_threads != w.threads)
        errors_.push_back(usage_error("workload '" + w.name + "': max_threads cannot differ from threads with workers (it serves `scale: producer` steps, which workers cannot run)", w.where));
    for (const auto& p : s.phases) {
      for (const auto& st : p.steps)
        if (st.verb == ChaosVerb::ScaleProducer)
          errors_.push_back(usage_error("a `scale: producer` step cannot run with workers (each worker has its own producers and threads); give the phases their rates instead", st.where));
      if (p.benchmark && p.benchmark->by_threads)
        errors_.push_back(usage_error("a benchmark `by: threads` cannot run with workers (each worker has its own threads); use `by: rate`", p.benchmark->where));
    }
  }

  SourceLocation at(const YAML::Node& n) const {
    YAML::Mark m = n.Mark();
    if (m.is_null() || m.line < 0) return SourceLocation{file_, 0, 0};
    return SourceLocation{file_, m.line + 1, m.column + 1};
  }
  void error(const YAML::Node& n, std::string message) { errors_.push_back(usage_error(std::move(message), at(n))); }
  void error_at(SourceLocation where, std::string message) { errors_.push_back(usage_error(std::move(message), std::move(where))); }

  // Unknown keys are errors (typos must not silently fall back to defaults).
  void keys(const YAML::Node& map, const std::string& what, const std::vector<std::string>& known) {
    if (!map.IsMap()) return;
    for (auto it = map.begin(); it != map.end(); ++it) {
      std::string k = it->first.Scalar();
      if (std::find(known.begin(), known.end(), k) != known.end()) continue;
      std::string guess = did_you_mean(k, known);
      std::string list;
      for (const auto& kk : known) list += (list.empty() ? "" : ", ") + kk;
      error(it->first, "unknown key '" + k + "' in " + what + (guess.empty() ? "" : " (did you mean '" + guess + "'?)") +
                           "; allowed: " + list);
    }
  }

  std::string scalar_string(const YAML::Node& n, const std::string& what) {
    if (!n.IsScalar()) {
      error(n, what + " must be a single value, not a " + (n.IsMap() ? "map" : n.IsSequence() ? "list" : "null"));
      return "";
    }
    return n.Scalar();
  }
  std::string required_string(const YAML::Node& map, const std::string& key, const std::string& what) {
    if (!map[key]) {
      error(map, "missing required key '" + key + "' in " + what);
      return "";
    }
    return scalar_string(map[key], key);
  }
  std::optional<int64_t> integer(const YAML::Node& n, const std::string& what) {
    if (!n.IsScalar()) {
      error(n, what + " must be an integer");
      return std::nullopt;
    }
    const std::string& t = n.Scalar();
    char* end = nullptr;
    errno = 0;
    long long v = std::strtoll(t.c_str(), &end, 10);
    if (t.empty() || *end || errno) {
      error(n, what + " must be an integer, not '" + t + "'");
      return std::nullopt;
    }
    return v;
  }
  std::optional<bool> boolean(const YAML::Node& n, const std::string& what) {
    if (n.IsScalar()) {
      const std::string& t = n.Scalar();
      if (t == "true" || t == "yes" || t == "on") return true;
      if (t == "false" || t == "no" || t == "off") return false;
    }
    error(n, what + " must be true or false");
    return std::nullopt;
  }
  // An integer key within [lo, hi]; `fallback` when absent or wrong.
  int bounded(const YAML::Node& n, const std::string& what, int64_t lo, int64_t hi, int fallback, const std::string& unit = "") {
    auto v = integer(n, what);
    if (v && (*v < lo || *v > hi)) {
      std::string msg = what + " must be between " + std::to_string(lo) + " and " + std::to_string(hi);
      if (!unit.empty()) {
        msg += ' ';
        msg += unit;
      }
      error(n, msg);
    }
    return static_cast<int>(v.value_or(fallback));
  }

  // `allow: [os, io, ffi]`: Lua libraries let out of the sandbox.
  std::vector<std::string> allow_list(const YAML::Node& n) {
    std::vector<std::string> out;
    if (!n.IsSequence()) {
      error(n, "allow must be a list such as [os, io]");
      return out;
    }
    for (const auto& a : n) {
      std::string lib = scalar_string(a, "allow");
      one_of(a, lib, {"os", "io", "ffi"}, "Lua library");
      out.push_back(lib);
    }
    return out;
  }

  std::optional<int64_t> duration(const YAML::Node& n, const std::string& what) {
    if (!n.IsScalar()) {
      error(n, what + " must be a duration such as 30s");
      return std::nullopt;
    }
    auto d = parse_duration_us(n.Scalar());
    if (!d) error(n, "bad duration '" + n.Scalar() + "' for " + what + " (use a number and one of us, ms, s, m, h: 250ms, 30s, 2m)");
    return d;
  }
  std::optional<double> rate(const YAML::Node& n, const std::string& what) {
    if (!n.IsScalar()) {
      error(n, what + " must be a rate such as 1000/s");
      return std::nullopt;
    }
    auto r = parse_rate_per_s(n.Scalar());
    if (!r) error(n, "bad rate '" + n.Scalar() + "' for " + what + " (use a number per s, m or h: 1000/s, 60/m)");
    return r;
  }
  void one_of(const YAML::Node& n, const std::string& v, const std::vector<std::string>& allowed, const std::string& what) {
    if (std::find(allowed.begin(), allowed.end(), v) != allowed.end()) return;
    std::string guess = did_you_mean(v, allowed);
    std::string list;
    for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
    error(n, "unknown " + what + " '" + v + "'" + (guess.empty() ? "" : " (did you mean '" + guess + "'?)") + "; allowed: " + list);
  }
  std::map<std::string, std::string> string_map(const YAML::Node& n, const std::string& what) {
    std::map<std::string, std::string> out;
    if (!n.IsMap()) {
      error(n, what + " must be a map of names to values");
      return out;
    }
    for (auto it = n.begin(); it != n.end(); ++it) {
      if (!it->second.IsScalar()) {
        error(it->second, what + "." + it->first.Scalar() + " must be a single value");
        continue;
      }
      out[it->first.Scalar()] = it->second.Scalar();
    }
    return out;
  }

  // ---- topology ----
  void topology(const YAML::Node& n, Scenario& s) {
    if (!n.IsMap()) return error(n, "topology must be a map");
    keys(n, "topology", {"kafka", "redis", "postgres", "prometheus", "webapp", "kubernetes"});
    if (n["webapp"]) webapp(n["webapp"], s);
    if (n["kubernetes"]) kubernetes(n["kubernetes"], s);
    if (n["prometheus"]) {
      // An existing Prometheus that measures the cluster; the engine only queries it.
      const YAML::Node p = n["prometheus"];
      if (!p.IsMap()) return error(p, "topology.prometheus is a map such as {url: http://127.0.0.1:9090}");
      keys(p, "topology.prometheus", {"url"});
      s.prometheus_url = required_string(p, "url", "topology.prometheus");
      if (!s.prometheus_url.empty() && s.prometheus_url.rfind("http://", 0) != 0 && s.prometheus_url.rfind("https://", 0) != 0)
        error(p["url"], "topology.prometheus.url must start with http:// or https://");
    }
    if (n["redis"]) store(n["redis"], "redis", s.redis, "redis://");
    if (n["postgres"]) store(n["postgres"], "postgres", s.postgres, "postgresql://");
    if (!n["kafka"]) return;
    const YAML::Node k = n["kafka"];
    if (!k.IsMap()) return error(k, "topology.kafka must be a map");
    keys(k, "topology.kafka", {"brokers", "bootstrap", "properties", "topics"});
    if (k["brokers"]) {
      auto b = integer(k["brokers"], "brokers");
      if (b && (*b < 1 || *b > 32)) error(k["brokers"], "brokers must be between 1 and 32");
      s.kafka.brokers = static_cast<int>(b.value_or(3));
    }
    if (k["bootstrap"]) s.kafka.bootstrap = scalar_string(k["bootstrap"], "bootstrap");
    if (k["properties"]) s.kafka.properties = string_map(k["properties"], "topology.kafka.properties");
    if (k["topics"]) {
      if (!k["topics"].IsSequence()) return error(k["topics"], "topics must be a list");
      for (const auto& t : k["topics"]) topic(t, s);
    }
  }

  // `kubernetes: {namespace, manifests, deploy, images, replicas, resources,
  // ready_timeout}`: what the kubernetes target deploys from manifests/.
  void kubernetes(const YAML::Node& n, Scenario& s) {
    KubernetesTopology& k = s.kubernetes;
    k.declared = true;
    k.where = at(n);
    k.deploy = {"kafka"};
    if (n.IsNull()) return;
    if (!n.IsMap()) return error(n, "topology.kubernetes must be a map such as {deploy: [kafka, redis]}");
    keys(n, "topology.kubernetes", {"namespace", "manifests", "deploy", "images", "replicas", "resources", "ready_timeout"});
    static const std::vector<std::string> components = {"rbac", "kafka", "redis", "postgres", "etl", "loader", "webapp"};
    // A distributed run's worker pods (`workers: N`) take an image and resources too.
    static const std::vector<std::string> with_workers = {"rbac", "kafka", "redis", "postgres", "etl", "loader", "webapp", "workers"};
    auto component = [&](const YAML::Node& node, const std::string& name, const std::vector<std::string>& known) {
      one_of(node, name, known, "component");
      return std::find(known.begin(), known.end(), name) != known.end();
    };
    if (n["namespace"]) {
      k.namespace_ = scalar_string(n["namespace"], "namespace");
      if (!std::regex_match(k.namespace_, std::regex("[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?")))
        error(n["namespace"], "namespace '" + k.namespace_ + "' is not a valid Kubernetes name (lowercase letters, digits and '-', at most 63)");
    }
    if (n["deploy"]) {
      if (!n["deploy"].IsSequence()) return error(n["deploy"], "deploy is a list of components: [rbac, kafka, redis, postgres, etl, loader, webapp]");
      k.deploy.clear();
      for (const auto& c : n["deploy"]) {
        std::string name = scalar_string(c, "component");
        if (component(c, name, components)) k.deploy.push_back(name);
      }
    }
    // Beside the scenario or in a directory above it; needed only to deploy something.
    std::string manifests = n["manifests"] ? scalar_string(n["manifests"], "manifests") : "manifests";
    auto found = resolve_lua(manifests);
    if (found && fs::is_directory(*found)) k.manifests = *found;
    else if (!k.deploy.empty() || n["manifests"])
      error(n["manifests"] ? n["manifests"] : n, "manifests directory '" + manifests + "' not found (looked beside the scenario and in the directories above it)");
    if (n["images"])
      for (const auto& [c, image] : string_map(n["images"], "topology.kubernetes.images")) {
        component(n["images"][c], c, with_workers);
        k.images[c] = image;
      }
    if (n["replicas"]) {
      const YAML::Node r = n["replicas"];
      if (!r.IsMap()) return error(r, "replicas maps a component to a count: {loader: 2}");
      for (auto it = r.begin(); it != r.end(); ++it) {
        std::string c = it->first.Scalar();
        if (!component(it->first, c, components)) continue;
        if (c == "kafka") error(it->first, "Kafka's replicas are topology.kafka.brokers");
        k.replicas[c] = bounded(it->second, "replicas", 0, 1000, 1);
      }
    }
    if (n["resources"]) {
      const YAML::Node r = n["resources"];
      if (!r.IsMap()) return error(r, "resources maps a component to {requests: {cpu, memory}, limits: {...}}");
      for (auto it = r.begin(); it != r.end(); ++it) {
        std::string c = it->first.Scalar();
        if (!component(it->first, c, with_workers)) continue;
        if (!it->second.IsMap()) error(it->second, "resources of " + c + " is a map {requests: ..., limits: ...}");
        keys(it->second, "resources", {"requests", "limits"});
        k.resources[c] = to_json(it->second);
      }
    }
    if (n["ready_timeout"]) k.ready_timeout_us = duration(n["ready_timeout"], "ready_timeout").value_or(k.ready_timeout_us);
  }

  // `webapp: {}` (the engine starts `serve webapp` for the run), with
  // `acks`, or `webapp: {url: http://...}` (one already running).
  void webapp(const YAML::Node& n, Scenario& s) {
    if (n.IsScalar() && n.Scalar() == "false") return;
    s.webapp.declared = true;
    s.webapp.where = at(n);
    if (n.IsNull()) return;
    if (!n.IsMap()) return error(n, "topology.webapp must be a map: {} to start one, {acks: 1}, or {url: http://...}");
    keys(n, "topology.webapp", {"url", "acks", "properties"});
    if (n["properties"]) {
      s.webapp.properties = string_map(n["properties"], "topology.webapp.properties");
      if (n["url"]) error(n["properties"], "properties are for a webapp the engine starts; one at a url was started with its own");
    }
    if (n["url"]) {
      s.webapp.url = scalar_string(n["url"], "url");
      if (s.webapp.url.rfind("http://", 0) != 0 && s.webapp.url.rfind("https://", 0) != 0)
        error(n["url"], "topology.webapp.url must start with http:// or https:// (got '" + s.webapp.url + "')");
      while (!s.webapp.url.empty() && s.webapp.url.back() == '/') s.webapp.url.pop_back();
    }
    if (n["acks"]) {
      s.webapp.acks = scalar_string(n["acks"], "acks");
      one_of(n["acks"], s.webapp.acks, {"0", "1", "all", "-1"}, "acks");
      if (n["url"]) error(n["acks"], "acks is for a webapp the engine starts; one at a url was started with its own");
    }
  }

  // An http or sse workload's url: http(s)://host..., or "{webapp}/path"
  // when the topology has a webapp.
  void workload_url(const YAML::Node& n, const std::string& url, const Scenario& s) {
    if (url.empty()) return;
    if (url.rfind("{webapp}", 0) == 0) {
      if (!s.webapp.declared) error(n, "url uses {webapp}, but topology has no webapp (add `webapp: {}` to start one)");
      else if (url.size() > 8 && url[8] != '/' && url[8] != '?') error(n, "{webapp} is followed by a path: {webapp}/api/topics/chat");
      return;
    }
    if (url.rfind("http://", 0) != 0 && url.rfind("https://", 0) != 0)
      error(n, "url must start with http://, https:// or {webapp} (got '" + url + "')");
    else if (url.size() == url.find("//") + 2 || url[url.find("//") + 2] == '/')
      error(n, "url '" + url + "' has no host");
  }

  // `redis: {}` (the engine starts one) or `redis: {url: redis://...}`.
  void store(const YAML::Node& n, const std::string& what, StoreTopology& out, const std::string& scheme) {
    if (n.IsScalar() && n.Scalar() == "false") return;  // switched off (handy with --set)
    out.declared = true;
    out.where = at(n);
    if (n.IsNull()) return;
    if (!n.IsMap()) return error(n, "topology." + what + " must be a map: {} to start one, or {url: " + scheme + "...}");
    keys(n, "topology." + what, {"url"});
    if (n["url"]) {
      out.url = scalar_string(n["url"], "url");
      bool ok = out.url.rfind(scheme, 0) == 0 || (what == "postgres" && out.url.rfind("postgres://", 0) == 0);
      if (!ok) error(n["url"], what + " url must start with " + scheme + " (got '" + out.url + "')");
    }
  }

  void topic(const YAML::Node& t, Scenario& s) {
    if (!t.IsMap()) return error(t, "a topic is a map with name, partitions, replication_factor");
    keys(t, "topic", {"name", "for_each", "partitions", "replication_factor", "configs"});
    TopicSpec base;
    base.where = at(t);
    std::string name = required_string(t, "name", "topic");
    if (t["partitions"]) {
      auto p = integer(t["partitions"], "partitions");
      if (p && (*p < 1 || *p > 10000)) error(t["partitions"], "partitions must be between 1 and 10000");
      base.partitions = static_cast<int>(p.value_or(1));
    }
    if (t["replication_factor"]) {
      auto r = integer(t["replication_factor"], "replication_factor");
      if (r && *r < 1) error(t["replication_factor"], "replication_factor must be at least 1");
      if (r && *r > s.kafka.brokers && s.kafka.bootstrap.empty())
        error(t["replication_factor"], "replication_factor " + std::to_string(*r) + " is more than the " +
                                           std::to_string(s.kafka.brokers) + " brokers of the topology");
      base.replication_factor = static_cast<int>(r.value_or(1));
    }
    if (t["configs"]) base.configs = string_map(t["configs"], "configs");
    // Expand {var} placeholders over for_each values (every combination).
    std::vector<std::pair<std::string, std::vector<std::string>>> vars;
    if (t["for_each"]) {
      const YAML::Node fe = t["for_each"];
      if (!fe.IsMap()) return error(fe, "for_each must map a placeholder name to a list of values");
      for (auto it = fe.begin(); it != fe.end(); ++it) {
        if (!it->second.IsSequence() || it->second.size() == 0) {
          error(it->second, "for_each." + it->first.Scalar() + " must be a non-empty list of values");
          continue;
        }
        std::vector<std::string> values;
        // A named copy: `it->second` lives in a temporary proxy that a
        // range-for over it would outlive (ASan: stack-use-after-scope).
        const YAML::Node list = it->second;
        for (const auto& v : list) values.push_back(scalar_string(v, "for_each value"));
        if (name.find("{" + it->first.Scalar() + "}") == std::string::npos)
          error(it->first, "for_each." + it->first.Scalar() + " is not used in the topic name '" + name + "'");
        vars.emplace_back(it->first.Scalar(), values);
      }
    }
    std::vector<std::string> names = {name};
    for (const auto& [var, values] : vars) {
      std::vector<std::string> next;
      for (const auto& n : names)
        for (const auto& v : values) {
          std::string expanded = n;
          for (size_t pos; (pos = expanded.find("{" + var + "}")) != std::string::npos;)
            expanded.replace(pos, var.size() + 2, v);
          next.push_back(expanded);
        }
      names = next;
    }
    static const std::regex valid_topic("[A-Za-z0-9._-]{1,249}");
    for (const auto& n : names) {
      if (!std::regex_match(n, valid_topic)) {
        error(t["name"], n.find('{') != std::string::npos
                             ? "topic name '" + n + "' has a placeholder with no for_each values"
                             : "topic name '" + n + "' is not a valid Kafka topic name (letters, digits, '.', '_', '-')");
        continue;
      }
      TopicSpec ts = base;
      ts.name = n;
      s.kafka.topics.push_back(ts);
    }
  }

  // ---- workloads ----
  FieldTemplate field_template(const YAML::Node& n, const std::string& what) {
    auto t = parse_field_template(scalar_string(n, what));
    if (t) return *t;
    error(n, what + " " + t.error().message);
    return FieldTemplate{};
  }

  std::optional<std::string> resolve_lua(const std::string& written) {
    fs::path p(written);
    if (p.is_absolute()) return fs::exists(p) ? std::optional(p.string()) : std::nullopt;
    // Relative to the scenario, then to each directory above it: a scenario in
    // scenarios/ names lua/bigpetstore.lua from the project root.
    fs::path dir = fs::absolute(base_dir_.empty() ? fs::path(".") : fs::path(base_dir_));
    for (;;) {
      if (fs::exists(dir / p)) return (dir / p).lexically_normal().string();
      if (!dir.has_parent_path() || dir.parent_path() == dir) break;
      dir = dir.parent_path();
    }
    return std::nullopt;
  }

  static nlohmann::json to_json(const YAML::Node& n) { return yaml_to_json(n); }

  void workloads(const YAML::Node& n, Scenario& s) {
    if (!n.IsMap()) return error(n, "workloads must map workload names to their definitions");
    for (auto it = n.begin(); it != n.end(); ++it) {
      const YAML::Node w = it->second;
      ProducerWorkloadSpec p;
      p.name = it->first.Scalar();
      p.where = at(it->first);
      if (!w.IsMap()) {
        error(w, "workload '" + p.name + "' must be a map");
        continue;
      }
      std::string type = required_string(w, "type", "workload '" + p.name + "'");
      if (!type.empty()) one_of(w["type"], type, {"kafka-producer", "etl", "http", "sse", "kube-churn", "kube-lifecycle", "kube-watch"}, "workload type");
      if (type.rfind("kube-", 0) == 0) {
        kube_workload(it->first, w, type, s);
        continue;
      }
      if (type == "sse") {
        sse(it->first, w, s);
        continue;
      }
      if (type == "etl") {
        etl(it->first, w, s);
        continue;
      }
      if (type == "http") {
        http(it->first, w, s);
        continue;
      }
      keys(w, "workload '" + p.name + "'", {"type", "generator", "payload", "topic", "key", "acks", "idempotence",
                                            "compression", "properties", "threads", "max_threads", "allow", "ledger"});
      if (w["ledger"]) p.ledger = boolean(w["ledger"], "ledger").value_or(false);
      if (w["generator"] && w["payload"]) error(w["payload"], "a workload has either a generator or a payload, not both");
      if (!w["generator"] && !w["payload"]) error(it->first, "workload '" + p.name + "' needs a generator (Lua) or a payload");
      // The ledger finds each record again by the id its generator gave it;
      // a fixed payload has none, and every record would look lost.
      if (p.ledger && w["payload"]) error(w["ledger"], "a ledger needs a generator: a fixed payload carries no record id to find again");
      if (w["generator"]) p.generator = *lua_function(w["generator"], "generator", "generate");
      if (w["payload"]) {
        const YAML::Node pl = w["payload"];
        PayloadSpec ps;
        if (!pl.IsMap()) {
          error(pl, "payload must be a map with size or value");
        } else {
          keys(pl, "payload", {"size", "value"});
          if (pl["value"]) ps.value = scalar_string(pl["value"], "payload value");
          else if (pl["size"]) {
            auto b = parse_size_bytes(pl["size"].Scalar());
            if (!b || *b < 1 || *b > 16 * 1024 * 1024) error(pl["size"], "bad payload size '" + pl["size"].Scalar() + "' (e.g. 200B, 4KiB; at most 16MiB)");
            else ps.value = std::string(static_cast<size_t>(*b), 'x');
          } else error(pl, "payload needs size or value");
        }
        p.payload = ps;
      }
      if (!w["topic"]) error(it->first, "workload '" + p.name + "' needs a topic (a name or a template such as bps.{store.location.state})");
      else p.topic = field_template(w["topic"], "topic");
      if (w["key"]) p.key = field_template(w["key"], "key");
      if (p.payload && (p.topic.has_fields() || p.key.has_fields()))
        error(w["payload"], "a fixed payload has no fields for the topic or key template to read; use a generator");
      if (w["acks"]) {
        p.acks = scalar_string(w["acks"], "acks");
        one_of(w["acks"], p.acks, {"0", "1", "all", "-1"}, "acks");
      }
      if (w["idempotence"]) p.idempotence = boolean(w["idempotence"], "idempotence").value_or(false);
      if (w["compression"]) {
        p.compression = scalar_string(w["compression"], "compression");
        one_of(w["compression"], p.compression, {"none", "gzip", "snappy", "lz4", "zstd"}, "compression");
      }
      if (w["properties"]) p.properties = string_map(w["properties"], "properties");
      if (w["threads"]) p.threads = bounded(w["threads"], "threads", 1, 64, 1);
      p.max_threads = p.threads;
      if (w["max_threads"]) {
        p.max_threads = bounded(w["max_threads"], "max_threads", 1, 64, p.threads);
        if (p.max_threads < p.threads) error(w["max_threads"], "max_threads must be at least threads (" + std::to_string(p.threads) + ")");
      }
      if (w["allow"]) p.allow = allow_list(w["allow"]);
      s.workloads.push_back(p);
    }
  }

  Result<GeneratorSpec> lua_function(const YAML::Node& g, const std::string& what, const std::string& default_fn) {
    GeneratorSpec gs;
    gs.function = default_fn;
    if (!g.IsMap()) {
      error(g, what + " must be a map with lua and function");
      return gs;
    }
    keys(g, what, {"lua", "function", "params"});
    gs.display_path = required_string(g, "lua", what);
    if (g["function"]) gs.function = scalar_string(g["function"], "function");
    if (g["params"]) gs.params = to_json(g["params"]);
    if (!gs.display_path.empty()) {
      auto resolved = resolve_lua(gs.display_path);
      if (!resolved) error(g["lua"], "Lua file '" + gs.display_path + "' not found (looked beside the scenario and in the directories above it)");
      else gs.lua_path = *resolved;
    }
    return gs;
  }

  void etl(const YAML::Node& name, const YAML::Node& w, Scenario& s) {
    EtlWorkloadSpec e;
    e.name = name.Scalar();
    e.where = at(name);
    e.group = "kapture-" + e.name;
    keys(w, "workload '" + e.name + "'", {"type", "topics", "group", "consumers", "batch", "batch_wait", "transform", "redis",
                                          "postgres", "properties", "allow"});
    if (!w["topics"]) {
      error(name, "etl workload '" + e.name + "' needs topics (names or patterns such as bps.*)");
    } else if (w["topics"].IsScalar()) {
      e.topics.push_back(w["topics"].Scalar());
    } else if (w["topics"].IsSequence() && w["topics"].size() > 0) {
      for (const auto& t : w["topics"]) e.topics.push_back(scalar_string(t, "topic"));
    } else {
      error(w["topics"], "topics must be a topic name, a pattern, or a list of them");
    }
    if (w["group"]) e.group = scalar_string(w["group"], "group");
    if (w["consumers"]) e.consumers = bounded(w["consumers"], "consumers", 1, 64, 1);
    if (w["batch"]) e.batch = bounded(w["batch"], "batch", 1, 100000, 500, "records");
    if (w["batch_wait"]) e.batch_wait_us = duration(w["batch_wait"], "batch_wait").value_or(50000);
    if (w["transform"]) {
      const YAML::Node t = w["transform"];
      if (t.IsMap() && t["fields"]) {
        // The built-in field mapping: {fields: {out: dotted.path, ...}}.
        keys(t, "transform", {"fields"});
        if (!t["fields"].IsMap() || t["fields"].size() == 0) {
          error(t["fields"], "fields must map output names to dotted paths in the record, e.g. {state: store.location.state}");
        } else {
          for (auto it = t["fields"].begin(); it != t["fields"].end(); ++it) {
            std::string path = scalar_string(it->second, "field path");
            std::vector<std::string> segs;
            std::stringstream ss(path);
            for (std::string seg; std::getline(ss, seg, '.');) segs.push_back(seg);
            if (path.empty() || std::any_of(segs.begin(), segs.end(), [](const std::string& x) { return x.empty(); }))
              error(it->second, "bad field path '" + path + "' (dotted names, e.g. store.location.state)");
            e.field_map.emplace_back(it->first.Scalar(), segs);
          }
        }
      } else {
        e.transform = *lua_function(t, "transform", "transform");
      }
    }
    if (w["properties"]) e.properties = string_map(w["properties"], "properties");
    if (w["allow"]) e.allow = allow_list(w["allow"]);
    // `redis: false` switches the sink off (handy with --set).
    bool redis_off = w["redis"] && w["redis"].IsScalar() && w["redis"].Scalar() == "false";
    if (w["redis"] && !redis_off) {
      const YAML::Node r = w["redis"];
      e.redis.enabled = true;
      e.redis.key = *parse_field_template("tx:{id}");
      if (!r.IsMap() && !r.IsNull()) {
        error(r, "redis must be a map (mode, key, ttl, aggregates)");
      } else if (r.IsMap()) {
        keys(r, "redis", {"set", "key", "ttl", "aggregates"});
        if (r["set"]) e.redis.set = boolean(r["set"], "set").value_or(true);
        if (r["key"]) e.redis.key = field_template(r["key"], "key");
        if (r["ttl"]) e.redis.ttl_us = duration(r["ttl"], "ttl").value_or(0);
        if (r["aggregates"]) {
          if (!r["aggregates"].IsSequence()) error(r["aggregates"], "aggregates must be a list: [sales_by_state, store_counters]");
          else
            for (const auto& a : r["aggregates"]) {
              std::string v = scalar_string(a, "aggregate");
              one_of(a, v, {"sales_by_state", "store_counters"}, "aggregate");
              if (v == "sales_by_state") e.redis.sales_by_state = true;
              if (v == "store_counters") e.redis.store_counters = true;
            }
        }
      }
      if (!s.redis.declared) error(r, "the etl workload writes to Redis, but topology has no redis (add `redis: {}` to start one)");
    }
    if (w["postgres"]) {
      e.postgres = boolean(w["postgres"], "postgres").value_or(false);
      if (e.postgres && !s.postgres.declared)
        error(w["postgres"], "the etl workload writes to PostgreSQL, but topology has no postgres (add `postgres: {}` to start one)");
    }
    if (!e.redis.enabled && !e.postgres) error(name, "etl workload '" + e.name + "' needs a sink: redis, postgres or both");
    if (!e.field_map.empty() && e.postgres)
      error(w["transform"], "a field mapping makes flat records; the postgres sink needs whole BigPetStore records (use a Lua transform)");
    if (!e.field_map.empty() && (e.redis.sales_by_state || e.redis.store_counters))
      error(w["transform"], "Redis aggregates read whole BigPetStore records; a field mapping leaves only the mapped fields");
    s.etls.push_back(e);
  }

  // `type: http`: one URL, a method, headers, a body (inline, from a file, or
  // from a Lua request()), an optional Lua response() check, open or closed loop.
  void http(const YAML::Node& name, const YAML::Node& w, Scenario& s) {
    HttpWorkloadSpec h;
    h.name = name.Scalar();
    h.where = at(name);
    const std::string what = "workload '" + h.name + "'";
    keys(w, what, {"type", "url", "method", "headers", "body", "body_file", "body_template", "lua", "response", "http", "connections",
                   "timeout", "insecure", "closed", "threads", "allow"});
    h.url = required_string(w, "url", "http " + what);
    workload_url(w["url"], h.url, s);
    if (w["method"]) {
      h.method = scalar_string(w["method"], "method");
      one_of(w["method"], h.method, {"GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"}, "method");
    }
    if (w["headers"]) h.headers = string_map(w["headers"], "headers");
    int bodies = (w["body"] ? 1 : 0) + (w["body_file"] ? 1 : 0) + (w["body_template"] ? 1 : 0) + (w["lua"] ? 1 : 0);
    if (bodies > 1) {
      const YAML::Node second = w["lua"] ? w["lua"] : w["body_template"] ? w["body_template"] : w["body_file"];
      error(second, "an http workload has one of body, body_file, body_template or lua (a request() function), not several");
    }
    if (w["body_template"]) {
      auto t = parse_body_template(scalar_string(w["body_template"], "body_template"));
      if (!t) error(w["body_template"], "body_template: " + t.error().message);
      else h.body_template = *t;
    }
    if (w["body"]) h.body = scalar_string(w["body"], "body");
    if (w["body_file"]) {
      std::string written = scalar_string(w["body_file"], "body_file");
      std::optional<std::string> resolved;
      if (!written.empty()) resolved = resolve_lua(written);
      if (!resolved) {
        error(w["body_file"], "body_file '" + written + "' not found (looked beside the scenario and in the directories above it)");
      } else {
        std::ifstream in(*resolved, std::ios::binary);
        std::stringstream ss;
        ss << in.rdbuf();
        if (!in) error(w["body_file"], "cannot read body_file '" + written + "'");
        h.body = ss.str();
      }
    }
    if (w["lua"]) h.request = *lua_function(w["lua"], "lua", "request");
    if (w["response"]) h.response = *lua_function(w["response"], "response", "response");
    if (w["http"]) {
      std::string v = scalar_string(w["http"], "http");
      if (v == "2.0") v = "2";
      one_of(w["http"], v, {"1.1", "2"}, "http version");
      h.http2 = v == "2";
    }
    if (w["connections"]) h.connections = bounded(w["connections"], "connections", 1, 10000, 16);
    if (w["timeout"]) {
      auto t = duration(w["timeout"], "timeout");
      if (t && *t <= 0) error(w["timeout"], "timeout must be more than 0");
      else if (t) h.timeout_us = *t;
    }
    if (w["insecure"]) h.insecure = boolean(w["insecure"], "insecure").value_or(false);
    if (w["threads"]) {
      h.threads = bounded(w["threads"], "threads", 1, 64, 1);
      if (h.threads > h.connections)
        error(w["threads"], "threads " + std::to_string(h.threads) + " is more than the " + std::to_string(h.connections) +
                                " connections (each thread needs at least one)");
    }
    if (w["allow"]) h.allow = allow_list(w["allow"]);
    if (w["closed"]) {
      const YAML::Node c = w["closed"];
      if (!c.IsMap()) {
        error(c, "closed must be a map such as {concurrency: 4, requests: 500}");
      } else {
        keys(c, "closed", {"concurrency", "requests"});
        HttpClosedLoop cl;
        if (!c["concurrency"]) error(c, "closed needs concurrency (requests in flight at once)");
        else cl.concurrency = bounded(c["concurrency"], "concurrency", 1, 100000, 1);
        if (!c["requests"]) {
          error(c, "closed needs requests (how many to make in all)");
        } else {
          auto n = integer(c["requests"], "requests");
          if (n && (*n < 1 || *n > 1000000000)) error(c["requests"], "requests must be between 1 and 1000000000");
          cl.requests = n.value_or(1);
        }
        if (cl.concurrency < h.threads)
          error(c["concurrency"] ? c["concurrency"] : c, "concurrency must be at least threads (" + std::to_string(h.threads) + ")");
        h.closed = cl;
      }
    }
    s.https.push_back(h);
  }

  // `type: sse`: readers of an event stream, measuring delivery delay.
  void sse(const YAML::Node& name, const YAML::Node& w, Scenario& s) {
    SseWorkloadSpec r;
    r.name = name.Scalar();
    r.where = at(name);
    const std::string what = "sse workload '" + r.name + "'";
    keys(w, what, {"type", "url", "connections", "id_field", "sent_field", "sent_unit", "verifies", "insecure"});
    r.url = required_string(w, "url", what);
    workload_url(w["url"], r.url, s);
    if (w["connections"]) r.connections = bounded(w["connections"], "connections", 1, 1000, 1);
    if (w["id_field"]) r.id_field = scalar_string(w["id_field"], "id_field");
    if (w["sent_field"]) r.sent_field = scalar_string(w["sent_field"], "sent_field");
    if (w["sent_unit"]) {
      std::string u = scalar_string(w["sent_unit"], "sent_unit");
      one_of(w["sent_unit"], u, {"us", "ms"}, "sent_unit");
      r.sent_unit_us = u == "ms" ? 1000 : 1;
    }
    if (w["insecure"]) r.insecure = boolean(w["insecure"], "insecure").value_or(false);
    if (w["verifies"]) {
      r.verifies = scalar_string(w["verifies"], "verifies");
      pending_verifies_.push_back({r.verifies, w["verifies"]});
    }
    s.sses.push_back(r);
  }

  // ---- Kubernetes API load ----
  KubeObjectShape kube_object(const YAML::Node& w, const std::string& what) {
    KubeObjectShape o;
    if (!w["object"]) return o;
    const YAML::Node n = w["object"];
    if (!n.IsMap()) {
      error(n, what + ": object is a map: {resource, namespace, size, name_length, fields}");
      return o;
    }
    keys(n, "object", {"resource", "namespace", "size", "name_length", "fields"});
    if (n["resource"]) o.resource = scalar_string(n["resource"], "resource");
    if (n["namespace"]) o.namespace_ = scalar_string(n["namespace"], "namespace");
    if (n["size"]) {
      auto b = parse_size_bytes(scalar_string(n["size"], "size"));
      if (!b || *b < 0 || *b > 1024 * 1024) error(n["size"], "object size must be 0 to 1MiB (etcd's default request limit is 1.5MiB), e.g. 1KiB");
      else o.size_bytes = *b;
    }
    if (n["name_length"]) o.name_length = bounded(n["name_length"], "name_length", 0, 253, 0);
    if (n["fields"]) {
      if (!n["fields"].IsMap()) error(n["fields"], "fields is a map merged into every object, e.g. {spec: {size: 3}}");
      else o.fields = to_json(n["fields"]);
    }
    return o;
  }

  void kube_workload(const YAML::Node& name, const YAML::Node& w, const std::string& type, Scenario& s) {
    const std::string what = type + " workload '" + name.Scalar() + "'";
    if (type == "kube-churn") {
      KubeChurnWorkloadSpec c;
      c.name = name.Scalar();
      c.where = at(name);
      keys(w, what, {"type", "object", "lifetime", "population", "connections", "servers", "csv"});
      c.object = kube_object(w, what);
      if (w["lifetime"] && w["population"]) error(w["population"], "a churn has either 'lifetime' or 'population' (lifetime = population / rate), not both");
      else if (!w["lifetime"] && !w["population"]) error(name, what + " needs 'lifetime' (how long each object lives) or 'population' (how many live at once)");
      if (w["lifetime"]) c.lifetime_us = duration(w["lifetime"], "lifetime").value_or(0);
      if (w["population"]) c.population = bounded(w["population"], "population", 1, 10000000, 1);
      if (w["connections"]) c.connections = bounded(w["connections"], "connections", 1, 1000, 8);
      if (w["servers"]) {
        if (!w["servers"].IsSequence()) error(w["servers"], "servers is a list of API server URLs (https://host:port)");
        else
          for (const auto& u : w["servers"]) {
            std::string url = scalar_string(u, "server");
            if (url.rfind("https://", 0) != 0 && url.rfind("http://", 0) != 0) error(u, "a server is an https:// URL (got '" + url + "')");
            c.servers.push_back(url);
          }
      }
      if (w["csv"]) c.csv = boolean(w["csv"], "csv").value_or(false);
      s.kube_churns.push_back(c);
    } else if (type == "kube-lifecycle") {
      KubeLifecycleWorkloadSpec l;
      l.name = name.Scalar();
      l.where = at(name);
      keys(w, what, {"type", "object", "updates", "patch", "create_only", "threads", "csv"});
      l.object = kube_object(w, what);
      if (w["updates"]) l.updates = bounded(w["updates"], "updates", 0, 10000, 3);
      if (w["patch"]) {
        l.patch = scalar_string(w["patch"], "patch");
        one_of(w["patch"], l.patch, {"merge", "strategic", "apply"}, "patch type");
      }
      if (w["create_only"]) l.create_only = boolean(w["create_only"], "create_only").value_or(false);
      if (l.create_only && w["updates"]) error(w["updates"], "create_only makes no updates");
      if (w["threads"]) l.threads = bounded(w["threads"], "threads", 1, 1000, 4);
      if (w["csv"]) l.csv = boolean(w["csv"], "csv").value_or(false);
      s.kube_lifecycles.push_back(l);
    } else {
      KubeWatchWorkloadSpec k;
      k.name = name.Scalar();
      k.where = at(name);
      keys(w, what, {"type", "resource", "namespace", "selector", "observers", "restart", "observes"});
      if (w["resource"]) k.resource = scalar_string(w["resource"], "resource");
      if (w["namespace"]) k.namespace_ = scalar_string(w["namespace"], "namespace");
      if (w["selector"]) k.selector = scalar_string(w["selector"], "selector");
      if (w["observers"]) k.observers = bounded(w["observers"], "observers", 1, 10000, 1);
      if (w["restart"]) {
        // restart: {min: 10s, max: 60s}, like k8api-scaletest's flunder-watch
        const YAML::Node r = w["restart"];
        if (!r.IsMap()) {
          error(r, "restart is {min: DURATION, max: DURATION}: each watch ends after a random time in between and resumes");
        } else {
          keys(r, "restart", {"min", "max"});
          k.restart_min_us = r["min"] ? duration(r["min"], "min").value_or(0) : 0;
          k.restart_max_us = r["max"] ? duration(r["max"], "max").value_or(0) : k.restart_min_us;
          if (k.restart_min_us <= 0 || k.restart_max_us < k.restart_min_us) error(r, "restart needs 0 < min <= max");
        }
      }
      if (w["observes"]) {
        const YAML::Node o = w["observes"];
        if (o.IsScalar()) k.observes.push_back(o.Scalar());
        else if (o.IsSequence())
          for (const auto& x : o) k.observes.push_back(scalar_string(x, "observes"));
        else error(o, "observes names kube-churn or kube-lifecycle workloads");
        pending_observes_.push_back({k.observes, o});
      }
      s.kube_watches.push_back(k);
    }
  }

  // `observes` names kube-churn or kube-lifecycle workloads (of any order in the file).
  void link_observes(const Scenario& s) {
    for (const auto& [names, node] : pending_observes_)
      for (const auto& n : names) {
        bool ok = false;
        for (const auto& c : s.kube_churns) ok = ok || c.name == n;
        for (const auto& l : s.kube_lifecycles) ok = ok || l.name == n;
        if (!ok) error(node, "observes names '" + n + "', which is not a kube-churn or kube-lifecycle workload");
      }
  }

  // After every workload is known: `verifies` names an http workload, which
  // then remembers what it had acknowledged.
  void link_verifies(Scenario& s) {
    for (const auto& [wanted, node] : pending_verifies_) {
      // Captured by name: clang before 16 cannot capture a structured binding.
      auto it = std::find_if(s.https.begin(), s.https.end(), [&w = wanted](const auto& h) { return h.name == w; });
      if (it != s.https.end()) {
        it->keep_acked_ids = true;
        continue;
      }
      std::vector<std::string> names;
      for (const auto& h : s.https) names.push_back(h.name);
      std::string guess = did_you_mean(wanted, names);
      error(node, "verifies names '" + wanted + "', which is not an http workload" + (guess.empty() ? "" : " (did you mean '" + guess + "'?)"));
    }
  }

  // ---- timeline ----
  void timeline(const YAML::Node& n, Scenario& s) {
    if (!n.IsSequence() || n.size() == 0) return error(n, "timeline must be a non-empty list of phases");
    std::set<std::string> seen;
    for (const auto& ph : n) {
      PhaseSpec p;
      p.where = at(ph);
      if (!ph.IsMap()) {
        error(ph, "a phase is a map with phase, duration, load and steps");
        continue;
      }
      keys(ph, "phase", {"phase", "duration", "until", "timeout", "load", "steps", "benchmark"});
      p.name = required_string(ph, "phase", "phase (its name)");
      if (!p.name.empty() && !plain_name(p.name))
        error(ph["phase"], "phase name '" + p.name + "' must be lowercase letters, digits, '.', '_' or '-'");
      if (!p.name.empty() && !seen.insert(p.name).second) error(ph["phase"], "phase '" + p.name + "' is defined twice");
      if (ph["until"]) {
        if (!ph["timeout"]) error(ph["until"], "a phase with 'until' needs a 'timeout' (how long to wait at most)");
        if (ph["duration"]) error(ph["duration"], "a phase with 'until' ends on its condition or its timeout; remove 'duration'");
        if (ph["timeout"]) p.duration_us = duration(ph["timeout"], "timeout").value_or(0);
        // One condition or a list of them, all of which must hold.
        std::vector<YAML::Node> conds;
        if (ph["until"].IsSequence()) {
          for (const auto& c : ph["until"]) conds.push_back(c);
          if (conds.empty()) error(ph["until"], "until needs at least one condition");
        } else {
          conds.push_back(ph["until"]);
        }
        for (const auto& c : conds) {
          std::string text = scalar_string(c, "until");
          auto e = parse_slo(text);
          if (!e) {
            expression_error(c, e.error());
          } else if (e->has_during()) {
            error(c, "an 'until' condition is checked as the phase runs; 'during' makes no sense there");
          } else {
            p.until.push_back(*e);
          }
        }
      } else if (ph["timeout"]) {
        error(ph["timeout"], "'timeout' only goes with 'until'; use 'duration' for a fixed-length phase");
      } else if (ph["benchmark"]) {
        if (ph["duration"]) error(ph["duration"], "a benchmark phase lasts as many steps as it takes; remove 'duration'");
        benchmark(ph["benchmark"], p, s);
      } else if (!ph["duration"]) {
        error(ph, "phase '" + p.name + "' needs a duration (or until + timeout) or a benchmark");
      } else {
        p.duration_us = duration(ph["duration"], "duration").value_or(0);
      }
      const YAML::Node& dnode = ph["duration"] ? ph["duration"] : ph["timeout"];
      if (dnode && p.duration_us > 0 && p.duration_us % 1000000 != 0)
        error(dnode, "phase durations are whole seconds (metrics are kept per second), not " + format_duration_us(p.duration_us));
      else if (dnode && p.duration_us <= 0 && (ph["until"] || ph["duration"]) && dnode.IsScalar() && parse_duration_us(dnode.Scalar()))
        error(dnode, "a phase lasts at least 1s");
      if (ph["until"] && ph["benchmark"]) error(ph["benchmark"], "a benchmark phase ends at its knee; 'until' does not apply");
      if (ph["load"]) loads(ph["load"], p, s);
      if (p.benchmark && p.loads.count(p.benchmark->workload))
        error(ph["load"], "the benchmark sets workload '" + p.benchmark->workload + "''s rate; remove it from load");
      if (p.benchmark) {
        LoadSpec first;
        if (p.benchmark->by_threads) first.kind = LoadSpec::Kind::Max;
        else first.rate = p.benchmark->from;
        first.where = p.benchmark->where;
        p.loads[p.benchmark->workload] = first;
      }
      if (ph["steps"]) steps(ph["steps"], p, s);
      s.phases.push_back(p);
    }
  }

  // {workload: loader, from: 1000/s, step: 1000/s, every: 10s, max: 20000/s, rise: 50%}
  void benchmark(const YAML::Node& n, PhaseSpec& p, const Scenario& s) {
    if (!n.IsMap()) return error(n, "benchmark is a map such as {workload: loader, from: 1000/s, step: 1000/s, every: 10s, max: 20000/s}");
    keys(n, "benchmark", {"workload", "by", "from", "step", "every", "max", "rise"});
    BenchmarkSpec b;
    b.where = at(n);
    b.workload = required_string(n, "workload", "benchmark");
    const ProducerWorkloadSpec* w = nullptr;
    for (const auto& pw : s.workloads)
      if (pw.name == b.workload) w = &pw;
    if (!b.workload.empty() && !w) error(n["workload"], "benchmark names no kafka-producer workload '" + b.workload + "'");
    if (n["by"]) {
      std::string by = scalar_string(n["by"], "by");
      one_of(n["by"], by, {"rate", "threads"}, "benchmark by");
      b.by_threads = by == "threads";
    }
    for (const char* k : {"from", "step", "every", "max"})
      if (!n[k]) error(n, std::string("benchmark needs '") + k + "'");
    if (b.by_threads) {
      // Thread counts; the workload sends at max rate and needs the threads started.
      if (n["from"]) b.from = static_cast<double>(bounded(n["from"], "from", 1, 64, 1));
      if (n["step"]) b.step = static_cast<double>(bounded(n["step"], "step", 1, 64, 1));
      if (n["max"]) b.max = static_cast<double>(bounded(n["max"], "max", 1, 64, 1));
      if (w && n["max"] && b.max > w->max_threads)
        error(n["max"], "max " + std::to_string(static_cast<int>(b.max)) + " threads is more than workload '" + w->name +
                            "' starts (set its max_threads to at least " + std::to_string(static_cast<int>(b.max)) + ")");
    } else {
      if (n["from"]) b.from = rate(n["from"], "from").value_or(0);
      if (n["step"]) b.step = rate(n["step"], "step").value_or(0);
      if (n["max"]) b.max = rate(n["max"], "max").value_or(0);
    }
    if (n["every"]) b.every_us = duration(n["every"], "every").value_or(0);
    if (n["from"] && b.from <= 0) error(n["from"], "from must be positive");
    if (n["step"] && b.step <= 0) error(n["step"], "step must be positive");
    if (n["max"] && b.max < b.from) error(n["max"], "max must be at least from");
    if (n["every"] && (b.every_us < 3000000 || b.every_us % 1000000 != 0))
      error(n["every"], "every is whole seconds, at least 3s (each step's first second is a warm-up, not measured)");
    if (n["rise"]) {
      std::string text = scalar_string(n["rise"], "rise");
      char* end = nullptr;
      double v = std::strtod(text.c_str(), &end);
      if (end && *end == '%') v /= 100, ++end;
      if (text.empty() || (end && *end) || v <= 0 || v > 1) error(n["rise"], "rise is a fraction of each step's rate increase, such as 50% or 0.5");
      else b.rise = v;
    }
    if (b.step > 0 && b.steps() > 1000) error(n, "a benchmark of " + std::to_string(b.steps()) + " steps is too many (at most 1000)");
    // Only for a step count let through: more, or fewer than one (max below
    // from), times a long `every` overflows.
    else if (b.steps() >= 1) p.duration_us = static_cast<int64_t>(b.steps()) * b.every_us;
    p.benchmark = b;
  }

  void loads(const YAML::Node& n, PhaseSpec& p, const Scenario& s) {
    if (!n.IsMap()) return error(n, "load must map workload names to rates");
    for (auto it = n.begin(); it != n.end(); ++it) {
      std::string wname = it->first.Scalar();
      bool known = false;
      std::vector<std::string> names;
      for (const auto& w : s.workloads) {
        names.push_back(w.name);
        if (w.name == wname) known = true;
      }
      for (const auto& e : s.etls) {
        if (e.name == wname) {
          error(it->first, "'" + wname + "' is an etl workload: it consumes whatever arrives and has no rate");
          known = true;
        }
      }
      for (const auto& r : s.sses) {
        if (r.name == wname) {
          error(it->first, "'" + wname + "' is an sse workload: it reads whatever arrives and has no rate");
          known = true;
        }
      }
      for (const auto& k : s.kube_watches) {
        if (k.name == wname) {
          error(it->first, "'" + wname + "' is a kube-watch workload: it observes whatever changes and has no rate");
          known = true;
        }
      }
      bool rated_kube = false;  // churn and lifecycles follow the phases' rates
      for (const auto& k : s.kube_churns) {
        names.push_back(k.name);
        rated_kube = rated_kube || k.name == wname;
      }
      for (const auto& k : s.kube_lifecycles) {
        names.push_back(k.name);
        rated_kube = rated_kube || k.name == wname;
      }
      known = known || rated_kube;
      bool open_http = false;
      for (const auto& h : s.https) {
        names.push_back(h.name);
        if (h.name != wname) continue;
        known = true;
        if (h.closed)
          error(it->first, "'" + wname + "' is a closed-loop http workload (closed: {concurrency, requests}): it runs from the start "
                           "until its requests are done and has no rate");
        else open_http = true;
      }
      if (known && !open_http && !rated_kube && std::none_of(s.workloads.begin(), s.workloads.end(), [&](const auto& w) { return w.name == wname; })) continue;
      if (!known) {
        std::string guess = did_you_mean(wname, names);
        error(it->first, "load names unknown workload '" + wname + "'" + (guess.empty() ? "" : " (did you mean '" + guess + "'?)"));
        continue;
      }
      LoadSpec l;
      l.where = at(it->second);
      const YAML::Node v = it->second;
      if (v.IsScalar()) {
        if (v.Scalar() == "max") l.kind = LoadSpec::Kind::Max;
        else l.rate = rate(v, "load").value_or(0);
      } else if (v.IsMap()) {
        keys(v, "load", {"rate", "arrivals", "from", "to"});
        if (v["rate"] && (v["from"] || v["to"])) error(v, "a load is either a rate or a ramp (from, to), not both");
        if (v["rate"]) {
          if (v["rate"].IsScalar() && v["rate"].Scalar() == "max") l.kind = LoadSpec::Kind::Max;
          else l.rate = rate(v["rate"], "rate").value_or(0);
        } else if (v["from"] || v["to"]) {
          if (!v["from"] || !v["to"]) error(v, "a ramp needs both from and to");
          l.kind = LoadSpec::Kind::Ramp;
          if (v["from"]) l.from = rate(v["from"], "from").value_or(0);
          if (v["to"]) l.to = rate(v["to"], "to").value_or(0);
        } else {
          error(v, "load needs rate (or from and to)");
        }
        if (v["arrivals"]) {
          std::string a = scalar_string(v["arrivals"], "arrivals");
          one_of(v["arrivals"], a, {"constant", "poisson"}, "arrivals");
          if (a == "poisson") l.arrivals = Arrivals::Poisson;
          if (l.kind == LoadSpec::Kind::Max) error(v["arrivals"], "'max' sends as fast as the target accepts; arrivals do not apply");
        }
      } else {
        error(v, "load must be a rate such as 1000/s, max, or a map with rate/arrivals or from/to");
      }
      p.loads[wname] = l;
    }
  }

  void steps(const YAML::Node& n, PhaseSpec& p, const Scenario& s) {
    if (!n.IsSequence()) return error(n, "steps must be a list");
    for (const auto& st : n) {
      StepSpec step;
      step.where = at(st);
      if (!st.IsMap()) {
        error(st, "a step is a map such as {at: 5s, chaos: broker-down, broker: random, for: 10s}");
        continue;
      }
      if (st["name"]) step.name = scalar_string(st["name"], "name");
      keys(st, "step", {"name", "at", "every", "start", "chaos", "scale", "broker", "for", "delay", "workload", "count", "spacing", "dry_run",
                        "topic", "partitions", "rate", "threads", "pods", "node", "grace_period", "namespace", "replicas"});
      if (st["at"] && st["every"]) error(st, "a step has either 'at' or 'every', not both");
      else if (!st["at"] && !st["every"]) error(st, "a step needs 'at' (an offset in its phase) or 'every' (a period)");
      if (st["at"]) step.at_us = duration(st["at"], "at");
      if (st["every"]) {
        step.every_us = duration(st["every"], "every");
        if (step.every_us && *step.every_us <= 0) error(st["every"], "'every' must be positive");
        step.start_us = step.every_us.value_or(0);
        if (st["start"]) step.start_us = duration(st["start"], "start").value_or(0);
      } else if (st["start"]) {
        error(st["start"], "'start' only goes with 'every'");
      }
      bool scale = static_cast<bool>(st["scale"]);
      if (st["chaos"] && scale) error(st, "a step is either 'chaos' or 'scale', not both");
      std::string verb = scale ? scalar_string(st["scale"], "scale") : required_string(st, "chaos", "step");
      // kubectl's form: `scale: statefulset/kafka`.
      if (scale && verb.find('/') != std::string::npos) {
        step.kube_name = verb.substr(verb.find('/') + 1);
        verb = verb.substr(0, verb.find('/'));
        if (verb == "sts") verb = "statefulset";
        if (verb == "deploy") verb = "deployment";
      }
      static const std::vector<std::pair<std::string, ChaosVerb>> chaos_verbs = {
          {"broker-down", ChaosVerb::BrokerDown},     {"broker-delay", ChaosVerb::BrokerDelay},
          {"broker-kill", ChaosVerb::BrokerKill},     {"broker-pause", ChaosVerb::BrokerPause},
          {"broker-stop", ChaosVerb::BrokerStop},     {"redis-kill", ChaosVerb::RedisKill},
          {"redis-pause", ChaosVerb::RedisPause},     {"postgres-kill", ChaosVerb::PostgresKill},
          {"postgres-pause", ChaosVerb::PostgresPause}, {"consumer-crash", ChaosVerb::ConsumerCrash},
          {"pod-kill", ChaosVerb::PodKill},           {"pod-evict", ChaosVerb::PodEvict},
          {"node-cordon", ChaosVerb::NodeCordon},     {"node-drain", ChaosVerb::NodeDrain}};
      static const std::vector<std::pair<std::string, ChaosVerb>> scale_verbs = {
          {"add-brokers", ChaosVerb::AddBrokers}, {"add-partitions", ChaosVerb::AddPartitions}, {"producer", ChaosVerb::ScaleProducer},
          {"statefulset", ChaosVerb::ScaleStatefulSet}, {"deployment", ChaosVerb::ScaleDeployment}};
      bool verb_known = false;
      std::vector<std::string> verb_names;
      for (const auto& [n, v] : scale ? scale_verbs : chaos_verbs) {
        verb_names.push_back(n);
        if (n == verb) {
          step.verb = v;
          verb_known = true;
        }
      }
      if (!verb.empty() && !verb_known) one_of(scale ? st["scale"] : st["chaos"], verb, verb_names, scale ? "scale step" : "chaos action");
      if (verb_known && (step.verb == ChaosVerb::RedisKill || step.verb == ChaosVerb::RedisPause) && !s.redis.declared)
        error(st["chaos"], verb + " needs a Redis in the topology");
      if (verb_known && (step.verb == ChaosVerb::PostgresKill || step.verb == ChaosVerb::PostgresPause) && !s.postgres.declared)
        error(st["chaos"], verb + " needs a PostgreSQL in the topology");
      if (verb_known && step.verb == ChaosVerb::ConsumerCrash) {
        if (!st["workload"]) {
          error(st, "consumer-crash needs 'workload' (the etl workload whose consumer crashes)");
        } else {
          step.workload = scalar_string(st["workload"], "workload");
          bool found = false;
          for (const auto& e : s.etls) found = found || e.name == step.workload;
          if (!found) error(st["workload"], "no etl workload named '" + step.workload + "'");
        }
      } else if (verb_known && step.verb == ChaosVerb::ScaleProducer) {
        scale_producer(st, step, s);
      } else if (st["workload"]) {
        error(st["workload"], "'workload' only goes with consumer-crash and scale: producer");
      }
      if (step.verb != ChaosVerb::ScaleProducer) {
        if (st["rate"]) error(st["rate"], "'rate' only goes with scale: producer (a phase's load sets rates)");
        if (st["threads"]) error(st["threads"], "'threads' only goes with scale: producer");
      }
      if (verb_known && !chaos_verb_takes_broker(step.verb) && st["broker"])
        error(st["broker"], "'broker' only goes with broker-down, broker-kill, broker-pause, broker-stop and broker-delay");
      if (verb_known) kube_step(st, step);
      bool kube_scale = step.verb == ChaosVerb::ScaleStatefulSet || step.verb == ChaosVerb::ScaleDeployment;
      bool pod_chaos = step.verb == ChaosVerb::PodKill || step.verb == ChaosVerb::PodEvict;
      if (scale && kube_scale) {
        // Restored after `for`, or at the end of the run without it.
        if (st["for"]) step.for_us = duration(st["for"], "for").value_or(0);
        if (st["dry_run"]) error(st["dry_run"], "'dry_run' goes with chaos steps");
      } else if (scale) {
        if (st["for"]) error(st["for"], "scale steps are not undone: 'for' does not apply");
        if (st["dry_run"]) error(st["dry_run"], "'dry_run' goes with chaos steps");
      } else if (pod_chaos) {
        // The pod's controller replaces it: nothing to undo, `for` is how
        // long the step waits for the replacement to be Ready (0: no wait).
        if (st["for"]) step.for_us = duration(st["for"], "for").value_or(0);
      } else if (!st["for"]) {
        error(st, step.verb == ChaosVerb::BrokerKill
                      ? "broker-kill needs 'for' (how long until the killed broker is restarted, as Kubernetes would restart a pod)"
                      : "a chaos step needs 'for' (how long the injection lasts before it is undone)");
      } else {
        step.for_us = duration(st["for"], "for").value_or(0);
      }
      if (st["dry_run"] && !scale) step.dry_run = boolean(st["dry_run"], "dry_run").value_or(false);
      if (step.verb == ChaosVerb::BrokerDelay) {
        if (!st["delay"]) error(st, "broker-delay needs 'delay' (the added round-trip time, e.g. 50ms)");
        else step.delay_us = duration(st["delay"], "delay").value_or(0);
      } else if (st["delay"]) {
        error(st["delay"], "'delay' only goes with broker-delay");
      }
      if (st["broker"]) broker(st["broker"], step, s);
      if (verb_known && !chaos_verb_is_kube(step.verb)) scale_or_spread(st, step, s);
      // The step must fit in its phase: injections never outlive the phase
      // that declared them.
      int64_t first = step.at_us ? *step.at_us : step.start_us;
      const YAML::Node& off = st["at"] ? st["at"] : st["every"];
      if (p.duration_us > 0 && off && (step.at_us || step.every_us)) {
        if (first >= p.duration_us)
          error(off, "step at " + format_duration_us(first) + " is outside its phase '" + p.name + "' (" +
                         format_duration_us(p.duration_us) + " long)");
        else if (first + step.for_us > p.duration_us)
          error(st["for"] ? st["for"] : st, "step from " + format_duration_us(first) + " for " + format_duration_us(step.for_us) +
                                                " ends after its phase '" + p.name + "' (" + format_duration_us(p.duration_us) + " long)");
        if (step.every_us && *step.every_us > 0 && step.for_us >= *step.every_us)
          error(st["for"] ? st["for"] : st, "a repeated step must be undone before it repeats: 'for' (" + format_duration_us(step.for_us) +
                                                ") must be shorter than 'every' (" + format_duration_us(*step.every_us) + ")");
      }
      p.steps.push_back(step);
    }
  }

  // pods/node/grace_period for pod and node chaos; name_of/namespace/replicas
  // for scale: statefulset|deployment. All need the kubernetes target.
  void kube_step(const YAML::Node& st, StepSpec& step) {
    bool pod = step.verb == ChaosVerb::PodKill || step.verb == ChaosVerb::PodEvict;
    bool node = step.verb == ChaosVerb::NodeCordon || step.verb == ChaosVerb::NodeDrain;
    bool scale = step.verb == ChaosVerb::ScaleStatefulSet || step.verb == ChaosVerb::ScaleDeployment;
    if (!pod && st["pods"]) error(st["pods"], "'pods' only goes with pod-kill and pod-evict");
    if (!node && st["node"]) error(st["node"], "'node' only goes with node-cordon and node-drain");
    if (!pod && step.verb != ChaosVerb::NodeDrain && step.verb != ChaosVerb::BrokerKill && st["grace_period"])
      error(st["grace_period"], "'grace_period' only goes with pod-kill, pod-evict, node-drain and broker-kill");
    if (chaos_verb_is_kube(step.verb)) {
      // What scale_or_spread reads for the other verbs means nothing here.
      for (const char* key : {"spacing", "topic", "partitions"})
        if (st[key]) error(st[key], std::string("'") + key + "' does not go with " + chaos_verb_name(step.verb));
      if (!pod && st["count"]) error(st["count"], std::string("'count' does not go with ") + chaos_verb_name(step.verb) + " (pod-kill and pod-evict take it)");
    }
    if (!scale) {
      for (const char* key : {"namespace", "replicas"})
        if (st[key]) error(st[key], std::string("'") + key + "' only goes with scale: statefulset/NAME and scale: deployment/NAME");
      if (!step.kube_name.empty()) error(st["scale"], "scale: KIND/NAME is for statefulset and deployment");
    }
    if (st["grace_period"]) step.grace_period_us = duration(st["grace_period"], "grace_period").value_or(-1);
    if (pod) {
      if (!st["pods"]) return error(st, std::string(chaos_verb_name(step.verb)) + " needs 'pods': {selector: app=kafka}, {name: kafka-0} or {leader_of: {topic, partition}}");
      const YAML::Node p = st["pods"];
      if (!p.IsMap()) return error(p, "pods is a map: selector, name or leader_of; namespace, min_age, one_per_owner");
      keys(p, "pods", {"selector", "name", "leader_of", "namespace", "min_age", "one_per_owner"});
      int ways = (p["selector"] ? 1 : 0) + (p["name"] ? 1 : 0) + (p["leader_of"] ? 1 : 0);
      if (ways != 1) error(p, "pods names its pods one way: selector, name or leader_of");
      if (p["selector"]) step.pods.selector = scalar_string(p["selector"], "selector");
      if (p["name"]) step.pods.name = scalar_string(p["name"], "name");
      if (p["namespace"]) step.pods.namespace_ = scalar_string(p["namespace"], "namespace");
      if (p["min_age"]) step.pods.min_age_us = duration(p["min_age"], "min_age").value_or(0);
      if (p["one_per_owner"]) step.pods.one_per_owner = boolean(p["one_per_owner"], "one_per_owner").value_or(false);
      if (p["leader_of"]) {
        const YAML::Node l = p["leader_of"];
        if (!l.IsMap()) return error(l, "leader_of is {topic: NAME, partition: N}");
        keys(l, "leader_of", {"topic", "partition"});
        step.pods.leader_topic = required_string(l, "topic", "leader_of");
        if (l["partition"]) step.pods.leader_partition = bounded(l["partition"], "partition", 0, 100000, 0);
      }
      if (st["count"]) step.count = bounded(st["count"], "count", 1, 1000, 1);
    }
    if (node) {
      if (!st["node"]) return error(st, std::string(chaos_verb_name(step.verb)) + " needs 'node': a name, random, or {selector: ...}");
      const YAML::Node nd = st["node"];
      if (nd.IsScalar()) {
        if (nd.Scalar() != "random") step.node.name = nd.Scalar();
      } else if (nd.IsMap()) {
        keys(nd, "node", {"selector"});
        step.node.selector = required_string(nd, "selector", "node");
      } else {
        error(nd, "node is a name, random, or {selector: LABELS}");
      }
    }
    if (scale) {
      if (step.kube_name.empty())
        error(st["scale"], std::string("scale: ") + chaos_verb_name(step.verb) + " names what it scales: scale: " + chaos_verb_name(step.verb) + "/NAME");
      if (st["namespace"]) step.kube_namespace = scalar_string(st["namespace"], "namespace");
      if (!st["replicas"]) error(st, std::string("scale: ") + chaos_verb_name(step.verb) + " needs 'replicas' (the new count; 0 scales it down to nothing)");
      else step.replicas = bounded(st["replicas"], "replicas", 0, 1000, 0);
    }
  }

  void broker(const YAML::Node& b, StepSpec& step, const Scenario& s) {
    if (b.IsScalar()) {
      if (b.Scalar() == "random") {
        step.broker.kind = BrokerChoice::Kind::Random;
        return;
      }
      if (b.Scalar() == "controller") {
        step.broker.kind = BrokerChoice::Kind::Controller;
        return;
      }
      auto id = integer(b, "broker (random, controller, a broker id, or {leader_of: topic/partition})");
      if (!id) return;
      if (*id < 1 || (s.kafka.bootstrap.empty() && *id > s.kafka.brokers))
        error(b, "broker " + std::to_string(*id) + " does not exist (brokers are 1.." + std::to_string(s.kafka.brokers) + ")");
      step.broker.kind = BrokerChoice::Kind::Id;
      step.broker.id = static_cast<int>(*id);
      return;
    }
    if (b.IsMap()) {
      keys(b, "broker", {"leader_of"});
      if (!b["leader_of"]) return error(b, "broker must be random, controller, a broker id, or {leader_of: topic/partition}");
      std::string v = scalar_string(b["leader_of"], "leader_of");
      auto slash = v.rfind('/');
      char* end = nullptr;
      long part = slash == std::string::npos ? -1 : std::strtol(v.c_str() + slash + 1, &end, 10);
      if (slash == std::string::npos || slash + 1 == v.size() || *end || part < 0)
        return error(b["leader_of"], "leader_of must be topic/partition, e.g. bps.texas/0");
      step.broker.kind = BrokerChoice::Kind::LeaderOf;
      step.broker.topic = v.substr(0, slash);
      step.broker.partition = static_cast<int>(part);
      const TopicSpec* topic = nullptr;
      std::vector<std::string> names;
      for (const auto& t : s.kafka.topics) {
        names.push_back(t.name);
        if (t.name == step.broker.topic) topic = &t;
      }
      if (!topic && s.kafka.bootstrap.empty()) {
        std::string guess = did_you_mean(step.broker.topic, names);
        error(b["leader_of"], "leader_of names topic '" + step.broker.topic + "', which the topology does not declare" +
                                  (guess.empty() ? "" : " (did you mean '" + guess + "'?)"));
      } else if (topic && part >= topic->partitions) {
        error(b["leader_of"], "topic '" + topic->name + "' has " + std::to_string(topic->partitions) + " partitions (0.." +
                                  std::to_string(topic->partitions - 1) + ")");
      }
      return;
    }
    error(b, "broker must be random, controller, a broker id, or {leader_of: topic/partition}");
  }

  // scale: producer: the workload, a new rate and/or thread count.
  void scale_producer(const YAML::Node& st, StepSpec& step, const Scenario& s) {
    if (!st["workload"]) return error(st, "scale: producer needs 'workload' (the kafka-producer to scale)");
    step.workload = scalar_string(st["workload"], "workload");
    const ProducerWorkloadSpec* w = nullptr;
    for (const auto& p : s.workloads)
      if (p.name == step.workload) w = &p;
    if (!w) return error(st["workload"], "no kafka-producer workload named '" + step.workload + "'");
    if (!st["rate"] && !st["threads"]) return error(st, "scale: producer needs 'rate', 'threads' or both");
    if (st["rate"]) step.rate = rate(st["rate"], "rate").value_or(-1);
    if (st["threads"]) {
      step.threads = bounded(st["threads"], "threads", 1, 64, 1);
      if (step.threads > w->max_threads)
        error(st["threads"], "threads " + std::to_string(step.threads) + " is more than workload '" + w->name + "' starts (set its max_threads to at least " +
                                 std::to_string(step.threads) + ")");
    }
  }

  // count/spacing for random broker picks, count for add-brokers, topic and
  // partitions for add-partitions.
  void scale_or_spread(const YAML::Node& st, StepSpec& step, const Scenario& s) {
    bool random = chaos_verb_takes_broker(step.verb) && step.broker.kind == BrokerChoice::Kind::Random;
    if (st["count"]) {
      auto c = integer(st["count"], "count");
      if (step.verb == ChaosVerb::AddBrokers) {
        if (c && (*c < 1 || s.kafka.brokers + *c > 32)) error(st["count"], "add-brokers count must be at least 1 and leave at most 32 brokers");
      } else if (!random) {
        error(st["count"], "'count' goes with a random broker choice (how many brokers each hit takes) or add-brokers");
      } else if (c && (*c < 1 || *c > s.kafka.brokers)) {
        error(st["count"], "count must be between 1 and the " + std::to_string(s.kafka.brokers) + " brokers of the topology");
      }
      if (c) step.count = static_cast<int>(*c);
    }
    if (st["spacing"]) {
      if (!random) error(st["spacing"], "'spacing' (least time between hits on the same broker) goes with a random broker choice");
      else step.spacing_us = duration(st["spacing"], "spacing").value_or(0);
    }
    if (step.verb != ChaosVerb::AddPartitions) {
      if (st["topic"]) error(st["topic"], "'topic' only goes with add-partitions");
      if (st["partitions"]) error(st["partitions"], "'partitions' only goes with add-partitions");
      return;
    }
    step.topic = required_string(st, "topic", "add-partitions");
    if (!st["partitions"]) return error(st, "add-partitions needs 'partitions' (the topic's new total)");
    auto n = integer(st["partitions"], "partitions");
    if (!n) return;
    step.partitions = static_cast<int>(*n);
    const TopicSpec* topic = nullptr;
    std::vector<std::string> names;
    for (const auto& t : s.kafka.topics) {
      names.push_back(t.name);
      if (t.name == step.topic) topic = &t;
    }
    if (!topic && s.kafka.bootstrap.empty()) {
      std::string guess = did_you_mean(step.topic, names);
      error(st["topic"], "add-partitions names topic '" + step.topic + "', which the topology does not declare" +
                             (guess.empty() ? "" : " (did you mean '" + guess + "'?)"));
    } else if (topic && *n <= topic->partitions) {
      error(st["partitions"], "partitions is the new total and must exceed the " + std::to_string(topic->partitions) + " that " +
                                  topic->name + " starts with");
    }
  }

  // Expression errors carry a column inside the string; map it into the file.
  void expression_error(const YAML::Node& n, const Error& e) {
    SourceLocation where = at(n);
    int col_in_text = e.where.column;
    if (where.line > 0 && col_in_text > 0) {
      // Plain and quoted one-line scalars: the text starts at the node's
      // column, one later when quoted.
      where.column += col_in_text - 1;
      if (n.Tag() == "!") where.column += 1;
    }
    error_at(where, e.message);
  }

  void expectations(const YAML::Node& n, Scenario& s) {
    if (!n.IsSequence()) return error(n, "expect must be a list of expressions such as 'p99(produce.latency) < 250ms'");
    for (const auto& item : n) {
      if (item.IsMap() && item["lua"]) {
        // {lua: lua/assertions.lua, function: check}: the scenario's own invariant.
        ExpectationSpec spec;
        spec.lua = *lua_function(item, "a Lua expectation", "check");
        spec.where = at(item);
        s.expectations.push_back(spec);
        continue;
      }
      if (item.IsMap() && item["prometheus"]) {
        prometheus_expectation(item, s);
        continue;
      }
      // (reset, not =: assigning a YAML::Node overwrites the node it refers to)
      YAML::Node text_node;
      text_node.reset(item);
      bool abort = false;
      if (item.IsMap()) {
        // {expect: "...", abort: true}: checked every second, stops the run.
        keys(item, "expectation", {"expect", "abort"});
        if (!item["expect"]) {
          error(item, "an expectation map needs 'expect' (an expression), 'lua' or 'prometheus'");
          continue;
        }
        text_node.reset(item["expect"]);
        if (item["abort"]) abort = boolean(item["abort"], "abort").value_or(false);
      }
      std::string text = scalar_string(text_node, "an expectation");
      if (text.empty()) continue;
      auto e = parse_slo(text);
      if (!e) {
        expression_error(text_node, e.error());
        continue;
      }
      if (expression_names_ok(text_node, *e, s)) s.expectations.push_back(ExpectationSpec{*e, std::nullopt, std::nullopt, abort, at(text_node)});
    }
  }

  // Phases and steps an expression names exist; errors point at the name.
  bool expression_names_ok(const YAML::Node& node, const SloExpression& e, const Scenario& s) {
    std::vector<std::string> phase_names;
    for (const auto& p : s.phases) phase_names.push_back(p.name);
    bool ok = true;
    for (const auto& [phase, offset] : e.phases_named()) {
      if (s.phase(phase)) continue;
      std::string guess = did_you_mean(phase, phase_names);
      expression_error(node, usage_error("unknown phase '" + phase + "'" + (guess.empty() ? "" : " (did you mean '" + guess + "'?)"),
                                         SourceLocation{"", 1, static_cast<int>(offset) + 1}));
      ok = false;
    }
    if (!e.after.empty()) {
      std::vector<std::string> steps;
      for (const auto& p : s.phases)
        for (const auto& st : p.steps) {
          if (!st.name.empty()) steps.push_back(st.name);
          steps.push_back(chaos_verb_name(st.verb));
        }
      if (std::find(steps.begin(), steps.end(), e.after) == steps.end()) {
        std::string guess = did_you_mean(e.after, steps);
        expression_error(node, usage_error("no step named '" + e.after + "' (recovery_time follows a step's name or a chaos verb used in the timeline" +
                                               (guess.empty() ? "" : "; did you mean '" + guess + "'?") + ")",
                                           SourceLocation{"", 1, static_cast<int>(e.after_offset) + 1}));
        ok = false;
      }
    }
    return ok;
  }

  // {prometheus: 'PROMQL', value: '< 2GiB', url: http://...}
  void prometheus_expectation(const YAML::Node& item, Scenario& s) {
    keys(item, "prometheus expectation", {"prometheus", "value", "url", "abort"});
    if (item["abort"]) error(item["abort"], "a prometheus expectation is checked once, at the end of the run; 'abort' does not apply");
    PrometheusCheck check;
    check.query = scalar_string(item["prometheus"], "prometheus");
    if (check.query.empty()) error(item["prometheus"], "prometheus needs a PromQL query");
    if (item["url"]) check.url = scalar_string(item["url"], "url");
    std::string value = item["value"] ? scalar_string(item["value"], "value") : "";
    if (!item["value"] || value.empty()) return error(item, "a prometheus expectation needs 'value', a comparison such as '< 0.8' or '<= 2GiB'");
    // "< 2GiB": the comparison, then a constant read by the expectation
    // grammar (compared with itself, so any unit parses), columns kept.
    size_t op_end = value.find_first_not_of("<>=! ");
    std::string cmp = value.substr(0, op_end);
    cmp.erase(std::remove(cmp.begin(), cmp.end(), ' '), cmp.end());
    std::string constant = op_end == std::string::npos ? "" : value.substr(op_end);
    static const std::vector<std::string> cmps = {"<", "<=", ">", ">=", "==", "!="};
    if (std::find(cmps.begin(), cmps.end(), cmp) == cmps.end() || constant.empty()) {
      error(item["value"], "value is a comparison with a constant, such as '< 0.8' or '<= 2GiB'");
      return;
    }
    auto e = parse_slo(constant + " == " + constant);
    if (!e || e->nodes[e->lhs].kind != SloNode::Kind::Number) {
      if (!e) {
        Error err = e.error();
        err.where.column += static_cast<int>(op_end);
        expression_error(item["value"], err);
      } else {
        error(item["value"], "value is a comparison with a constant, such as '< 0.8' or '<= 2GiB'");
      }
      return;
    }
    const SloNode& threshold = e->nodes[e->lhs];
    check.cmp = cmp;
    check.dim = threshold.dim;
    // Prometheus speaks seconds; the grammar normalizes durations to microseconds.
    check.threshold = threshold.dim == SloDimension::Time ? threshold.number / 1e6 : threshold.number;
    check.threshold_text = constant;
    ExpectationSpec spec;
    spec.prometheus = check;
    spec.where = at(item);
    s.expectations.push_back(spec);
  }

  std::string file_;
  std::string base_dir_;
  std::vector<Error> errors_;
  std::vector<std::pair<std::string, YAML::Node>> pending_verifies_;  // sse `verifies`, checked once every workload is read
  std::vector<std::pair<std::vector<std::string>, YAML::Node>> pending_observes_;  // kube-watch `observes`, likewise
};

LoadOutcome parse_and_load(const std::string& text, const std::string& display, const std::string& base_dir,
                           const std::vector<Override>& overrides) {
  LoadOutcome out;
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::ParserException& e) {
    out.errors.push_back(usage_error("YAML syntax error: " + e.msg, SourceLocation{display, e.mark.line + 1, e.mark.column + 1}));
    return out;
  } catch (const YAML::Exception& e) {
    out.errors.push_back(usage_error("YAML error: " + e.msg, SourceLocation{display, 0, 0}));
    return out;
  }
  if (auto err = apply_overrides(root, overrides)) {
    out.errors.push_back(*err);
    return out;
  }
  try {
    Loader loader(display, base_dir);
    return loader.load(root);
  } catch (const YAML::Exception& e) {
    // yaml-cpp throws on some malformed trees (e.g. a key that is a map);
    // report it rather than crash.
    out.errors.push_back(usage_error("YAML error: " + e.msg, SourceLocation{display, e.mark.line + 1, e.mark.column + 1}));
    return out;
  }
}

}  // namespace

LoadOutcome load_scenario_text(const std::string& text, const std::string& display_name, const std::string& base_dir,
                               const std::vector<Override>& overrides) {
  return parse_and_load(text, display_name, base_dir, overrides);
}

LoadOutcome load_scenario_file(const std::string& path, const std::vector<Override>& overrides) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    LoadOutcome out;
    out.errors.push_back(usage_error("cannot read scenario file: " + std::string(std::strerror(errno)), SourceLocation{path, 0, 0}));
    return out;
  }
  std::stringstream ss;
  ss << in.rdbuf();
  std::string dir = fs::path(path).parent_path().string();
  return parse_and_load(ss.str(), path, dir, overrides);
}

}  // namespace kapture
