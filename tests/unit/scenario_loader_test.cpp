// Scenario loading: every problem is reported as file:line:column with a
// message that says what to write instead.
#include <doctest/doctest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "lua/LuaRecordGenerator.h"
#include "loader_cases.h"
#include "scenario/ScenarioLoader.h"

using namespace kapture;
using loader_test::all_errors;
using loader_test::expect_error;
using loader_test::kRoot;
using loader_test::kUnitDir;
using loader_test::load;

namespace {

const std::string kShipped = kRoot + "/scenarios/chaos-kafka.yaml";

// A small valid scenario; each bad case changes one thing in it. Line numbers
// in the cases below are this text's.
const std::string kBase =
    "name: t\n"                                               // 1
    "seed: 7\n"                                               // 2
    "topology:\n"                                             // 3
    "  kafka:\n"                                              // 4
    "    brokers: 3\n"                                        // 5
    "    topics:\n"                                           // 6
    "      - name: orders\n"                                  // 7
    "        partitions: 2\n"                                 // 8
    "        replication_factor: 3\n"                         // 9
    "workloads:\n"                                            // 10
    "  w:\n"                                                  // 11
    "    type: kafka-producer\n"                              // 12
    "    payload: { size: 100B }\n"                           // 13
    "    topic: orders\n"                                     // 14
    "timeline:\n"                                             // 15
    "  - phase: steady\n"                                     // 16
    "    duration: 40s\n"                                     // 17
    "    load:\n"                                             // 18
    "      w: 100/s\n"                                        // 19
    "    steps:\n"                                            // 20
    "      - at: 5s\n"                                        // 21
    "        chaos: broker-down\n"                            // 22
    "        broker: random\n"                                // 23
    "        for: 10s\n"                                      // 24
    "expect:\n"                                               // 25
    "  - p99(produce.latency) < 250ms during steady\n";       // 26

std::string with(const std::string& from, const std::string& to, const std::string& base = kBase) {
  return loader_test::with(from, to, base);
}

bool contains(const std::string& haystack, const std::string& needle) { return haystack.find(needle) != std::string::npos; }

}  // namespace

TEST_CASE("loader: the base scenario of the bad cases is itself valid") {
  LoadOutcome o = load(kBase);
  INFO(all_errors(o));
  REQUIRE(o.errors.empty());
  REQUIRE(o.scenario.has_value());
  const Scenario& s = *o.scenario;
  CHECK(s.file == "bad.yaml");
  CHECK(s.name == "t");
  CHECK(s.seed == 7);
  CHECK(s.target == "embedded");
  CHECK(s.kafka.brokers == 3);
  REQUIRE(s.kafka.topics.size() == 1);
  CHECK(s.kafka.topics[0].name == "orders");
  CHECK(s.kafka.topics[0].partitions == 2);
  CHECK(s.kafka.topics[0].replication_factor == 3);
  CHECK(s.kafka.topics[0].where.line == 7);
  REQUIRE(s.workloads.size() == 1);
  CHECK(s.workloads[0].payload.has_value());
  CHECK(s.workloads[0].payload->value.size() == 100);
  CHECK_FALSE(s.workloads[0].generator.has_value());
  REQUIRE(s.phases.size() == 1);
  const PhaseSpec& p = s.phases[0];
  CHECK(p.name == "steady");
  CHECK(p.duration_us == 40'000'000);
  CHECK(p.where.line == 16);
  REQUIRE(p.loads.count("w") == 1);
  CHECK(p.loads.at("w").rate == 100.0);
  REQUIRE(p.steps.size() == 1);
  CHECK(p.steps[0].at_us == std::optional<int64_t>(5'000'000));
  CHECK(p.steps[0].for_us == 10'000'000);
  CHECK(p.steps[0].verb == ChaosVerb::BrokerDown);
  CHECK(p.steps[0].broker.kind == BrokerChoice::Kind::Random);
  CHECK(p.steps[0].where.line == 21);
  REQUIRE(s.expectations.size() == 1);
  CHECK(s.expectations[0].where.line == 26);
  CHECK(s.expectations[0].expr.nodes[0].during == "steady");
}

