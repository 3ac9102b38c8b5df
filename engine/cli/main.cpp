// kapture-engine: the command line. Turns errors into messages and exit codes.
#include <condition_variable>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <mutex>

#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>
#include <spdlog/sinks/stdout_color_sinks.h>

#include "chaos/ChaosRouter.h"
#include "common/RandomSuffix.h"
#include "common/Redact.h"
#include "distributed/KubeWorkerLauncher.h"
#include "distributed/LocalWorkerLauncher.h"
#include "distributed/RemoteWorkload.h"
#include "distributed/WorkerFleet.h"
#include "distributed/WorkerProcess.h"
#include "cli/KubeCommands.h"
#include "cli/RedactingSink.h"
#include "cli/SignalWatcher.h"
#include "etl/LedgerCheck.h"
#include "lua/LuaRecordGenerator.h"
#include "lua/LuaState.h"
#include "lua/LuaTransform.h"
#include "metrics/DependencyFaults.h"
#include "metrics/MetricsEndpoint.h"
#include "plan/Plan.h"
#include "report/EventLog.h"
#include "report/JsonPath.h"
#include "report/RunComparison.h"
#include "report/RunReport.h"
#include "report/SummaryFile.h"
#include "scenario/ScenarioLoader.h"
#include "scenario/ScenarioSecrets.h"
#include "scenario/SecurityNotes.h"
#include "slo/LuaAssertion.h"
#include "slo/PrometheusExpectations.h"
#include "slo/Verdict.h"
#include "targets/EmbeddedTarget.h"
#include "targets/KubernetesTarget.h"
#include "targets/LocalKafkaTarget.h"
#include "targets/StoreServers.h"
#include "targets/Target.h"
#include "timeline/TimelineExecutor.h"
#include "webapp/WebApp.h"
#include "workloads/EtlWorkload.h"
#include "workloads/HttpScripts.h"
#include "workloads/HttpWorkload.h"
#include "workloads/KubeChurnWorkload.h"
#include "workloads/KubeLifecycleWorkload.h"
#include "workloads/KubeWatchWorkload.h"
#include "workloads/SseWorkload.h"
#include "targets/WebAppProcess.h"
#include "workloads/ProducerWorkload.h"

namespace fs = std::filesystem;
using namespace kapture;

namespace {

struct Options {
  std::vector<std::string> scenarios;
  std::string target;
  std::string results = "results";
  std::optional<uint64_t> seed;
  std::vector<std::string> sets;
  std::string kafka;
  std::vector<std::string> kafka_props;
  std::string redis;
  std::string postgres;
  bool quiet = false;
  bool verbose = false;
  bool keep_cluster = false;
  int drain_s = 10;
  std::string metrics_addr;
  std::string prometheus;  // --prometheus: for prometheus expectations
  std::string listen = "127.0.0.1:8080";  // serve webapp
  std::string acks = "all";               // serve webapp
  std::string h2_listen;                  // serve webapp: HTTP/2 too
  std::string tls_cert, tls_key;          // serve webapp: HTTP/2 over TLS
  int brokers = 3;
  // The kubernetes target, down and recover.
  std::string kubeconfig, kube_context, kube_namespace;
  bool keep = false;
  std::vector<std::string> allow_namespaces;
  int kube_timeout_s = 300;
  std::optional<int> workers;  // --workers: the scenario's `workers`
  // `worker` (started by a coordinator, not by hand)
  WorkerOptions worker;
  std::string worker_properties_file;

  // The --set overrides, --workers among them (workers get the same).
  std::vector<std::string> overrides() const {
    std::vector<std::string> all = sets;
    if (workers) all.push_back("workers=" + std::to_string(*workers));
    return all;
  }

