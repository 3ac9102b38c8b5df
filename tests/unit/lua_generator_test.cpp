// The Lua record generator: the shipped BigPetStore script, determinism from
// the seed, the sandbox, and how bad scripts are reported.
#include <doctest/doctest.h>

#include <chrono>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "lua/LuaRecordGenerator.h"
#include "lua/LuaState.h"
#include "scenario/ScenarioLoader.h"

using namespace kapture;

namespace {

const std::string kRoot = KAPTURE_TEST_DATA;
const std::string kUnitDir = kRoot + "/tests/unit";
const int64_t kNowMs = 1'700'000'000'123;

bool contains(const std::string& haystack, const std::string& needle) { return haystack.find(needle) != std::string::npos; }
bool starts_with(const std::string& s, const std::string& prefix) { return s.rfind(prefix, 0) == 0; }

std::string errors_of(const LoadOutcome& o) {
  std::string s;
  for (const auto& e : o.errors) s += e.describe() + "\n";
  return s;
}

// A one-workload scenario around a fixture script. The outcome must outlive
// any generator made from its spec.
LoadOutcome fixture(const std::string& file, const std::string& topic = "t", const std::string& key = "",
                    const std::string& allow = "") {
  std::string text =
      "name: lua-test\n"
      "seed: 5\n"
      "workloads:\n"
      "  w:\n"
      "    type: kafka-producer\n"
      "    generator:\n"
      "      lua: fixtures/" + file + "\n"
      "      params: { prefix: hello }\n"
      "    topic: \"" + topic + "\"\n";
  if (!key.empty()) text += "    key: \"" + key + "\"\n";
  if (!allow.empty()) text += "    allow: [" + allow + "]\n";
  text +=
      "timeline:\n"
      "  - phase: a\n"
      "    duration: 1s\n";
  LoadOutcome o = load_scenario_text(text, "lua.yaml", kUnitDir);
  INFO(errors_of(o));
  REQUIRE(o.errors.empty());
  REQUIRE(o.scenario.has_value());
  return o;
}

const ProducerWorkloadSpec& spec_of(const LoadOutcome& o) { return o.scenario->workloads.at(0); }

LoadOutcome shipped() {
  LoadOutcome o = load_scenario_file(kRoot + "/scenarios/chaos-kafka.yaml");
  INFO(errors_of(o));
  REQUIRE(o.scenario.has_value());
  return o;
}

std::unique_ptr<LuaRecordGenerator> make(const ProducerWorkloadSpec& spec, uint64_t seed, int worker = 0, int workers = 1) {
  auto g = LuaRecordGenerator::create(spec, GeneratorContext{seed, worker, workers});
  INFO((g ? std::string() : g.error().describe()));
  REQUIRE(g.ok());
  return std::move(*g);
}

GeneratedRecord next_ok(LuaRecordGenerator& g, int64_t seq, int64_t now_ms = kNowMs) {
  GeneratedRecord r;
  Status st = g.next(seq, now_ms, r);
  INFO((st ? st->describe() : std::string()));
  REQUIRE_FALSE(st.has_value());
  return r;
}

// What a record says apart from its id (whose prefix is the seed itself).
nlohmann::json content(const GeneratedRecord& r) {
  nlohmann::json j = nlohmann::json::parse(r.value);
  j.erase("id");
  return j;
}

Status probe(const std::string& file, const std::string& topic = "t", const std::string& allow = "") {
  LoadOutcome o = fixture(file, topic, "", allow);
  return probe_generator(spec_of(o), 5);
}

}  // namespace

TEST_CASE("lua: probe_generator accepts the shipped bigpetstore workload") {
  LoadOutcome o = shipped();
  Status st = probe_generator(spec_of(o), o.scenario->seed);
  INFO((st ? st->describe() : std::string()));
  CHECK_FALSE(st.has_value());
}