TEST_CASE("loader: unknown keys, with did-you-mean") {
  SUBCASE("top level") {
    expect_error(with("timeline:\n", "timelin:\n"), "bad.yaml:15:1: ", "unknown key 'timelin' in scenario (did you mean 'timeline'?)");
    expect_error(with("timeline:\n", "timelin:\n"), "bad.yaml:15:1: ", "allowed: name, description, seed");
  }
  SUBCASE("top level, nothing close") {
    LoadOutcome o = load(with("seed: 7\n", "seed: 7\nzzzzzzzz: 1\n"));
    REQUIRE(o.errors.size() == 1);
    CHECK(o.errors[0].describe().rfind("bad.yaml:3:1: unknown key 'zzzzzzzz' in scenario; allowed:", 0) == 0);
  }
  SUBCASE("in a phase") {
    expect_error(with("    duration: 40s\n", "    durration: 40s\n"), "bad.yaml:17:5: ",
                 "unknown key 'durration' in phase (did you mean 'duration'?)");
  }
  SUBCASE("in a step") {
    expect_error(with("        for: 10s\n", "        for: 10s\n        fro: 10s\n"), "bad.yaml:25:9: ",
                 "unknown key 'fro' in step (did you mean 'for'?)");
  }
  SUBCASE("in a topic") {
    expect_error(with("        partitions: 2\n", "        partition: 2\n"), "bad.yaml:8:9: ",
                 "unknown key 'partition' in topic (did you mean 'partitions'?)");
  }
}

TEST_CASE("loader: wrong types and bad values") {
  SUBCASE("partitions: many") {
    expect_error(with("partitions: 2", "partitions: many"), "bad.yaml:8:21: ", "partitions must be an integer, not 'many'");
  }
  SUBCASE("seed: lots") { expect_error(with("seed: 7", "seed: lots"), "bad.yaml:2:7: ", "seed must be an integer, not 'lots'"); }
  SUBCASE("workloads as a list") {
    std::string text = "name: t\nworkloads: [a, b]\ntimeline:\n  - phase: a\n    duration: 1s\n";
    expect_error(text, "bad.yaml:2:12: ", "workloads must map workload names to their definitions");
  }
  SUBCASE("bad duration") {
    expect_error(with("duration: 40s", "duration: 10 sec"), "bad.yaml:17:15: ",
                 "bad duration '10 sec' for duration (use a number and one of us, ms, s, m, h");
  }
  SUBCASE("bad rate") {
    expect_error(with("w: 100/s", "w: 100/sec"), "bad.yaml:19:10: ", "bad rate '100/sec' for load (use a number per s, m or h");
  }
  SUBCASE("bad rate in a ramp") {
    expect_error(with("w: 100/s", "w: { from: 10/s, to: lots }"), "bad.yaml:19:28: ", "bad rate 'lots' for to");
  }
  SUBCASE("unknown arrivals") {
    expect_error(with("w: 100/s", "w: { rate: 100/s, arrivals: poison }"), "bad.yaml:19:35: ",
                 "unknown arrivals 'poison' (did you mean 'poisson'?)");
  }
  SUBCASE("unknown target") {
    expect_error(with("seed: 7\n", "seed: 7\ntarget: embeded\n"), "bad.yaml:3:9: ", "unknown target 'embeded' (did you mean 'embedded'?)");
  }
  SUBCASE("scenario name") {
    expect_error(with("name: t\n", "name: My Test\n"), "bad.yaml:1:7: ", "name 'My Test' must be lowercase letters");
  }
  SUBCASE("payload size") {
    expect_error(with("size: 100B", "size: 1.5B"), "bad.yaml:13:22: ", "bad payload size '1.5B'");
  }
}

TEST_CASE("loader: chaos steps must fit in their phase") {
  SUBCASE("at past the end") {
    expect_error(with("at: 5s", "at: 50s"), "bad.yaml:21:13: ", "step at 50s is outside its phase 'steady' (40s long)");
  }
  SUBCASE("at exactly the end") {
    expect_error(with("at: 5s", "at: 40s"), "bad.yaml:21:13: ", "step at 40s is outside its phase 'steady'");
  }
  SUBCASE("for runs past the end") {
    expect_error(with("at: 5s", "at: 35s"), "bad.yaml:24:14: ", "step from 35s for 10s ends after its phase 'steady' (40s long)");
  }
  SUBCASE("for ending exactly at the end is fine") {
    LoadOutcome o = load(with("at: 5s", "at: 30s"));
    INFO(all_errors(o));
    CHECK(o.errors.empty());
  }
  SUBCASE("repeated step not undone before it repeats") {
    expect_error(with("      - at: 5s\n", "      - every: 10s\n"), "bad.yaml:24:14: ",
                 "'for' (10s) must be shorter than 'every' (10s)");
  }
  SUBCASE("unknown chaos verb") {
    expect_error(with("chaos: broker-down", "chaos: broker-dwn"), "bad.yaml:22:16: ",
                 "unknown chaos action 'broker-dwn' (did you mean 'broker-down'?)");
  }
  SUBCASE("broker-delay needs a delay") {
    expect_error(with("chaos: broker-down", "chaos: broker-delay"), "bad.yaml:21:9: ", "broker-delay needs 'delay'");
  }
  SUBCASE("broker id that does not exist") {
    expect_error(with("broker: random", "broker: 4"), "bad.yaml:23:17: ", "broker 4 does not exist (brokers are 1..3)");
  }
  SUBCASE("leader_of an unknown topic") {
    expect_error(with("broker: random", "broker: { leader_of: order/0 }"), "bad.yaml:23:30: ",
                 "leader_of names topic 'order', which the topology does not declare (did you mean 'orders'?)");
  }
  SUBCASE("leader_of a partition the topic does not have") {
    expect_error(with("broker: random", "broker: { leader_of: orders/2 }"), "bad.yaml:23:30: ", "topic 'orders' has 2 partitions (0..1)");
  }
  SUBCASE("leader_of without a partition") {
    expect_error(with("broker: random", "broker: { leader_of: orders }"), "bad.yaml:23:30: ", "leader_of must be topic/partition");
  }
}