  KubeConfigOptions kube_access() const {
    KubeConfigOptions k;
    k.kubeconfig = kubeconfig;
    k.context = kube_context;
    k.namespace_ = kube_namespace;
    return k;
  }
};

// Every message the engine prints goes through redact(): errors quote
// client libraries, which may quote a secret.
void print_errors(const std::vector<Error>& errors) {
  for (const auto& e : errors) std::fprintf(stderr, "%s\n", redact(e.describe()).c_str());
}

// The command line's secrets, registered before anything can print them.
void register_option_secrets(const Options& opt) {
  for (const auto& kv : opt.kafka_props) {
    auto eq = kv.find('=');
    if (eq != std::string::npos) register_secret_properties({{kv.substr(0, eq), kv.substr(eq + 1)}});
  }
  for (const std::string* url : {&opt.redis, &opt.postgres, &opt.prometheus, &opt.kafka}) register_url_secrets(*url);
}

// Loads, applies --seed, picks the target and checks what it can do, and
// probes the Lua generators. Everything a run would refuse, validate refuses.
struct Prepared {
  Scenario scenario;
  std::unique_ptr<Target> target;
};

// --kafka-prop key=value, repeated.
Result<std::map<std::string, std::string>> kafka_props(const std::vector<std::string>& given) {
  std::map<std::string, std::string> out;
  for (const auto& kv : given) {
    auto eq = kv.find('=');
    if (eq == std::string::npos || eq == 0) return usage_error("--kafka-prop expects key=value (got '" + kv + "')");
    out[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  return out;
}

std::optional<Prepared> prepare(const std::string& path, const Options& opt, std::vector<Error>& errors) {
  std::vector<Override> overrides;
  for (const auto& s : opt.overrides()) {
    auto o = parse_override(s);
    if (!o) {
      errors.push_back(o.error());
      return std::nullopt;
    }
    overrides.push_back(*o);
  }
  LoadOutcome loaded = load_scenario_file(path, overrides);
  if (!loaded.scenario) {
    errors = loaded.errors;
    return std::nullopt;
  }
  Prepared p;
  p.scenario = std::move(*loaded.scenario);
  register_scenario_secrets(p.scenario);
  if (opt.seed) p.scenario.seed = *opt.seed;
  TargetOptions to;
  to.kind = opt.target;
  to.kafka_bootstrap = opt.kafka;
  auto props = kafka_props(opt.kafka_props);
  if (!props) {
    errors.push_back(props.error());
    return std::nullopt;
  }
  to.kafka_properties = *props;
  to.kubeconfig = opt.kubeconfig;
  to.kube_context = opt.kube_context;
  to.kube_namespace = opt.kube_namespace;
  to.keep = opt.keep;
  to.allow_namespaces = opt.allow_namespaces;
  auto target = make_target(p.scenario, to);
  if (!target) {
    errors.push_back(target.error());
    return std::nullopt;
  }
  p.target = std::move(*target);
  errors = check_target_supports(p.scenario, *p.target);
  StoreServers stores(opt.redis, opt.postgres);
  for (auto& e : check_store_chaos(p.scenario, stores)) errors.push_back(e);
  for (const auto& w : p.scenario.workloads) {
    if (!w.generator) continue;
    if (auto err = probe_generator(w, p.scenario.seed)) errors.push_back(*err);
  }
  for (const auto& h : p.scenario.https)
    if (auto err = probe_http_scripts(h, p.scenario.seed)) errors.push_back(*err);
  for (const auto& e : p.scenario.etls) {
    if (!e.transform) continue;
    if (auto err = probe_transform(*e.transform, e.allow, p.scenario.seed)) errors.push_back(*err);
  }
  for (const auto& ex : p.scenario.expectations) {
    if (!ex.lua) continue;
    // Syntax errors and missing functions now, not after the run.
    LuaState probe(LuaSandbox{});
    if (auto err = probe.run_file(ex.lua->lua_path, ex.lua->display_path)) {
      errors.push_back(*err);
      continue;
    }
    lua_getglobal(probe.get(), ex.lua->function.c_str());
    if (!lua_isfunction(probe.get(), -1))
      errors.push_back(usage_error("the script defines no function '" + ex.lua->function + "' (a Lua expectation calls " +
                                       ex.lua->function + "(ctx) after the run)",
                                   SourceLocation{ex.lua->display_path, 0, 0}));
  }
  // ledger.* needs a producer that keeps the ledger (checked against
  // PostgreSQL when an ETL writes there, else against the topics).
  for (const auto& ex : p.scenario.expectations) {
    for (const auto& [metric, offset] : ex.expr.metrics_named()) {
      if (metric.rfind("ledger.", 0) != 0) continue;
      if (!p.scenario.uses_ledger()) {
        SourceLocation where = ex.where;
        errors.push_back(usage_error("'" + metric + "' needs a kafka-producer with `ledger: true`", where));
        break;
      }
    }
  }
  for (const auto& ex : p.scenario.expectations) {
    if (ex.prometheus && ex.prometheus->url.empty() && p.scenario.prometheus_url.empty() && opt.prometheus.empty())
      errors.push_back(usage_error("a prometheus expectation needs a server: topology.prometheus.url, 'url' on the item, or --prometheus URL", ex.where));
  }
  if (p.scenario.workers > 0 && p.target->name() != "local" && p.target->name() != "kubernetes")
    errors.push_back(usage_error("workers: " + std::to_string(p.scenario.workers) +
                                     " runs worker processes beside real brokers (--target local) or an Indexed Job of worker pods "
                                     "(--target kubernetes), not on the " + p.target->name() + " target",
                                 p.scenario.workers_where));
  if (p.scenario.has_kube_workloads() && !dynamic_cast<KubernetesTarget*>(p.target.get()))
    errors.push_back(usage_error("kube-churn, kube-lifecycle and kube-watch workloads load a Kubernetes API server: run with --target kubernetes (not " +
                                 p.target->name() + ")"));
  if (!errors.empty()) return std::nullopt;
  return p;
}

std::string utc_stamp() {
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &tm);
  return buf;
}

int cmd_validate(const Options& opt) {
  int rc = 0;
  for (const auto& path : opt.scenarios) {
    std::vector<Error> errors;
    auto p = prepare(path, opt, errors);
    if (!p) {
      print_errors(errors);
      rc = kExitUsage;
    } else if (!opt.quiet) {
      std::printf("%s: ok (%zu phases, %zu expectations, target %s)\n", path.c_str(), p->scenario.phases.size(),
                  p->scenario.expectations.size(), p->target->name().c_str());
    }
  }
  return rc;
}

int cmd_plan(const Options& opt) {
  std::vector<Error> errors;
  auto p = prepare(opt.scenarios.at(0), opt, errors);
  if (!p) {
    print_errors(errors);
    return kExitUsage;
  }
  Plan plan = resolve_plan(p->scenario, p->target->name());
  std::fputs(redact(format_plan(plan)).c_str(), stdout);
  // Against a cluster: what each Kubernetes step would hit now, read-only.
  if (auto* kube = dynamic_cast<KubernetesTarget*>(p->target.get())) {
    std::vector<ChaosAction> actions;
    for (const auto& ph : plan.phases)
      for (const auto& i : ph.injections)
        if (chaos_verb_is_kube(i.action.verb) || i.action.verb == ChaosVerb::BrokerKill) actions.push_back(i.action);
    if (!actions.empty()) {
      auto lines = kube->preview(p->scenario, actions);
      if (!lines) {
        print_errors({lines.error()});
        return lines.error().kind == ErrorKind::Usage ? kExitUsage : kExitUnreachable;
      }
      std::printf("on the cluster now (nothing changed):\n");
      for (const auto& l : *lines) std::printf("  %s\n", redact(l).c_str());
    }
  }
  return 0;
}

// Waits for SIGINT/SIGTERM.
void wait_for_signal(SignalWatcher& signals) {
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
  signals.on_signal([&] {
    std::lock_guard lock(mu);
    done = true;
    cv.notify_all();
  });
  std::unique_lock lock(mu);
  cv.wait(lock, [&] { return done; });
  // Unlock first: the watcher runs the callback (which takes `mu`) under its
  // own lock, which on_signal takes too; holding `mu` here would deadlock on
  // a second signal (lock-order inversion, found by TSan). on_signal still
  // waits for a running callback, so `mu` and `cv` outlive it.
  lock.unlock();
  signals.on_signal(nullptr);
}

int cmd_run(const Options& opt, SignalWatcher& signals) {
  const std::string& path = opt.scenarios.at(0);
  std::vector<Error> errors;
  auto p = prepare(path, opt, errors);
  if (!p) {
    print_errors(errors);
    return kExitUsage;
  }
  Scenario& scenario = p->scenario;
  Target& target = *p->target;
  Plan plan = resolve_plan(scenario, target.name());

  fs::path dir = fs::path(opt.results) / (scenario.name + "-" + utc_stamp());
  for (int i = 2; fs::exists(dir); ++i) dir = fs::path(opt.results) / (scenario.name + "-" + utc_stamp() + "-" + std::to_string(i));
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) {
    std::fprintf(stderr, "%s: cannot create the results directory: %s\n", dir.c_str(), ec.message().c_str());
    return kExitUsage;
  }
  // The first file, before anything runs: a directory that takes no files
  // (read-only, full) is found now, not after the run.
  if (Status st = write_text_file((dir / "plan.json").string(), redact_json(plan_to_json(plan)).dump(2) + "\n")) {
    print_errors({*st});
    fs::remove_all(dir, ec);
    return kExitUsage;
  }
  // TLS verification turned off and Lua let out of its sandbox: said now and
  // written into summary.json and summary.md.
  auto cli_props = kafka_props(opt.kafka_props);  // valid: prepare() parsed them
  SecurityNotes security = security_notes(scenario, cli_props ? *cli_props : std::map<std::string, std::string>{}, opt.postgres);
  for (const auto& w : security.warnings) spdlog::warn("{}", w.message);

  MetricsStore metrics;
  // Live /metrics (--metrics-addr), up until cmd_run returns: a scrape after
  // the results are written sees the run's end state.
  LiveStatus live;
  std::unique_ptr<MetricsEndpoint> endpoint;
  if (!opt.metrics_addr.empty()) {
    auto started = MetricsEndpoint::start(opt.metrics_addr, metrics, live);
    if (!started) {
      print_errors({started.error()});
      fs::remove_all(dir, ec);  // nothing ran: no results to keep
      return kExitUsage;
    }
    endpoint = std::move(*started);
    // Even with --quiet: with port 0 this is the only way to learn the port.
    std::fprintf(stderr, "metrics: %s\n", endpoint->url().c_str());
  }
  std::optional<RunClock> clock;
  clock.emplace();
  EventLog events((dir / "events.jsonl").string(), *clock);
  UndoJournal undo((dir / "undo-journal.jsonl").string());

  std::optional<LedgerReport> ledger;
  std::vector<DeadLetter> dead_letters;
  std::map<size_t, LuaOutcome> lua_outcomes;
  nlohmann::json etl_report;
  nlohmann::json cluster;
  std::optional<DependencyFaults> faults;  // from the timeline's start
  // Distributed load (`workers: N`): the kafka-producer workloads run in
  // worker processes; what they measure is merged into `metrics`.
  std::unique_ptr<WorkerLauncher> launcher;
  std::unique_ptr<WorkerFleet> fleet;
  auto finish = [&](const RunRecord& run) {
    // Prometheus expectations: each query once, at the run's end (wall clock).
    std::map<size_t, ExpectationResult> prometheus;
    if (!run.interrupted)
      prometheus = check_prometheus_expectations(scenario, opt.prometheus.empty() ? scenario.prometheus_url : opt.prometheus,
                                                 static_cast<double>(run.start_wall_ms + run.end_us / 1000) / 1000.0);
    Verdict verdict = judge(plan, run, metrics, lua_outcomes, prometheus);
    ReportInput in{plan,        run,           metrics, verdict, KAPTURE_VERSION, path, ledger ? &*ledger : nullptr,
                   &dead_letters, etl_report, cluster, faults ? faults->to_json() : nlohmann::json::array(), security.to_json(),
                   fleet ? fleet->to_json() : nlohmann::json()};
    std::vector<Error> unwritten = write_results(dir.string(), in);
    if (Status st = events.error()) unwritten.push_back(*st);
    print_errors(unwritten);
    std::string summary = redact(format_console_summary(in, dir.string()));
    if (opt.quiet) std::fprintf(stdout, "%s  (exit %d)\nresults: %s\n", redact(verdict.headline).c_str(), verdict.exit_code, dir.c_str());
    else std::fputs(summary.c_str(), stdout);
    std::fflush(stdout);
    // Nothing measured is lost (the verdict is on stdout), but CI must not
    // take a run with missing results for a complete one.
    if (!unwritten.empty() && (verdict.exit_code == kExitPass || verdict.exit_code == kExitFailed || verdict.exit_code == kExitInvalidRun)) {
      std::fprintf(stderr, "results incomplete: %zu results file(s) could not be written (exit %d)\n", unwritten.size(), static_cast<int>(kExitResultsIncomplete));
      return static_cast<int>(kExitResultsIncomplete);
    }
    return verdict.exit_code;
  };

  target.attach_run(undo, events);
  if (!opt.quiet) std::fprintf(stderr, "%s: starting %s target\n", scenario.name.c_str(), target.name().c_str());
  // Set-up failures still leave a summary and an event saying why.
  auto setup_failed = [&](const Error& err) {
    print_errors({err});
    RunRecord run;
    run.error = err;
    run.start_wall_ms = clock->start_wall_ms();
    events.write("target_failed", {{"error", err.describe()}});
    finish(run);
    return kExitUnreachable;
  };
  // An interrupt while the topology comes up stops its waits; the journal
  // then takes back whatever was already created.
  signals.on_signal([&target] { target.interrupt(); });
  Status started = target.start(scenario);
  // Known once the target connected, and worth recording even if it then failed.
  for (const auto& w : target.tls_warnings()) {
    spdlog::warn("{}", w);
    security.warn_tls(w);
  }
  if (started) {
    signals.on_signal(nullptr);
    int rc = setup_failed(*started);
    return signals.received() ? kExitInterrupted : rc;
  }
  signals.on_signal(nullptr);
  StoreServers stores(opt.redis, opt.postgres);
  if (auto err = stores.start(scenario)) return setup_failed(*err);
  // The webapp in front of Kafka: started here for the run, or the one at
  // topology.webapp.url; http and sse workloads name it as {webapp}.
  WebAppProcess webapp;
  if (scenario.webapp.declared) {
    std::string url = scenario.webapp.url;
    if (url.empty()) {
      auto props = target.kafka_properties();
      for (const auto& [k, v] : scenario.webapp.properties) props[k] = v;
      WebAppLaunch launch{target.kafka_bootstrap(), props, scenario.webapp.acks, (dir / "webapp.log").string()};
      if (auto err = webapp.start(launch)) return setup_failed(*err);
      url = webapp.url();
      events.write("webapp_started", {{"url", url}, {"pid", webapp.pid()}, {"log", "webapp.log"}});
    }
    for (auto& h : scenario.https)
      if (h.url.rfind("{webapp}", 0) == 0) h.url = url + h.url.substr(8);
    for (auto& r : scenario.sses)
      if (r.url.rfind("{webapp}", 0) == 0) r.url = url + r.url.substr(8);
  }
  if (scenario.workers > 0) {
    FleetOptions fo;
    if (auto* kube = dynamic_cast<KubernetesTarget*>(&target)) {
      KubeWorkerSettings ks;
      if (auto it = scenario.kubernetes.images.find("workers"); it != scenario.kubernetes.images.end()) ks.image = it->second;
      if (auto it = scenario.kubernetes.resources.find("workers"); it != scenario.kubernetes.resources.end()) ks.resources = it->second;
      launcher = std::make_unique<KubeWorkerLauncher>(*kube, scenario, ks);
      fo.ready_timeout_ms = static_cast<int>(scenario.kubernetes.ready_timeout_us / 1000);  // pods pull an image first
    } else {
      launcher = std::make_unique<LocalWorkerLauncher>();
    }
    fleet = std::make_unique<WorkerFleet>(*launcher, metrics, events, fo);
    WorkerLaunch wl;
    wl.workers = scenario.workers;
    wl.scenario_path = path;
    wl.sets = opt.overrides();
    wl.seed = scenario.seed;
    wl.bootstrap = target.kafka_bootstrap();
    wl.kafka_properties = target.kafka_properties();
    // Unique to this run even beside another coordinator on the same cluster.
    wl.topic = "kapture-run-" + dir.filename().string() + "-" + random_suffix();
    wl.results_dir = dir.string();
    if (!opt.quiet) std::fprintf(stderr, "%s: starting %d workers\n", scenario.name.c_str(), scenario.workers);
    if (auto err = fleet->launch(wl)) return setup_failed(*err);
  }
  // The clock starts with the timeline, after the topology is up (and the
  // workers, which then follow it).
  clock.emplace();
  faults.emplace(*clock, &events);
  if (fleet) {
    if (auto err = fleet->start(*clock, [&signals] { return signals.received(); })) {
      fleet->stop(0);
      int rc = setup_failed(*err);
      return signals.received() ? kExitInterrupted : rc;
    }
  }
  ProducerContext ctx{target.kafka_bootstrap(), target.kafka_properties(), scenario.seed, &*clock, &metrics, &*faults};
  EtlContext etl_ctx{target.kafka_bootstrap(), target.kafka_properties(), stores.redis(), stores.postgres(), dir.filename().string(),
                     scenario.seed, &*clock, &metrics, &*faults};
  std::vector<std::unique_ptr<ProducerWorkload>> producers;
  std::vector<std::unique_ptr<EtlWorkload>> etls;
  std::map<std::string, EtlWorkload*> etl_by_name;
  std::map<std::string, ProducerWorkload*> producer_by_name;
  std::vector<Workload*> raw;  // producers first: they stop first, then the ETL
  std::vector<std::unique_ptr<RemoteWorkload>> remotes;
  for (const auto& w : scenario.workloads) {
    if (fleet) {
      remotes.push_back(std::make_unique<RemoteWorkload>(w.name, *fleet));
      raw.push_back(remotes.back().get());
      continue;
    }
    producers.push_back(std::make_unique<ProducerWorkload>(w, ctx));
    raw.push_back(producers.back().get());
    producer_by_name[w.name] = producers.back().get();
  }
  std::vector<std::unique_ptr<HttpWorkload>> https;
  for (const auto& h : scenario.https) {
    https.push_back(std::make_unique<HttpWorkload>(h, HttpContext{scenario.seed, &*clock, &metrics}));
    raw.push_back(https.back().get());
  }
  // Readers stop after the posters, whose acknowledged messages they wait for.
  std::vector<std::unique_ptr<SseWorkload>> sses;
  for (const auto& r : scenario.sses) {
    const HttpWorkload* verifies = nullptr;
    for (size_t i = 0; i < scenario.https.size(); ++i)
      if (scenario.https[i].name == r.verifies) verifies = https[i].get();
    sses.push_back(std::make_unique<SseWorkload>(r, SseContext{&*clock, &metrics, verifies}));
    raw.push_back(sses.back().get());
  }
  for (const auto& e : scenario.etls) {
    etls.push_back(std::make_unique<EtlWorkload>(e, etl_ctx));
    raw.push_back(etls.back().get());
    etl_by_name[e.name] = etls.back().get();
  }
  // Kubernetes API load: churn and lifecycles, then the watches that observe them.
  std::vector<std::unique_ptr<Workload>> kube_loads;
  if (scenario.has_kube_workloads()) {
    auto* kube = dynamic_cast<KubernetesTarget*>(&target);  // prepare() refused other targets
    KubeWorkloadContext kctx{kube->access(), kube->namespace_name(), kube->run_label(), scenario.seed, &*clock, &metrics, dir.string(), &*faults};
    std::map<std::string, const KubeObjectSource*> sources;
    for (const auto& c : scenario.kube_churns) {
      auto w = std::make_unique<KubeChurnWorkload>(c, kctx);
      sources[c.name] = w.get();
      raw.push_back(w.get());
      kube_loads.push_back(std::move(w));
    }
    for (const auto& l : scenario.kube_lifecycles) {
      auto w = std::make_unique<KubeLifecycleWorkload>(l, kctx);
      sources[l.name] = w.get();
      raw.push_back(w.get());
      kube_loads.push_back(std::move(w));
    }
    for (const auto& k : scenario.kube_watches) {
      std::vector<const KubeObjectSource*> observed;
      for (const auto& n : k.observes) observed.push_back(sources.at(n));
      kube_loads.push_back(std::make_unique<KubeWatchWorkload>(k, kctx, observed));
      raw.push_back(kube_loads.back().get());
    }
  }
  // Consumers and observers first, so they have joined (or listed) when records and objects arrive.
  std::vector<Workload*> start_order;
  for (auto* w : raw)
    start_order.insert(dynamic_cast<EtlWorkload*>(w) || dynamic_cast<SseWorkload*>(w) || dynamic_cast<KubeWatchWorkload*>(w)
                           ? start_order.begin()
                           : start_order.end(),
                       w);
  for (Workload* w : start_order) {
    if (auto err = w->start()) {
      print_errors({*err});
      for (Workload* x : raw) x->stop(0);
      RunRecord run;
      run.error = *err;
      finish(run);
      return err->kind == ErrorKind::Usage ? kExitUsage : kExitUnreachable;
    }
  }
  ExecutorOptions eo;
  eo.quiet = opt.quiet;
  eo.drain_ms = opt.drain_s * 1000;
  eo.live = &live;
  if (fleet) eo.check_delay_us = 1000000;  // the workers' seconds arrive over Kafka
  // Leadership, ISR and recovery times as the run goes, on every target.
  ClusterObserver observer(metrics, events, *clock);
  // A kubernetes run may load only the API: no Kafka to observe then.
  if (!target.kafka_bootstrap().empty()) {
    if (auto err = observer.start(target.kafka_bootstrap(), target.kafka_properties())) spdlog::warn("cluster observer: {}", err->describe());
    std::vector<std::string> topics;
    for (const auto& t : scenario.kafka.topics) topics.push_back(t.name);
    cluster = observer.describe(topics, target.has_admin_api());
    events.write("cluster", cluster);
  }
  ChaosRouter chaos(target, stores, etl_by_name, producer_by_name, &observer, *clock);
  TimelineExecutor executor(plan, chaos, raw, metrics, events, undo, *clock, eo);
  signals.on_signal([&executor] { executor.interrupt(); });
  RunRecord run = executor.run();
  signals.on_signal(nullptr);
  // A worker that did not finish (found when the fleet stopped, after the
  // timeline) leaves the run without its measurements or ledger.
  if (fleet && !run.error && !run.interrupted)
    if (auto lost = fleet->failure()) run.error = lost;
  observer.stop();
  // The ledger: what the producers had acknowledged against what reached
  // PostgreSQL (and Redis aggregates against PostgreSQL sums).
  bool etl_pg = false;
  for (const auto& e : scenario.etls) etl_pg = etl_pg || e.postgres;
  // A lost worker took its part of the ledger with it: what the others
  // acknowledged would count its records as unexpected.
  std::optional<Error> lost_worker = fleet ? fleet->failure() : std::nullopt;
  if (scenario.uses_ledger() && !run.interrupted && lost_worker) {
    ledger.emplace();
    ledger->skipped_because = "a worker was lost, and its part of the ledger with it";
  } else if (scenario.uses_ledger() && !run.interrupted) {
    AckLedger all;
    for (auto& p : producers)
      if (p->keeps_ledger()) all.merge(p->ledger());
    for (const auto& w : scenario.workloads)
      if (fleet && w.ledger) all.merge(fleet->ledger(w.name));
    bool aggregates = false;
    for (const auto& e : scenario.etls) aggregates = aggregates || e.redis.sales_by_state;
    if (etl_pg && !stores.postgres().empty()) {
      ledger = check_ledger(all, stores.postgres(), aggregates ? stores.redis() : "", metrics, run.end_us / 1000000);
    } else {
      std::vector<std::string> topics;
      for (const auto& t : scenario.kafka.topics) topics.push_back(t.name);
      ledger = check_ledger_against_kafka(all, target.kafka_bootstrap(), target.kafka_properties(), topics, metrics, run.end_us / 1000000);
    }
    events.write("ledger", {{"checked", ledger->checked}, {"verified_against", ledger->source}, {"lost", ledger->lost},
                            {"duplicates", ledger->duplicates}, {"unexpected", ledger->unexpected},
                            {"skipped_because", ledger->skipped_because}});
  }
  for (auto& e : etls) {
    for (const auto& d : e->dead_letters()) dead_letters.push_back(d);
    etl_report[e->name()]["lag_by_partition"] = e->lag_by_partition();
    etl_report[e->name()]["throughput"] = e->throughput();
  }
  // Lua expectations read the stores and the metrics after everything settled.
  if (!run.interrupted) {
    std::unique_ptr<RedisSink> redis;
    std::unique_ptr<PostgresSink> pg;
    if (!stores.redis().empty())
      if (auto o = parse_redis_url(stores.redis())) {
        redis = std::make_unique<RedisSink>(*o);
        if (redis->connect()) redis.reset();
      }
    if (!stores.postgres().empty()) {
      pg = std::make_unique<PostgresSink>(PostgresSinkOptions{stores.postgres(), "", 10000});
      if (pg->connect()) pg.reset();
    }
    LuaAssertionContext actx{redis.get(), pg.get(), &metrics, phase_windows(run), run_window(run)};
    for (size_t i = 0; i < scenario.expectations.size(); ++i) {
      const auto& e = scenario.expectations[i];
      if (!e.lua) continue;
      auto r = run_lua_assertion(*e.lua, {}, actx);
      lua_outcomes[i] = LuaOutcome{r.pass, r.message};
    }
  }
  producers.clear();
  etls.clear();
  int rc = finish(run);

  if (opt.keep_cluster && !run.interrupted) {
    // The cluster outlives the run so other tools (kcat) can read what was
    // produced; SIGINT/SIGTERM ends it and the run's exit code stands.
    std::ofstream((dir / "bootstrap.txt").string()) << target.kafka_bootstrap() << "\n";
    std::fprintf(stdout, "cluster kept at %s (written to %s); send SIGINT or SIGTERM to stop\n", target.kafka_bootstrap().c_str(),
                 (dir / "bootstrap.txt").c_str());
    std::fflush(stdout);
    wait_for_signal(signals);
  }
  webapp.stop();
  target.stop();
  return rc;
}

// The webapp in front of Kafka (--kafka), until SIGINT/SIGTERM; prints its
// base URL on the first line of stdout, and with --h2-listen its HTTP/2 base
// URL on the second.
// One distributed worker, started by a coordinator's `run` (see
// engine/distributed): the same scenario, overrides and seed, its index.
int cmd_worker(const Options& opt, SignalWatcher& signals) {
  std::vector<Override> overrides;
  for (const auto& s : opt.sets) {
    auto o = parse_override(s);
    if (!o) {
      print_errors({o.error()});
      return kExitUsage;
    }
    overrides.push_back(*o);
  }
  LoadOutcome loaded = load_scenario_file(opt.scenarios.at(0), overrides);
  if (!loaded.scenario) {
    print_errors(loaded.errors);
    return kExitUsage;
  }
  Scenario& scenario = *loaded.scenario;
  register_scenario_secrets(scenario);
  if (opt.seed) scenario.seed = *opt.seed;
  WorkerOptions wo = opt.worker;
  if (wo.index < 0 || wo.index >= wo.workers) {
    std::fprintf(stderr, "worker: --index %d is not below --workers %d\n", wo.index, wo.workers);
    return kExitUsage;
  }
  if (!opt.worker_properties_file.empty()) {
    std::ifstream in(opt.worker_properties_file);
    auto j = nlohmann::json::parse(in, nullptr, false);
    if (j.is_discarded() || !j.is_object()) {
      std::fprintf(stderr, "%s: not a JSON object of Kafka properties\n", opt.worker_properties_file.c_str());
      return kExitUsage;
    }
    for (const auto& [k, v] : j.items()) {
      if (!v.is_string()) continue;
      wo.kafka_properties[k] = v.get<std::string>();
      if (is_secret_name(k)) register_secret(v.get<std::string>());
    }
  }
  std::atomic<bool> interrupted{false};
  signals.on_signal([&interrupted] { interrupted = true; });
  int rc = run_worker(scenario, wo, interrupted);
  signals.on_signal(nullptr);
  return rc;
}

int cmd_serve_webapp(const Options& opt, SignalWatcher& signals) {
  if (opt.kafka.empty()) {
    std::fprintf(stderr, "serve webapp needs --kafka HOST:PORT[,...] (e.g. from `kapture-engine serve kafka-mock`)\n");
    return kExitUsage;
  }
  auto address = parse_listen_address(opt.listen, "--listen");
  if (!address) {
    print_errors({address.error()});
    return kExitUsage;
  }
  WebAppOptions wo;
  wo.bootstrap = opt.kafka;
  wo.acks = opt.acks;
  if (opt.tls_cert.empty() != opt.tls_key.empty() || (!opt.tls_cert.empty() && opt.h2_listen.empty())) {
    std::fprintf(stderr, "serve webapp: --tls-cert and --tls-key go together, with --h2-listen (HTTP/2 over TLS)\n");
    return kExitUsage;
  }
  if (!opt.h2_listen.empty()) {
    auto h2 = parse_listen_address(opt.h2_listen, "--h2-listen");
    if (!h2) {
      print_errors({h2.error()});
      return kExitUsage;
    }
    wo.h2_listen = *h2;
    wo.tls = TlsFiles{opt.tls_cert, opt.tls_key};
  }
  auto props = kafka_props(opt.kafka_props);
  if (!props) {
    print_errors({props.error()});
    return kExitUsage;
  }
  wo.kafka_properties = *props;
  auto app = WebApp::start(*address, wo);
  if (!app) {
    print_errors({app.error()});
    return app.error().kind == ErrorKind::Usage ? kExitUsage : kExitUnreachable;
  }
  std::printf("%s\n", (*app)->base_url().c_str());
  if (!opt.h2_listen.empty()) std::printf("%s\n", (*app)->h2_base_url().c_str());
  std::fflush(stdout);
  wait_for_signal(signals);
  return 0;
}

int cmd_serve(const std::string& what, const Options& opt, SignalWatcher& signals) {
  if (what == "webapp") return cmd_serve_webapp(opt, signals);
  // A cluster on its own, for tools and benchmarks: the mock (kafka-mock) or
  // real brokers (kafka-local). Prints the bootstrap servers on the first
  // line of stdout and runs until SIGINT/SIGTERM.
  Scenario s;
  s.kafka.brokers = opt.brokers;
  if (!opt.scenarios.empty()) {
    LoadOutcome loaded = load_scenario_file(opt.scenarios[0]);
    if (!loaded.scenario) {
      print_errors(loaded.errors);
      return kExitUsage;
    }
    s = *loaded.scenario;
  }
  std::unique_ptr<Target> target;
  if (what == "kafka-local") target = std::make_unique<LocalKafkaTarget>();
  else target = std::make_unique<EmbeddedTarget>();
  if (auto err = target->start(s)) {
    std::fprintf(stderr, "%s\n", err->describe().c_str());
    return kExitUnreachable;
  }
  std::printf("%s\n", target->kafka_bootstrap().c_str());
  std::fflush(stdout);
  wait_for_signal(signals);
  target->stop();
  return 0;
}

int cmd_report(const std::string& dir) {
  auto read = read_summary(dir);
  if (!read) {
    print_errors({read.error()});
    return kExitUsage;
  }
  const nlohmann::json& j = read->summary;
  std::printf("%s (seed %s, target %s)\n", json_string(j, {"scenario", "name"}).c_str(), j.value("seed", nlohmann::json()).dump().c_str(),
              json_string(j, {"target"}).c_str());
  if (const nlohmann::json* list = json_at(j, {"expectations"}); list && list->is_array())
    for (const auto& e : *list)
      std::printf("  %-5s %-52s %14s %16s\n", json_bool(e, {"pass"}) ? "PASS" : "FAIL", json_string(e, {"expect"}).c_str(),
                  json_string(e, {"measured_text"}).c_str(), json_string(e, {"threshold_text"}).c_str());
  std::printf("%s\n", json_string(j, {"verdict", "headline"}).c_str());
  // report.html is rendered from the directory's files alone, so this is the
  // page `run` wrote (or would have, for a run from before it existed). A
  // failure is printed like `run` prints write failures; the exit code stays the run's.
  std::string results_dir = fs::path(read->path).parent_path().string();
  if (results_dir.empty()) results_dir = ".";
  if (Status st = write_html_report(results_dir)) print_errors({*st});
  else std::printf("report: %s\n", (fs::path(results_dir) / "report.html").c_str());
  return static_cast<int>(json_number(j, {"verdict", "exit_code"}).value_or(kExitUsage));
}

// Key metrics of two runs side by side; exit 1 when one regressed beyond
// the tolerance.
int cmd_compare(const std::string& base_where, const std::string& now_where, const std::string& tolerance_text) {
  auto tolerance = parse_tolerance(tolerance_text);
  if (!tolerance) {
    print_errors({tolerance.error()});
    return kExitUsage;
  }
  auto base = read_summary(base_where);
  auto now = read_summary(now_where);
  for (const auto* r : {&base, &now})
    if (!*r) {
      print_errors({r->error()});
      return kExitUsage;
    }
  std::string base_name = json_string(base->summary, {"scenario", "name"}), now_name = json_string(now->summary, {"scenario", "name"});
  if (base_name != now_name)
    std::fprintf(stderr, "note: comparing different scenarios (%s and %s); only runs of the same one compare fairly\n", base_name.c_str(),
                 now_name.c_str());
  RunComparison c = compare_runs(extract_key_metrics(base->summary), extract_key_metrics(now->summary), *tolerance);
  auto label = [](const SummaryFile& f) {
    return f.path + " (" + json_string(f.summary, {"verdict", "headline"}) + ")";
  };
  std::fputs(format_comparison(c, label(*base), label(*now)).c_str(), stdout);
  return c.regressed() ? kExitFailed : kExitPass;
}

}  // namespace

