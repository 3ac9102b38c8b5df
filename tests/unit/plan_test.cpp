// Plans: every random choice made from the seed, every step at its offset.
#include <doctest/doctest.h>

#include <map>
#include <string>
#include <vector>

#include "plan/Plan.h"
#include "scenario/ScenarioLoader.h"

using namespace kapture;

namespace {

const std::string kRoot = KAPTURE_TEST_DATA;

std::string errors_of(const LoadOutcome& o) {
  std::string s;
  for (const auto& e : o.errors) s += e.describe() + "\n";
  return s;
}

Scenario load_text(const std::string& text) {
  LoadOutcome o = load_scenario_text(text, "plan.yaml", kRoot + "/tests/unit");
  INFO(errors_of(o));
  REQUIRE(o.scenario.has_value());
  return *o.scenario;
}

// Five brokers, several random picks, `every` steps with and without `start`.
const std::string kChaotic =
    "name: plan-test\n"
    "seed: 1\n"
    "topology:\n"
    "  kafka:\n"
    "    brokers: 5\n"
    "    topics:\n"
    "      - { name: orders, partitions: 3, replication_factor: 3 }\n"
    "workloads:\n"
    "  w:\n"
    "    type: kafka-producer\n"
    "    payload: { size: 10B }\n"
    "    topic: orders\n"
    "timeline:\n"
    "  - phase: warm\n"
    "    duration: 10s\n"
    "    load: { w: { from: 0/s, to: 100/s } }\n"
    "  - phase: storm\n"
    "    duration: 60s\n"
    "    steps:\n"
    "      - { every: 10s, for: 5s, chaos: broker-down, broker: random }\n"
    "      - { every: 20s, start: 0s, for: 3s, chaos: broker-delay, delay: 25ms, broker: random }\n"
    "      - { at: 1s, for: 2s, chaos: broker-down, broker: 2 }\n"
    "  - phase: calm\n"
    "    duration: 5s\n"
    "    load: { w: 0/s }\n";

std::vector<int> random_picks(const Plan& p) {
  std::vector<int> ids;
  for (const auto& ph : p.phases)
    for (const auto& i : ph.injections) ids.push_back(i.action.broker.id);
  return ids;
}

}  // namespace