TEST_CASE("loader: expectations point into the expression") {
  SUBCASE("unknown metric, plain scalar") {
    expect_error(with("p99(produce.latency) < 250ms during steady", "p99(produce.latncy) < 250ms during steady"), "bad.yaml:26:9: ",
                 "unknown metric 'produce.latncy' (known: produce.latency");
  }
  SUBCASE("unknown metric, quoted scalar") {
    expect_error(with("p99(produce.latency) < 250ms during steady", "\"p99(produce.latncy) < 250ms during steady\""),
                 "bad.yaml:26:10: ", "unknown metric 'produce.latncy'");
  }
  SUBCASE("unknown phase in during") {
    expect_error(with("during steady", "during stedy"), "bad.yaml:26:41: ", "unknown phase 'stedy' (did you mean 'steady'?)");
  }
  SUBCASE("a bare number against a latency") {
    expect_error(with("< 250ms", "< 250"), "bad.yaml:26:26: ", "cannot compare a duration with a plain number");
  }
  SUBCASE("= for ==") {
    expect_error(with("p99(produce.latency) < 250ms during steady", "count(produce.failed) = 0"), "bad.yaml:26:27: ",
                 "unknown operator '='");
  }
}

TEST_CASE("loader: the timeline") {
  SUBCASE("duplicate phase name") {
    expect_error(with("expect:\n", "  - phase: steady\n    duration: 5s\nexpect:\n"), "bad.yaml:25:12: ",
                 "phase 'steady' is defined twice");
  }
  SUBCASE("unknown workload in load") {
    expect_error(with("      w: 100/s\n", "      ww: 100/s\n"), "bad.yaml:19:7: ", "load names unknown workload 'ww' (did you mean 'w'?)");
  }
  SUBCASE("until without timeout") {
    expect_error(with("    duration: 40s\n", "    until: \"last(produce.in_flight) == 0\"\n"), "bad.yaml:17:12: ",
                 "a phase with 'until' needs a 'timeout'");
  }
  SUBCASE("until with during") {
    expect_error(with("    duration: 40s\n", "    until: last(produce.in_flight) == 0 during steady\n    timeout: 40s\n"),
                 "bad.yaml:17:12: ", "'during' makes no sense there");
  }
  SUBCASE("an error inside until points into it") {
    expect_error(with("    duration: 40s\n", "    until: last(produce.in_fligt) == 0\n    timeout: 40s\n"), "bad.yaml:17:17: ",
                 "unknown metric 'produce.in_fligt'");
  }
  SUBCASE("timeout without until") {
    expect_error(with("    duration: 40s\n", "    timeout: 40s\n"), "bad.yaml:17:14: ", "'timeout' only goes with 'until'");
  }
  SUBCASE("phase duration that is not whole seconds") {
    expect_error(with("duration: 40s", "duration: 40500ms"), "bad.yaml:17:15: ",
                 "phase durations are whole seconds (metrics are kept per second), not 40.5s");
  }
  SUBCASE("phase with no duration") {
    expect_error(with("    duration: 40s\n", ""), "bad.yaml:16:5: ", "phase 'steady' needs a duration (or until + timeout)");
  }
  SUBCASE("missing timeline") {
    expect_error("name: t\n", "bad.yaml:1:1: ", "missing required key 'timeline'");
  }
}