int main(int argc, char** argv) {
  // `kapture-engine SCENARIO` means `kapture-engine run SCENARIO`.
  std::vector<std::string> args(argv, argv + argc);
  static const std::vector<std::string> commands = {"run", "validate", "plan", "serve", "report", "compare", "down", "recover", "worker"};
  if (args.size() > 1 && args[1][0] != '-' && std::find(commands.begin(), commands.end(), args[1]) == commands.end())
    args.insert(args.begin() + 1, "run");

  Options opt;
  CLI::App app{"kapture-engine: declarative load and chaos scenarios for streaming systems"};
  app.set_version_flag("--version", std::string("kapture-engine ") + KAPTURE_VERSION);
  app.require_subcommand(1);
  app.footer(R"(Examples:
  kapture-engine scenarios/chaos-kafka.yaml                 run the main job on the embedded target
  kapture-engine validate scenarios/*.yaml                  check scenarios without running them
  kapture-engine plan scenarios/chaos-kafka.yaml --seed 7   print the resolved timeline
  kapture-engine run scenarios/chaos-kafka.yaml --set timeline.steady.duration=10s --results /tmp/r
  kapture-engine run scenarios/chaos-kafka.yaml --kafka 127.0.0.1:9092   (chaos steps are refused there)
  kapture-engine serve kafka-mock --brokers 3               a mock cluster for other tools
  kapture-engine serve kafka-local --brokers 3              real Kafka brokers (KRaft) for other tools
  kapture-engine serve webapp --kafka 127.0.0.1:9092        HTTP in front of Kafka (POST, SSE, /blocks)
  kapture-engine report results/chaos-kafka-20261125T150428Z   print a finished run's verdict again
  kapture-engine compare results/base results/new --tolerance 5%   exit 1 if a key metric got >5% worse
  kapture-engine run scenarios/k8s-chaos.yaml --target kubernetes --context kind-kind   deploy, hurt, restore
  kapture-engine down kapture-k8s-chaos-x1y2z3              remove what a --keep run left
  kapture-engine recover results/k8s-chaos-20261126T090000Z  replay the undos a crashed run left pending

Exit codes: 0 all expectations passed; 1 an expectation failed; 2 invalid scenario or usage;
3 target unreachable or could not be set up; 4 the load generator could not keep the declared rate;
5 the run finished but a results file could not be written (the verdict is still printed);
130 interrupted (partial results are written).
compare: 0 no key metric regressed beyond the tolerance; 1 one did; 2 an input could not be read.)");

  auto add_kube = [&](CLI::App* cmd) {
    cmd->add_option("--kubeconfig", opt.kubeconfig, "kubernetes: this kubeconfig only (default: $KUBECONFIG, then ~/.kube/config, then in-cluster)");
    cmd->add_option("--context", opt.kube_context, "kubernetes: the kubeconfig context (default: its current-context)");
  };
  auto add_common = [&](CLI::App* cmd) {
    cmd->add_option("--target", opt.target, "where to run: embedded (default from the scenario), local, kubernetes");
    cmd->add_option("--seed", opt.seed, "seed for every random choice (overrides the scenario's)");
    cmd->add_option("--set", opt.sets, "override a scenario value: path=value, e.g. timeline.steady.duration=5s")->take_all();
    cmd->add_option("--kafka", opt.kafka, "use an existing Kafka (HOST:PORT[,...]) instead of starting one");
    cmd->add_option("--kafka-prop", opt.kafka_props, "librdkafka property for --kafka, key=value (repeatable)");
    cmd->add_option("--redis", opt.redis, "use this Redis (redis://[:password@]host:port/db) instead of starting one");
    cmd->add_option("--postgres", opt.postgres, "use this PostgreSQL (postgresql://user@host:port/db) instead of starting one");
    cmd->add_flag("-q,--quiet", opt.quiet, "print only the verdict");
    cmd->add_flag("-v,--verbose", opt.verbose, "debug logging");
    add_kube(cmd);
    cmd->add_option("-n,--namespace", opt.kube_namespace, "kubernetes: the namespace to deploy into and run in (default: a new one per run)");
    cmd->add_flag("--keep", opt.keep, "kubernetes: leave what the run deployed (remove it later with `kapture-engine down NAMESPACE`)");
    cmd->add_option("--allow-namespace", opt.allow_namespaces, "kubernetes: allow chaos in this namespace although it lacks the label kapture.io/chaos=allowed (repeatable)");
    cmd->add_option("--workers", opt.workers, "distributed load: run the kafka-producer workloads in N worker processes or pods (the scenario's `workers`; 0: this engine)")
        ->check(CLI::Range(0, 1000));
  };
  auto* run = app.add_subcommand("run", "run a scenario (the default command)");
  run->add_option("scenario", opt.scenarios, "scenario file")->required()->expected(1);
  run->add_option("--results", opt.results, "results directory (default results/)");
  run->add_flag("--keep-cluster", opt.keep_cluster, "keep the embedded cluster up after the run until SIGINT/SIGTERM");
  run->add_option("--drain", opt.drain_s, "seconds to wait for outstanding deliveries at the end (default 10)");
  run->add_option("--prometheus", opt.prometheus, "the Prometheus (http://HOST:PORT) that prometheus expectations query, instead of topology.prometheus.url");
  run->add_option("--metrics-addr", opt.metrics_addr, "serve Prometheus metrics at http://HOST:PORT/metrics during the run (port 0: any)");
  add_common(run);
  auto* validate = app.add_subcommand("validate", "check scenario files without running them");
  validate->add_option("scenario", opt.scenarios, "scenario files")->required();
  add_common(validate);
  auto* plan = app.add_subcommand("plan", "print the resolved timeline without touching anything");
  plan->add_option("scenario", opt.scenarios, "scenario file")->required()->expected(1);
  add_common(plan);
  auto* serve = app.add_subcommand("serve", "run a service on its own: kafka-mock, kafka-local (real brokers) or webapp (HTTP in front of Kafka)");
  std::string what;
  serve->add_option("what", what, "kafka-mock, kafka-local or webapp")->required()->check(CLI::IsMember({"kafka-mock", "kafka-local", "webapp"}));
  serve->add_option("--kafka", opt.kafka, "webapp: the Kafka to produce to and stream from (HOST:PORT[,...])");
  serve->add_option("--kafka-prop", opt.kafka_props, "webapp: librdkafka property for every client, key=value (repeatable)");
  serve->add_option("--listen", opt.listen, "webapp: HOST:PORT to listen on (default 127.0.0.1:8080; port 0: any)");
  serve->add_option("--acks", opt.acks, "webapp: acks for produced messages (0, 1, all; default all)");
  serve->add_option("--h2-listen", opt.h2_listen, "webapp: HOST:PORT to serve HTTP/2 on as well (port 0: any); h2c without --tls-cert");
  serve->add_option("--tls-cert", opt.tls_cert, "webapp: PEM certificate (chain) for --h2-listen: HTTP/2 over TLS (ALPN h2)");
  serve->add_option("--tls-key", opt.tls_key, "webapp: PEM private key of --tls-cert");
  serve->add_option("--brokers", opt.brokers, "number of brokers (default 3)");
  serve->add_option("--scenario", opt.scenarios, "create this scenario's topics");
  std::string report_dir;
  auto* report = app.add_subcommand("report", "print a finished run's summary and re-render its report.html");
  report->add_option("results_dir", report_dir, "a run's results directory")->required();
  std::string compare_base, compare_new, tolerance = "10%";
  auto* compare = app.add_subcommand("compare", "compare two runs' key metrics; exit 1 if one regressed beyond the tolerance");
  compare->add_option("base", compare_base, "the baseline: a results directory or its summary.json")->required();
  compare->add_option("new", compare_new, "the run to judge: a results directory or its summary.json")->required();
  compare->add_option("--tolerance", tolerance, "how much worse a metric may get before it counts as a regression (default 10%)");

  std::string down_ns, recover_dir;
  auto* down = app.add_subcommand("down", "delete what runs deployed with --keep into NAMESPACE (the namespace too, if a run created it)");
  down->add_option("namespace", down_ns, "the namespace")->required();
  add_kube(down);
  down->add_option("--timeout", opt.kube_timeout_s, "seconds to wait for the deletion (default 300)");
  auto* recover = app.add_subcommand("recover", "replay the undos a crashed run left pending in RESULTS_DIR/undo-journal.jsonl");
  recover->add_option("results_dir", recover_dir, "the crashed run's results directory")->required();
  add_kube(recover);
  recover->add_option("--timeout", opt.kube_timeout_s, "seconds to wait for each undo to take effect (default 300)");

  auto* worker = app.add_subcommand("worker", "one distributed worker (a coordinator's `run` starts these; see docs/scaling.md)");
  worker->add_option("scenario", opt.scenarios, "scenario file")->required()->expected(1);
  worker->add_option("--index", opt.worker.index, "this worker's index, 0..workers-1")->required();
  worker->add_option("--workers", opt.worker.workers, "how many workers share the load")->required()->check(CLI::Range(1, 1000));
  worker->add_option("--bootstrap", opt.worker.bootstrap, "the Kafka the coordinator's topology runs")->required();
  worker->add_option("--topic", opt.worker.topic, "the run's topic (coordinator <-> workers)")->required();
  worker->add_option("--seed", opt.seed, "the run's seed");
  worker->add_option("--set", opt.sets, "the coordinator's overrides")->take_all();
  worker->add_option("--kafka-properties-file", opt.worker_properties_file, "librdkafka properties as a JSON object (may hold credentials)");
  worker->add_flag("-v,--verbose", opt.verbose, "debug logging");

  std::vector<char*> cargs;
  for (auto& a : args) cargs.push_back(a.data());
  try {
    app.parse(static_cast<int>(cargs.size()), cargs.data());
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? 0 : kExitUsage;
  }
  register_option_secrets(opt);
  auto logger = std::make_shared<spdlog::logger>("kapture", std::make_shared<RedactingSink>(std::make_shared<spdlog::sinks::stderr_color_sink_mt>()));
  spdlog::set_default_logger(logger);
  spdlog::set_pattern("%^%l%$: %v");
  spdlog::set_level(opt.verbose ? spdlog::level::debug : opt.quiet ? spdlog::level::warn : spdlog::level::info);

  SignalWatcher signals;
  if (*validate) return cmd_validate(opt);
  if (*plan) return cmd_plan(opt);
  if (*serve) return cmd_serve(what, opt, signals);
  if (*report) return cmd_report(report_dir);
  if (*compare) return cmd_compare(compare_base, compare_new, tolerance);
  if (*down) return cmd_down(down_ns, opt.kube_access(), opt.kube_timeout_s);
  if (*recover) return cmd_recover(recover_dir, opt.kube_access(), opt.kube_timeout_s);
  if (*worker) return cmd_worker(opt, signals);
  return cmd_run(opt, signals);
}