TEST_CASE("lua: bigpetstore records are JSON routed to bps.{state} and keyed by customer") {
  LoadOutcome o = shipped();
  auto g = make(spec_of(o), 42);
  const std::set<std::string> topics = {"bps.massachusetts", "bps.california", "bps.texas"};
  std::set<std::string> seen_topics;
  std::set<std::string> seen_keys;
  for (int64_t seq = 0; seq < 300; ++seq) {
    GeneratedRecord r = next_ok(*g, seq, kNowMs + seq);
    CAPTURE(r.value);
    CHECK(topics.count(r.topic) == 1);
    CHECK(r.has_key);
    CHECK_FALSE(r.key.empty());
    nlohmann::json j = nlohmann::json::parse(r.value);
    REQUIRE(j.is_object());
    // The templates read the record they were filled from.
    CHECK(r.topic == "bps." + j["store"]["location"]["state"].get<std::string>());
    CHECK(r.key == j["customer"]["id"].dump());
    CHECK(j["id"] == "tx-42-" + std::to_string(seq));
    CHECK(j["created_ms"] == kNowMs + seq);
    CHECK(j["products"].is_array());
    CHECK(j["products"].size() >= 1);
    CHECK(j["products"].size() <= 4);
    seen_topics.insert(r.topic);
    seen_keys.insert(r.key);
  }
  CHECK(seen_topics == topics);      // every state gets traffic
  CHECK(seen_keys.size() > 100);     // many customers, not one
  // dateTime comes from now_ms.
  GeneratedRecord r = next_ok(*g, 1000, 0);
  CHECK(nlohmann::json::parse(r.value)["dateTime"] == "1970-01-01T00:00:00.000Z");
}

TEST_CASE("lua: the same seed gives the same records, another seed others") {
  LoadOutcome o = shipped();
  const auto& spec = spec_of(o);
  auto a = make(spec, 42);
  auto b = make(spec, 42);
  auto c = make(spec, 43);
  int differ = 0;
  for (int64_t seq = 0; seq < 20; ++seq) {
    GeneratedRecord ra = next_ok(*a, seq);
    GeneratedRecord rb = next_ok(*b, seq);
    GeneratedRecord rc = next_ok(*c, seq);
    // The same record: every field equal. (Not yet the same bytes: see the
    // known-bug case below.)
    CHECK(nlohmann::json::parse(ra.value) == nlohmann::json::parse(rb.value));
    CHECK(ra.value.size() == rb.value.size());
    CHECK(ra.topic == rb.topic);
    CHECK(ra.key == rb.key);
    if (content(ra) != content(rc)) ++differ;
  }
  CHECK(differ >= 15);
  // Workers of one run draw different streams from the one seed.
  auto w0 = make(spec, 42, 0, 2);
  auto w1 = make(spec, 42, 1, 2);
  int worker_differ = 0;
  for (int64_t seq = 0; seq < 20; ++seq)
    if (content(next_ok(*w0, seq)) != content(next_ok(*w1, seq))) ++worker_differ;
  CHECK(worker_differ >= 15);
}

// LuaJIT 2.1 seeds its string hash per lua_State, so pairs() walks a record's
// keys in a different order in every state: the encoder sorts object keys so
// the same seed gives the same bytes on the wire.
TEST_CASE("lua: the same seed gives byte-identical values (JSON keys sorted)") {
  LoadOutcome o = fixture("nested.lua", "t", "{id}");
  const auto& spec = spec_of(o);
  // Many independent state pairs so that a chance agreement of hash seeds
  // cannot hide the bug.
  int differing = 0;
  std::string example;
  for (int pair = 0; pair < 40; ++pair) {
    auto a = make(spec, 42);
    auto b = make(spec, 42);
    for (int64_t seq = 0; seq < 3; ++seq) {
      GeneratedRecord ra = next_ok(*a, seq), rb = next_ok(*b, seq);
      REQUIRE(nlohmann::json::parse(ra.value) == nlohmann::json::parse(rb.value));
      if (ra.value != rb.value) {
        ++differing;
        if (example.empty()) example = ra.value + " vs " + rb.value;
      }
    }
  }
  INFO("e.g. " << example);
  CHECK(differing == 0);
}