TEST_CASE("plan: every steps expand to the right offsets") {
  Scenario s = load_text(kChaotic);
  Plan p = resolve_plan(s, "embedded");
  REQUIRE(p.phases.size() == 3);
  CHECK(p.phases[0].nominal_start_us == 0);
  CHECK(p.phases[1].nominal_start_us == 10'000'000);
  CHECK(p.phases[2].nominal_start_us == 70'000'000);
  CHECK(p.total_us == 75'000'000);
  CHECK(p.phases[0].injections.empty());

  std::vector<int64_t> down, delay, fixed;
  for (const auto& i : p.phases[1].injections) {
    if (i.action.verb == ChaosVerb::BrokerDelay) {
      delay.push_back(i.offset_us);
      CHECK(i.for_us == 3'000'000);
      CHECK(i.action.delay_us == 25'000);
      CHECK(i.where.line == 21);
    } else if (i.where.line == 22) {
      fixed.push_back(i.offset_us);
      CHECK(i.action.broker.kind == BrokerChoice::Kind::Id);
      CHECK(i.action.broker.id == 2);
    } else {
      down.push_back(i.offset_us);
      CHECK(i.for_us == 5'000'000);
      CHECK(i.where.line == 20);
    }
    // Random picks are resolved to a broker that exists.
    CHECK(i.action.broker.kind == BrokerChoice::Kind::Id);
    CHECK(i.action.broker.id >= 1);
    CHECK(i.action.broker.id <= 5);
  }
  // `every` without `start` begins one period in; the last one must end by 60s.
  CHECK(down == std::vector<int64_t>{10'000'000, 20'000'000, 30'000'000, 40'000'000, 50'000'000});
  // With `start: 0s`: 0, 20, 40 (60 would be past the end).
  CHECK(delay == std::vector<int64_t>{0, 20'000'000, 40'000'000});
  CHECK(fixed == std::vector<int64_t>{1'000'000});
  CHECK(p.phases[1].injections.size() == 9);

  // A ramp hands its final rate to the next phase that does not name the workload.
  CHECK(p.phases[0].loads.at("w").kind == LoadSpec::Kind::Ramp);
  CHECK(p.phases[1].loads.at("w").kind == LoadSpec::Kind::Rate);
  CHECK(p.phases[1].loads.at("w").rate == 100.0);
  CHECK(p.phases[2].loads.at("w").rate == 0.0);
  // 0->100/s over 10s is 500 records, then 60s at 100/s.
  CHECK(expected_records(p).at("w") == 500 + 6000);
}

TEST_CASE("plan: an every step whose last repeat would overrun stops before it") {
  // Phase of 55s, every 10s for 5s: 10..50, the one at 50 ends exactly at 55.
  std::string text = kChaotic;
  text.replace(text.find("duration: 60s"), 13, "duration: 55s");
  Scenario s = load_text(text);
  Plan p = resolve_plan(s, "embedded");
  std::vector<int64_t> down;
  for (const auto& i : p.phases[1].injections)
    if (i.where.line == 20) down.push_back(i.offset_us);
  CHECK(down == std::vector<int64_t>{10'000'000, 20'000'000, 30'000'000, 40'000'000, 50'000'000});

  text.replace(text.find("duration: 55s"), 13, "duration: 54s");
  Plan shorter = resolve_plan(load_text(text), "embedded");
  down.clear();
  for (const auto& i : shorter.phases[1].injections)
    if (i.where.line == 20) down.push_back(i.offset_us);
  CHECK(down == std::vector<int64_t>{10'000'000, 20'000'000, 30'000'000, 40'000'000});
}

TEST_CASE("plan: resolve_plan is deterministic for a seed") {
  Scenario s = load_text(kChaotic);
  Plan a = resolve_plan(s, "embedded");
  Plan b = resolve_plan(s, "embedded");
  CHECK(format_plan(a) == format_plan(b));
  CHECK(plan_to_json(a) == plan_to_json(b));
  CHECK(random_picks(a) == random_picks(b));
  // A copy of the scenario plans the same way too.
  Scenario copy = s;
  CHECK(format_plan(resolve_plan(copy, "embedded")) == format_plan(a));
  CHECK(a.seed == 1);
  CHECK(a.target == "embedded");
  CHECK(format_plan(a).find("plan: plan-test (seed 1, target embedded)") == 0);
}

TEST_CASE("plan: another seed can pick other brokers") {
  Scenario s = load_text(kChaotic);
  const std::vector<int> base = random_picks(resolve_plan(s, "embedded"));
  int differing_seeds = 0;
  std::vector<bool> broker_used(6, false);
  for (uint64_t seed = 2; seed < 50; ++seed) {
    Scenario other = s;
    other.seed = seed;
    Plan p = resolve_plan(other, "embedded");
    std::vector<int> picks = random_picks(p);
    REQUIRE(picks.size() == base.size());
    if (picks != base) {
      ++differing_seeds;
      CHECK(format_plan(p) != format_plan(resolve_plan(s, "embedded")));
    }
    for (int id : picks) broker_used[static_cast<size_t>(id)] = true;
  }
  CHECK(differing_seeds >= 1);
  CHECK(differing_seeds >= 40);  // eight picks from five brokers: a repeat is rare
  // Over many seeds every broker gets picked.
  for (int id = 1; id <= 5; ++id) CHECK(broker_used[static_cast<size_t>(id)]);
}

TEST_CASE("plan: the shipped scenario") {
  LoadOutcome o = load_scenario_file(kRoot + "/scenarios/chaos-kafka.yaml");
  INFO(errors_of(o));
  REQUIRE(o.scenario.has_value());
  Plan p = resolve_plan(*o.scenario, "embedded");
  REQUIRE(p.phases.size() == 4);
  CHECK(p.phases[2].name == "chaos");
  CHECK(p.phases[2].nominal_start_us == 40'000'000);
  REQUIRE(p.phases[2].injections.size() == 2);
  CHECK(p.phases[2].injections[0].offset_us == 5'000'000);
  CHECK(p.phases[2].injections[0].action.broker.kind == BrokerChoice::Kind::LeaderOf);  // decided at run time
  CHECK(p.phases[2].injections[1].offset_us == 25'000'000);
  CHECK(p.phases[2].injections[1].action.broker.kind == BrokerChoice::Kind::Id);
  CHECK(p.phases[3].until.size() == 2);
  CHECK(p.total_us == 110'000'000);
  // warmup ramp 200->2000/s over 10s, 2000/s for 30s + 40s, drain at 0/s.
  CHECK(expected_records(p).at("transactions") == 11'000 + 60'000 + 80'000);
  CHECK(format_plan(p) == format_plan(resolve_plan(*o.scenario, "embedded")));

  // The random broker-delay pick varies with the seed.
  bool differs = false;
  for (uint64_t seed = 43; seed < 200 && !differs; ++seed) {
    Scenario other = *o.scenario;
    other.seed = seed;
    differs = resolve_plan(other, "embedded").phases[2].injections[1].action.broker.id != p.phases[2].injections[1].action.broker.id;
  }
  CHECK(differs);
}

TEST_CASE("plan: chaoskube rules: count distinct brokers per hit, spacing between hits on one broker") {
  Scenario s = load_text(
      "name: kube\n"
      "seed: 9\n"
      "topology: { kafka: { brokers: 4, topics: [ { name: t, partitions: 4, replication_factor: 3 } ] } }\n"
      "workloads: { w: { type: kafka-producer, payload: { size: 10B }, topic: t } }\n"
      "timeline:\n"
      "  - phase: p\n"
      "    duration: 100s\n"
      "    load: { w: 10/s }\n"
      "    steps:\n"
      "      - { every: 10s, start: 0s, chaos: broker-kill, broker: random, count: 2, spacing: 20s, for: 5s }\n");
  Plan p = resolve_plan(s, "local");
  const auto& inj = p.phases[0].injections;
  // 4 brokers, 2 per hit, none again within 20 s: hits at 0, 10, 20, ... alternate pairs.
  std::map<int64_t, std::vector<int>> by_offset;
  for (const auto& i : inj) by_offset[i.offset_us].push_back(i.action.broker.id);
  REQUIRE(by_offset.size() == 10);
  std::map<int, int64_t> last;
  for (const auto& [offset_binding, ids] : by_offset) {
    int64_t offset = offset_binding;  // INFO captures it in a lambda: clang before 16 cannot capture a binding
    INFO("offset " << offset);
    REQUIRE(ids.size() == 2);
    CHECK(ids[0] != ids[1]);
    for (int id : ids) {
      CHECK(id >= 1);
      CHECK(id <= 4);
      if (last.count(id)) CHECK(offset - last[id] >= 20'000'000);
      last[id] = offset;
    }
  }
}

TEST_CASE("plan: a hit with no eligible broker is skipped, scale steps are planned as written") {
  Scenario s = load_text(
      "name: kube\n"
      "seed: 9\n"
      "topology: { kafka: { brokers: 2, topics: [ { name: t, partitions: 4, replication_factor: 2 } ] } }\n"
      "workloads: { w: { type: kafka-producer, payload: { size: 10B }, topic: t } }\n"
      "timeline:\n"
      "  - phase: p\n"
      "    duration: 40s\n"
      "    load: { w: 10/s }\n"
      "    steps:\n"
      "      - { every: 10s, start: 0s, chaos: broker-kill, broker: random, spacing: 25s, for: 2s }\n"
      "      - { at: 5s, scale: add-partitions, topic: t, partitions: 8 }\n");
  Plan p = resolve_plan(s, "local");
  std::vector<int64_t> kills;
  int scales = 0;
  for (const auto& i : p.phases[0].injections) {
    if (i.action.verb == ChaosVerb::BrokerKill) kills.push_back(i.offset_us);
    if (i.action.verb == ChaosVerb::AddPartitions) {
      ++scales;
      CHECK(i.action.topic == "t");
      CHECK(i.action.partitions == 8);
    }
  }
  // Two brokers, 25 s apart each: 0 and 10 take both; 20 has none (skipped); 30 has the first again.
  CHECK(kills == std::vector<int64_t>{0, 10'000'000, 30'000'000});
  CHECK(scales == 1);
  CHECK(format_plan(p).find("scale add-partitions t to 8") != std::string::npos);
}