TEST_CASE("loader: topology and workloads") {
  SUBCASE("replication_factor above the broker count") {
    expect_error(with("replication_factor: 3", "replication_factor: 4"), "bad.yaml:9:29: ",
                 "replication_factor 4 is more than the 3 brokers of the topology");
  }
  SUBCASE("invalid topic name") {
    expect_error(with("- name: orders", "- name: \"bad topic!\""), "bad.yaml:7:15: ",
                 "topic name 'bad topic!' is not a valid Kafka topic name");
  }
  SUBCASE("placeholder with no for_each") {
    expect_error(with("- name: orders", "- name: \"orders.{region}\""), "bad.yaml:7:15: ", "has a placeholder with no for_each values");
  }
  SUBCASE("for_each variable not used in the name") {
    expect_error(with("        partitions: 2\n", "        for_each: { region: [eu, us] }\n        partitions: 2\n"), "bad.yaml:8:21: ",
                 "for_each.region is not used in the topic name 'orders'");
  }
  SUBCASE("missing Lua file") {
    expect_error(with("    payload: { size: 100B }\n", "    generator: { lua: lua/does-not-exist.lua }\n"), "bad.yaml:13:23: ",
                 "Lua file 'lua/does-not-exist.lua' not found");
  }
  SUBCASE("payload and generator together") {
    expect_error(with("    payload: { size: 100B }\n", "    generator: { lua: fixtures/nested.lua }\n    payload: { size: 100B }\n"),
                 "bad.yaml:14:14: ", "a workload has either a generator or a payload, not both");
  }
  SUBCASE("neither payload nor generator") {
    expect_error(with("    payload: { size: 100B }\n", ""), "bad.yaml:11:3: ", "workload 'w' needs a generator (Lua) or a payload");
  }
  SUBCASE("unknown workload type") {
    expect_error(with("type: kafka-producer", "type: kafka-produce"), "bad.yaml:12:11: ",
                 "unknown workload type 'kafka-produce' (did you mean 'kafka-producer'?)");
  }
  SUBCASE("template fields with a fixed payload") {
    expect_error(with("    topic: orders\n", "    topic: \"orders.{region}\"\n"), "bad.yaml:13:14: ",
                 "a fixed payload has no fields for the topic or key template to read");
  }
  SUBCASE("unclosed template") {
    expect_error(with("    topic: orders\n", "    topic: \"orders.{region\"\n"), "bad.yaml:14:12: ", "has a '{' without a closing '}'");
  }
}

TEST_CASE("loader: YAML syntax errors carry line and column") {
  // An unterminated flow sequence on line 19: the parser gives up at the ':'
  // of the next key, "    steps:" on line 20.
  LoadOutcome o = load(with("      w: 100/s\n", "      w: [100/s\n"));
  INFO(all_errors(o));
  REQUIRE(o.errors.size() == 1);
  CHECK_FALSE(o.scenario.has_value());
  CHECK(o.errors[0].describe().rfind("bad.yaml:20:10: YAML syntax error", 0) == 0);
  CHECK(o.errors[0].where.line == 20);
  CHECK(o.errors[0].where.column == 10);

  // A mis-indented key: `load` at column 4, where no map of the phase starts.
  LoadOutcome bad_indent = load("name: t\ntimeline:\n  - phase: a\n    duration: 1s\n   load: {}\n");
  INFO(all_errors(bad_indent));
  REQUIRE(bad_indent.errors.size() == 1);
  CHECK(bad_indent.errors[0].describe().rfind("bad.yaml:5:4: YAML syntax error", 0) == 0);
  CHECK(contains(bad_indent.errors[0].message, "YAML syntax error"));

  // Not a map at all.
  expect_error("- just\n- a list\n", "bad.yaml:1:1: ", "a scenario is a YAML map");
}

TEST_CASE("loader: a Lua syntax error is not a loader error; probing finds it") {
  std::string text = with("    payload: { size: 100B }\n", "    generator: { lua: fixtures/syntax_error.lua }\n");
  LoadOutcome o = load(text);
  INFO(all_errors(o));
  REQUIRE(o.errors.empty());
  REQUIRE(o.scenario.has_value());
  const auto& g = o.scenario->workloads[0].generator;
  REQUIRE(g.has_value());
  CHECK(g->display_path == "fixtures/syntax_error.lua");
  CHECK(g->lua_path == kUnitDir + "/fixtures/syntax_error.lua");
  Status st = probe_generator(o.scenario->workloads[0], o.scenario->seed);
  REQUIRE(st.has_value());
  CAPTURE(st->describe());
  CHECK(st->describe().rfind("fixtures/syntax_error.lua:3:", 0) == 0);
  CHECK(st->where.file == "fixtures/syntax_error.lua");
  CHECK(st->where.line == 3);
}