TEST_CASE("lua: the sandbox has no os, io, require, loadstring, load or string.dump") {
  struct Case {
    const char* file;
    const char* prefix;
    const char* phrase;
  };
  const Case cases[] = {
      {"sandbox_os.lua", "fixtures/sandbox_os.lua:3: ", "attempt to index global 'os' (a nil value)"},
      {"sandbox_io.lua", "fixtures/sandbox_io.lua:3: ", "attempt to index global 'io' (a nil value)"},
      {"sandbox_require.lua", "fixtures/sandbox_require.lua:3: ", "attempt to call global 'require' (a nil value)"},
      {"sandbox_loadstring.lua", "fixtures/sandbox_loadstring.lua:3: ", "attempt to call global 'loadstring' (a nil value)"},
      {"sandbox_load.lua", "fixtures/sandbox_load.lua:3: ", "attempt to call global 'load' (a nil value)"},
      {"sandbox_dump.lua", "fixtures/sandbox_dump.lua:3: ", "attempt to call field 'dump' (a nil value)"},
      {"sandbox_top_level.lua", "fixtures/sandbox_top_level.lua:2: ", "attempt to index global 'os' (a nil value)"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.file);
    Status st = probe(c.file);
    REQUIRE(st.has_value());
    std::string d = st->describe();
    CAPTURE(d);
    CHECK(starts_with(d, c.prefix));
    CHECK(contains(d, c.phrase));
    CHECK(st->kind == ErrorKind::Usage);

    // The run's generators (JIT on, no budget) are sandboxed the same way.
    LoadOutcome o = fixture(c.file);
    auto g = LuaRecordGenerator::create(spec_of(o), GeneratorContext{5, 0, 1});
    std::string run_error;
    if (!g) {
      run_error = g.error().describe();
    } else {
      GeneratedRecord r;
      Status s2 = (*g)->next(0, kNowMs, r);
      REQUIRE(s2.has_value());
      run_error = s2->describe();
    }
    CHECK(run_error == d);
  }
}

TEST_CASE("lua: allow lets a library out of the sandbox") {
  Status without = probe("allowed_os.lua");
  REQUIRE(without.has_value());
  CHECK(contains(without->describe(), "fixtures/allowed_os.lua:3: attempt to index global 'os'"));
  Status with = probe("allowed_os.lua", "t", "os");
  INFO((with ? with->describe() : std::string()));
  CHECK_FALSE(with.has_value());
  LoadOutcome o = fixture("allowed_os.lua", "t", "", "os");
  auto g = make(spec_of(o), 5);
  CHECK(nlohmann::json::parse(next_ok(*g, 0).value)["clock"] == "number");
}

TEST_CASE("lua: a runaway loop is stopped by the instruction budget") {
  for (const char* file : {"runaway.lua", "runaway_init.lua"}) {
    CAPTURE(file);
    auto start = std::chrono::steady_clock::now();
    Status st = probe(file);
    auto secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    REQUIRE(st.has_value());
    CAPTURE(st->describe());
    CHECK(contains(st->message, "instruction budget"));
    // Named like any Lua error: the script and the line it was looping on.
    CHECK(starts_with(st->describe(), std::string("fixtures/") + file + ":"));
    CHECK(st->where.line > 0);
    CHECK(secs < 30.0);
  }
}

TEST_CASE("lua: a syntax error names the file and line") {
  Status st = probe("syntax_error.lua");
  REQUIRE(st.has_value());
  CHECK(starts_with(st->describe(), "fixtures/syntax_error.lua:3: "));
  CHECK(contains(st->message, "unexpected symbol near '='"));
}

TEST_CASE("lua: a script returning a number gets a clear error") {
  Status st = probe("returns_number.lua");
  REQUIRE(st.has_value());
  CHECK(st->describe() == "fixtures/returns_number.lua:2: generate() must return a record table or a string, not number");
}

TEST_CASE("lua: precompiled bytecode is refused") {
  Status st = probe("bytecode.lua");
  REQUIRE(st.has_value());
  CHECK(starts_with(st->describe(), "fixtures/bytecode.lua: "));
  CHECK(contains(st->message, "precompiled Lua bytecode is not accepted"));
}

TEST_CASE("lua: a script without generate()") {
  Status st = probe("no_generate.lua");
  REQUIRE(st.has_value());
  CHECK(contains(st->describe(), "fixtures/no_generate.lua: the script defines no function 'generate'"));
}

TEST_CASE("lua: an error raised in generate() is reported with its line") {
  Status st = probe("runtime_error.lua");
  REQUIRE(st.has_value());
  CHECK(st->describe() == "fixtures/runtime_error.lua:4: record 2 is broken");
  // Records before it were fine: the generator itself fails only at seq 2.
  LoadOutcome o = fixture("runtime_error.lua");
  auto g = make(spec_of(o), 5);
  next_ok(*g, 0);
  next_ok(*g, 1);
  GeneratedRecord r;
  CHECK(g->next(2, kNowMs, r).has_value());
  next_ok(*g, 3);  // and it recovers for the next record
}

TEST_CASE("lua: nested tables become nested JSON; templates read dotted paths") {
  LoadOutcome o = fixture("nested.lua", "t.{a.b.c}", "{id}");
  auto g = make(spec_of(o), 5);
  GeneratedRecord r = next_ok(*g, 7, kNowMs);
  CHECK(r.topic == "t.deep");
  CHECK(r.has_key);
  CHECK(r.key == "7");
  nlohmann::json j = nlohmann::json::parse(r.value);
  CHECK(j["id"] == 7);
  CHECK(j["at"] == kNowMs);
  CHECK(j["a"]["b"]["c"] == "deep");
  CHECK(j["list"] == nlohmann::json::array({1, 2, 3}));
  CHECK(j["tag"] == "hello");  // params reach init()

  LoadOutcome missing = fixture("nested.lua", "t.{a.x.y}");
  Status st = probe_generator(spec_of(missing), 5);
  REQUIRE(st.has_value());
  CHECK(contains(st->describe(), "fixtures/nested.lua: the record from generate() has no string or number field 'a.x.y'"));
}

TEST_CASE("lua: a string return is the raw payload and key") {
  LoadOutcome o = fixture("returns_string.lua", "raw");
  auto g = make(spec_of(o), 5);
  GeneratedRecord r = next_ok(*g, 3);
  CHECK(r.value == "payload-3");
  CHECK(r.topic == "raw");
  CHECK(r.has_key);
  CHECK(r.key == "key-3");

  LoadOutcome templated = fixture("returns_string.lua", "raw.{x}");
  Status st = probe_generator(spec_of(templated), 5);
  REQUIRE(st.has_value());
  CHECK(contains(st->message, "returned a string, not a record table"));
}

TEST_CASE("lua_error_to_error splits file, line and message") {
  Error e = lua_error_to_error("fixtures/x.lua:12: boom: with a colon");
  CHECK(e.where.file == "fixtures/x.lua");
  CHECK(e.where.line == 12);
  CHECK(e.message == "boom: with a colon");
  CHECK(e.describe() == "fixtures/x.lua:12: boom: with a colon");
  Error plain = lua_error_to_error("no location here", ErrorKind::Runtime);
  CHECK(plain.where.file.empty());
  CHECK(plain.message == "no location here");
  CHECK(plain.kind == ErrorKind::Runtime);
}

TEST_CASE("a Lua state's memory limit stops a script that keeps allocating, and the state stays usable") {
  LuaSandbox sandbox;
  sandbox.memory_limit = 4u * 1024 * 1024;
  LuaState lua(sandbox);
  REQUIRE(lua.ok());
  lua_State* L = lua.get();
  const char* hog = "local t = {} for i = 1, 1e7 do t[i] = string.rep('x', 100) .. i end return #t";
  REQUIRE(luaL_loadstring(L, hog) == 0);
  Status st = lua.pcall(0, 1);
  REQUIRE(st.has_value());
  CHECK(contains(st->message, "not enough memory"));
  // The garbage is collectable again, and small work still runs.
  lua_gc(L, LUA_GCCOLLECT, 0);
  REQUIRE(luaL_loadstring(L, "return string.rep('y', 1000)") == 0);
  REQUIRE_FALSE(lua.pcall(0, 1).has_value());
  CHECK(lua_objlen(L, -1) == 1000);
  lua_pop(L, 1);
}