TEST_CASE("loader: several problems are all reported, in file order") {
  std::string text = with("seed: 7", "seed: lots");
  text = with("duration: 40s", "duration: 10 sec", text);
  text = with("during steady", "during stedy", text);
  LoadOutcome o = load(text);
  INFO(all_errors(o));
  REQUIRE(o.errors.size() >= 3);
  CHECK(o.errors[0].where.line == 2);
  for (size_t i = 1; i < o.errors.size(); ++i) CHECK(o.errors[i - 1].where.line <= o.errors[i].where.line);
}

TEST_CASE("loader: the shipped scenarios/chaos-kafka.yaml loads cleanly") {
  LoadOutcome o = load_scenario_file(kShipped);
  INFO(all_errors(o));
  REQUIRE(o.errors.empty());
  REQUIRE(o.scenario.has_value());
  const Scenario& s = *o.scenario;
  CHECK(s.name == "chaos-kafka");
  CHECK(s.seed == 42);
  CHECK(s.target == "embedded");
  CHECK(s.kafka.brokers == 3);

  // for_each expansion
  REQUIRE(s.kafka.topics.size() == 3);
  std::vector<std::string> names;
  for (const auto& t : s.kafka.topics) {
    names.push_back(t.name);
    CHECK(t.partitions == 4);
    CHECK(t.replication_factor == 3);
    CHECK(t.configs.at("min.insync.replicas") == "2");
  }
  CHECK(names == std::vector<std::string>{"bps.massachusetts", "bps.california", "bps.texas"});

  REQUIRE(s.workloads.size() == 1);
  const auto& w = s.workloads[0];
  CHECK(w.name == "transactions");
  REQUIRE(w.generator.has_value());
  CHECK(w.generator->display_path == "lua/bigpetstore.lua");
  CHECK(w.generator->lua_path == kRoot + "/lua/bigpetstore.lua");
  CHECK(w.generator->params["stores_per_state"] == 20);
  CHECK(w.topic.source == "bps.{store.location.state}");
  REQUIRE(w.topic.parts.size() == 2);
  CHECK(w.topic.parts[1].path == std::vector<std::string>{"store", "location", "state"});
  CHECK(w.idempotence);
  CHECK(w.compression == "lz4");
  CHECK(w.properties.at("linger.ms") == "5");

  REQUIRE(s.phases.size() == 4);
  CHECK(s.phases[0].name == "warmup");
  CHECK(s.phases[0].loads.at("transactions").kind == LoadSpec::Kind::Ramp);
  CHECK(s.phases[0].loads.at("transactions").from == 200.0);
  CHECK(s.phases[0].loads.at("transactions").to == 2000.0);
  CHECK(s.phases[1].name == "steady");
  CHECK(s.phases[1].duration_us == 30'000'000);
  CHECK(s.phases[1].loads.at("transactions").arrivals == Arrivals::Poisson);
  CHECK(s.phases[2].name == "chaos");
  REQUIRE(s.phases[2].steps.size() == 2);
  CHECK(s.phases[2].steps[0].broker.kind == BrokerChoice::Kind::LeaderOf);
  CHECK(s.phases[2].steps[0].broker.topic == "bps.texas");
  CHECK(s.phases[2].steps[0].broker.partition == 0);
  CHECK(s.phases[2].steps[1].verb == ChaosVerb::BrokerDelay);
  CHECK(s.phases[2].steps[1].delay_us == 40'000);
  CHECK(s.phases[3].name == "drain");
  CHECK(s.phases[3].until.size() == 2);
  CHECK(s.phases[3].duration_us == 30'000'000);
  CHECK(s.phases[2].steps[0].name == "leader-down");
  CHECK(s.phases[2].steps[1].name == "slow-broker");
  CHECK(s.expectations.size() == 16);
  REQUIRE(s.expectations[11].lua.has_value());
  CHECK(s.expectations[11].lua->function == "check");
  CHECK(s.expectations[13].expr.after == "slow-broker");
  CHECK(s.expectations[13].expr.after_end);
  CHECK(s.expectations[14].expr.over_us == 5'000'000);
  CHECK(s.expectations[15].abort);
  // The full pipeline: Redis and PostgreSQL started by the engine, an ETL
  // group writing to both, and the ledger on the producer.
  CHECK(s.redis.declared);
  CHECK(s.redis.url.empty());
  CHECK(s.postgres.declared);
  REQUIRE(s.etls.size() == 1);
  CHECK(s.etls[0].topics == std::vector<std::string>{"bps.*"});
  CHECK(s.etls[0].consumers == 2);
  CHECK(s.etls[0].redis.sales_by_state);
  CHECK(s.etls[0].postgres);
  CHECK(s.workloads[0].ledger);
}

TEST_CASE("loader: --set overrides") {
  SUBCASE("phase by name") {
    LoadOutcome o = load_scenario_file(kShipped, {Override{"timeline.steady.duration", "5s"}});
    INFO(all_errors(o));
    REQUIRE(o.scenario.has_value());
    CHECK(o.scenario->phase("steady")->duration_us == 5'000'000);
    CHECK(o.scenario->phase("chaos")->duration_us == 40'000'000);
  }
  SUBCASE("a property whose key contains a dot") {
    LoadOutcome o = load_scenario_file(kShipped, {Override{"workloads.transactions.properties.linger.ms", "10"}});
    INFO(all_errors(o));
    REQUIRE(o.scenario.has_value());
    const auto& props = o.scenario->workloads[0].properties;
    CHECK(props.at("linger.ms") == "10");
    CHECK(props.count("linger") == 0);
    CHECK(props.at("message.timeout.ms") == "30000");
  }
  SUBCASE("phase by index") {
    LoadOutcome o = load_scenario_file(kShipped, {Override{"timeline.1.duration", "7s"}});
    INFO(all_errors(o));
    REQUIRE(o.scenario.has_value());
    CHECK(o.scenario->phases[1].name == "steady");
    CHECK(o.scenario->phases[1].duration_us == 7'000'000);
    CHECK(o.scenario->phases[0].duration_us == 10'000'000);
  }
  SUBCASE("several at once, parsed from path=value") {
    auto a = parse_override("seed=9");
    auto b = parse_override("timeline.chaos.load.transactions={rate: 500/s}");
    REQUIRE(a.ok());
    REQUIRE(b.ok());
    CHECK(b->path == "timeline.chaos.load.transactions");
    CHECK(b->value == "{rate: 500/s}");
    LoadOutcome o = load_scenario_file(kShipped, {*a, *b});
    INFO(all_errors(o));
    REQUIRE(o.scenario.has_value());
    CHECK(o.scenario->seed == 9);
    CHECK(o.scenario->phase("chaos")->loads.at("transactions").rate == 500.0);
    CHECK(o.scenario->phase("chaos")->loads.at("transactions").arrivals == Arrivals::Constant);
  }
  SUBCASE("an override that makes the scenario invalid is reported like the file") {
    LoadOutcome o = load_scenario_file(kShipped, {Override{"timeline.chaos.duration", "18s"}});
    REQUIRE_FALSE(o.scenario.has_value());
    bool found = false;
    for (const auto& e : o.errors) found |= contains(e.message, "step from 5s for 15s ends after its phase 'chaos' (18s long)");
    CHECK(found);
  }
  SUBCASE("bad paths") {
    LoadOutcome unknown = load_scenario_file(kShipped, {Override{"timeline.nosuch.duration", "5s"}});
    REQUIRE(unknown.errors.size() == 1);
    CHECK_FALSE(unknown.scenario.has_value());
    CHECK(contains(unknown.errors[0].message, "--set timeline.nosuch.duration: no item named 'nosuch'"));

    LoadOutcome range = load_scenario_file(kShipped, {Override{"timeline.9.duration", "5s"}});
    REQUIRE(range.errors.size() == 1);
    CHECK(contains(range.errors[0].message, "index 9 is out of range (4 items)"));

    LoadOutcome scalar = load_scenario_file(kShipped, {Override{"seed.x", "1"}});
    REQUIRE(scalar.errors.size() == 1);
    CHECK(contains(scalar.errors[0].message, "is inside a value that is not a map"));

    // A new key is still checked like one written in the file.
    LoadOutcome typo = load_scenario_file(kShipped, {Override{"timeline.steady.durration", "5s"}});
    REQUIRE_FALSE(typo.scenario.has_value());
    bool found = false;
    for (const auto& e : typo.errors) found |= contains(e.message, "did you mean 'duration'");
    CHECK(found);
  }
  SUBCASE("malformed --set") {
    CHECK_FALSE(parse_override("timeline.steady.duration").ok());
    CHECK_FALSE(parse_override("=5s").ok());
    CHECK(contains(parse_override("nonsense").error().message, "--set expects path=value"));
  }
}

TEST_CASE("loader: a missing file is an error, not a crash") {
  LoadOutcome o = load_scenario_file(kRoot + "/scenarios/does-not-exist.yaml");
  REQUIRE(o.errors.size() == 1);
  CHECK_FALSE(o.scenario.has_value());
  CHECK(contains(o.errors[0].describe(), "does-not-exist.yaml: cannot read scenario file"));
}

TEST_CASE("did_you_mean") {
  std::vector<std::string> keys = {"name", "seed", "timeline", "topology", "workloads", "expect"};
  CHECK(did_you_mean("timelin", keys) == "timeline");
  CHECK(did_you_mean("workload", keys) == "workloads");
  CHECK(did_you_mean("sead", keys) == "seed");
  CHECK(did_you_mean("expectations", keys) == "");
  CHECK(did_you_mean("zzzzzz", keys) == "");
  CHECK(did_you_mean("x", {}) == "");
}

TEST_CASE("loader: broker faults, scale steps and chaoskube options") {
  const std::string step = "      - at: 5s\n        chaos: broker-down\n        broker: random\n        for: 10s\n";
  auto with_step = [&](const std::string& replacement) { return with(step, replacement); };
  SUBCASE("a valid mix loads with its fields") {
    LoadOutcome o = load(with_step("      - { at: 5s, chaos: broker-kill, broker: controller, for: 8s }\n"
                                   "      - { every: 10s, chaos: broker-pause, broker: random, count: 2, spacing: 20s, for: 3s, dry_run: true }\n"
                                   "      - { at: 20s, scale: add-brokers, count: 2 }\n"
                                   "      - { at: 21s, scale: add-partitions, topic: orders, partitions: 6 }\n"));
    INFO(all_errors(o));
    REQUIRE(o.scenario.has_value());
    const auto& st = o.scenario->phases[0].steps;
    REQUIRE(st.size() == 4);
    CHECK(st[0].verb == ChaosVerb::BrokerKill);
    CHECK(st[0].broker.kind == BrokerChoice::Kind::Controller);
    CHECK(st[1].verb == ChaosVerb::BrokerPause);
    CHECK(st[1].count == 2);
    CHECK(st[1].spacing_us == 20'000'000);
    CHECK(st[1].dry_run);
    CHECK(st[2].verb == ChaosVerb::AddBrokers);
    CHECK(st[2].count == 2);
    CHECK(st[2].for_us == 0);
    CHECK(st[3].verb == ChaosVerb::AddPartitions);
    CHECK(st[3].topic == "orders");
    CHECK(st[3].partitions == 6);
  }
  SUBCASE("broker-kill without for says what for means there") {
    expect_error(with_step("      - { at: 5s, chaos: broker-kill }\n"), "bad.yaml:21:9: ", "until the killed broker is restarted");
  }
  SUBCASE("scale steps are not undone") {
    expect_error(with_step("      - { at: 5s, scale: add-brokers, for: 2s }\n"), "bad.yaml:21:", "scale steps are not undone");
  }
  SUBCASE("unknown scale verb") {
    expect_error(with_step("      - { at: 5s, scale: add-broker }\n"), "bad.yaml:21:", "add-brokers");
  }
  SUBCASE("chaos and scale together") {
    expect_error(with_step("      - { at: 5s, chaos: broker-kill, scale: add-brokers, for: 2s }\n"), "bad.yaml:21:", "either 'chaos' or 'scale'");
  }
  SUBCASE("count beyond the brokers") {
    expect_error(with_step("      - { at: 5s, chaos: broker-kill, count: 4, for: 2s }\n"), "bad.yaml:21:", "count must be between 1 and the 3 brokers");
  }
  SUBCASE("count with a fixed broker") {
    expect_error(with_step("      - { at: 5s, chaos: broker-kill, broker: 2, count: 2, for: 2s }\n"), "bad.yaml:21:", "'count' goes with a random broker");
  }
  SUBCASE("spacing with a fixed broker") {
    expect_error(with_step("      - { at: 5s, chaos: broker-kill, broker: 2, spacing: 5s, for: 2s }\n"), "bad.yaml:21:", "'spacing'");
  }
  SUBCASE("add-partitions to an undeclared topic") {
    expect_error(with_step("      - { at: 5s, scale: add-partitions, topic: order, partitions: 4 }\n"), "bad.yaml:21:",
                 "did you mean 'orders'");
  }
  SUBCASE("add-partitions that does not grow the topic") {
    expect_error(with_step("      - { at: 5s, scale: add-partitions, topic: orders, partitions: 2 }\n"), "bad.yaml:21:",
                 "must exceed the 2 that orders starts with");
  }
  SUBCASE("add-partitions without a total") {
    expect_error(with_step("      - { at: 5s, scale: add-partitions, topic: orders }\n"), "bad.yaml:21:", "needs 'partitions'");
  }
  SUBCASE("topic on a chaos step") {
    expect_error(with_step("      - { at: 5s, chaos: broker-kill, topic: orders, for: 2s }\n"), "bad.yaml:21:", "'topic' only goes with add-partitions");
  }
}

TEST_CASE("loader: scale: producer") {
  const std::string step = "      - at: 5s\n        chaos: broker-down\n        broker: random\n        for: 10s\n";
  auto base = with("    topic: orders\n", "    topic: orders\n    threads: 2\n    max_threads: 4\n");
  auto with_step = [&](const std::string& replacement) { return with(step, replacement, base); };
  SUBCASE("rate and threads") {
    LoadOutcome o = load(with_step("      - { at: 5s, scale: producer, workload: w, rate: 300/s, threads: 4 }\n"));
    INFO(all_errors(o));
    REQUIRE(o.scenario.has_value());
    const auto& st = o.scenario->phases[0].steps[0];
    CHECK(st.verb == ChaosVerb::ScaleProducer);
    CHECK(st.workload == "w");
    CHECK(st.rate == 300.0);
    CHECK(st.threads == 4);
    CHECK(o.scenario->workloads[0].max_threads == 4);
  }
  SUBCASE("more threads than started") {
    expect_error(with_step("      - { at: 5s, scale: producer, workload: w, threads: 5 }\n"), "bad.yaml:", "set its max_threads to at least 5");
  }
  SUBCASE("nothing to change") {
    expect_error(with_step("      - { at: 5s, scale: producer, workload: w }\n"), "bad.yaml:", "needs 'rate', 'threads' or both");
  }
  SUBCASE("not a producer") {
    expect_error(with_step("      - { at: 5s, scale: producer, workload: x, rate: 5/s }\n"), "bad.yaml:", "no kafka-producer workload named 'x'");
  }
  SUBCASE("rate on a chaos step") {
    expect_error(with_step("      - { at: 5s, chaos: broker-down, rate: 5/s, for: 1s }\n"), "bad.yaml:", "'rate' only goes with scale: producer");
  }
  SUBCASE("max_threads below threads") {
    expect_error(with("    topic: orders\n", "    topic: orders\n    threads: 3\n    max_threads: 2\n"), "bad.yaml:", "max_threads must be at least threads");
  }
}

TEST_CASE("loader: workers (distributed load)") {
  SUBCASE("a count") {
    LoadOutcome o = load(with("seed: 7\n", "seed: 7\nworkers: 3\n"));
    INFO(all_errors(o));
    REQUIRE(o.scenario.has_value());
    CHECK(o.scenario->workers == 3);
    CHECK(o.scenario->workers_where.line == 3);
  }
  SUBCASE("none, or 0: this engine sends") {
    LoadOutcome o = load(kBase);
    REQUIRE(o.scenario.has_value());
    CHECK(o.scenario->workers == 0);
    o = load(with("seed: 7\n", "seed: 7\nworkers: 0\n"));
    REQUIRE(o.scenario.has_value());
    CHECK(o.scenario->workers == 0);
  }
  SUBCASE("out of range") {
    expect_error(with("seed: 7\n", "seed: 7\nworkers: -1\n"), "bad.yaml:3:10: ", "workers must be between 0 (this engine sends) and 1000");
    expect_error(with("seed: 7\n", "seed: 7\nworkers: 1001\n"), "bad.yaml:3:10: ", "workers must be between 0 (this engine sends) and 1000");
    expect_error(with("seed: 7\n", "seed: 7\nworkers: many\n"), "bad.yaml:3:10: ", "workers must be an integer, not 'many'");
  }
  SUBCASE("a scale: producer step has no single process to act on") {
    std::string text = with("seed: 7\n", "seed: 7\nworkers: 2\n",
                            with("      - at: 5s\n        chaos: broker-down\n        broker: random\n        for: 10s\n",
                                 "      - { at: 5s, scale: producer, workload: w, rate: 300/s }\n"));
    expect_error(text, "bad.yaml:22:", "a `scale: producer` step cannot run with workers");
  }
  SUBCASE("nothing to share") {
    std::string text = "name: t\nworkers: 2\ntimeline:\n  - phase: a\n    duration: 1s\n";
    expect_error(text, "bad.yaml:2:10: ", "shares kafka-producer workloads, and the scenario has none");
  }
}
