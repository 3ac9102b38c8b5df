// The http workload's scenario rules (every mistake as file:line:column) and
// its Lua request()/response() scripts, run in real sandboxed states.
#include <doctest/doctest.h>

#include <algorithm>
#include <string>

#include "loader_cases.h"
#include "scenario/ScenarioLoader.h"
#include "workloads/HttpScripts.h"

using namespace kapture;
using loader_test::all_errors;
using loader_test::expect_error;
using loader_test::kUnitDir;
using loader_test::load;

namespace {

const std::string kHttp =
    "name: h\n"                                               // 1
    "workloads:\n"                                            // 2
    "  api:\n"                                                // 3
    "    type: http\n"                                        // 4
    "    url: http://127.0.0.1:8080/items\n"                  // 5
    "    method: POST\n"                                      // 6
    "    headers: { X-Test: \"1\" }\n"                        // 7
    "    body: \"{}\"\n"                                      // 8
    "    http: \"2\"\n"                                       // 9
    "    connections: 4\n"                                    // 10
    "    timeout: 2s\n"                                       // 11
    "timeline:\n"                                             // 12
    "  - phase: steady\n"                                     // 13
    "    duration: 5s\n"                                      // 14
    "    load:\n"                                             // 15
    "      api: { rate: 200/s, arrivals: poisson }\n"         // 16
    "expect:\n"                                               // 17
    "  - count(http.status_5xx) == 0\n";                      // 18

std::string with(const std::string& from, const std::string& to, const std::string& base = kHttp) {
  return loader_test::with(from, to, base);
}

}  // namespace

TEST_CASE("http loader: a good workload") {
  LoadOutcome o = load(kHttp);
  INFO(all_errors(o));
  REQUIRE(o.scenario.has_value());
  const Scenario& s = *o.scenario;
  CHECK(s.workloads.empty());
  REQUIRE(s.https.size() == 1);
  const HttpWorkloadSpec& h = s.https[0];
  CHECK(h.name == "api");
  CHECK(h.where.line == 3);
  CHECK(h.url == "http://127.0.0.1:8080/items");
  CHECK(h.method == "POST");
  CHECK(h.headers.at("X-Test") == "1");
  CHECK(h.body == "{}");
  CHECK(h.http2);
  CHECK(h.connections == 4);
  CHECK(h.timeout_us == 2'000'000);
  CHECK_FALSE(h.insecure);
  CHECK_FALSE(h.closed.has_value());
  CHECK(h.threads == 1);
  CHECK(s.has_workload("api"));
  CHECK_FALSE(s.has_workload("apj"));
  REQUIRE(s.phases[0].loads.count("api") == 1);
  CHECK(s.phases[0].loads.at("api").rate == 200.0);
  CHECK(s.phases[0].loads.at("api").arrivals == Arrivals::Poisson);
}

TEST_CASE("http loader: defaults, closed loop, Lua and body_file") {
  std::string text =
      "name: h\n"
      "workloads:\n"
      "  ab:\n"
      "    type: http\n"
      "    url: https://example.test/\n"
      "    closed: { concurrency: 4, requests: 500 }\n"
      "    insecure: true\n"
      "    lua: { lua: fixtures/http_script.lua, params: { prefix: /x } }\n"
      "    response: { lua: fixtures/http_script.lua }\n"
      "  file:\n"
      "    type: http\n"
      "    url: http://127.0.0.1:1/\n"
      "    method: PUT\n"
      "    body_file: fixtures/http_script.lua\n"
      "    threads: 2\n"
      "timeline:\n"
      "  - phase: only\n"
      "    duration: 1s\n";
  LoadOutcome o = load(text);
  INFO(all_errors(o));
  REQUIRE(o.scenario.has_value());
  const Scenario& s = *o.scenario;
  REQUIRE(s.https.size() == 2);
  const HttpWorkloadSpec& ab = s.https[0];
  CHECK(ab.method == "GET");
  CHECK(ab.connections == 16);
  CHECK(ab.timeout_us == 10'000'000);
  CHECK_FALSE(ab.http2);
  CHECK(ab.insecure);
  REQUIRE(ab.closed.has_value());
  CHECK(ab.closed->concurrency == 4);
  CHECK(ab.closed->requests == 500);
  REQUIRE(ab.request.has_value());
  CHECK(ab.request->function == "request");
  CHECK(ab.request->params["prefix"] == "/x");
  REQUIRE(ab.response.has_value());
  CHECK(ab.response->function == "response");
  const HttpWorkloadSpec& f = s.https[1];
  CHECK(f.method == "PUT");
  CHECK(f.threads == 2);
  CHECK(f.body.find("function request(seq, now_ms)") != std::string::npos);
  CHECK(s.has_workload("ab"));
  CHECK(s.has_workload("file"));
}

TEST_CASE("http loader: mistakes, with line and column") {
  SUBCASE("unknown key, with did-you-mean") {
    expect_error(with("    connections: 4\n", "    conections: 4\n"), "bad.yaml:10:5: ",
                 "unknown key 'conections' in workload 'api' (did you mean 'connections'?)");
  }
  SUBCASE("unknown type names http") {
    expect_error(with("    type: http\n", "    type: htp\n"), "bad.yaml:4:11: ", "unknown workload type 'htp' (did you mean 'http'?)");
  }
  SUBCASE("url scheme") {
    expect_error(with("http://127.0.0.1:8080/items", "ftp://127.0.0.1/items"), "bad.yaml:5:10: ", "url must start with http://, https:// or {webapp}");
  }
  SUBCASE("url without a host") {
    expect_error(with("http://127.0.0.1:8080/items", "http:///items"), "bad.yaml:5:10: ", "has no host");
  }
  SUBCASE("missing url") {
    expect_error(with("    url: http://127.0.0.1:8080/items\n", ""), "bad.yaml:4:5: ", "missing required key 'url' in http workload 'api'");
  }
  SUBCASE("method") {
    expect_error(with("method: POST", "method: PSOT"), "bad.yaml:6:13: ", "unknown method 'PSOT' (did you mean 'POST'?)");
  }
  SUBCASE("http version") {
    expect_error(with("http: \"2\"", "http: \"3\""), "bad.yaml:9:11: ", "unknown http version '3'");
  }
  SUBCASE("connections out of range") {
    expect_error(with("connections: 4", "connections: 0"), "bad.yaml:10:18: ", "connections must be between 1 and 10000");
  }
  SUBCASE("bad timeout") {
    expect_error(with("timeout: 2s", "timeout: 2 sec"), "bad.yaml:11:14: ", "bad duration '2 sec' for timeout");
  }
  SUBCASE("body and lua together") {
    expect_error(with("    body: \"{}\"\n", "    body: \"{}\"\n    lua: { lua: fixtures/http_script.lua }\n"), "bad.yaml:9:10: ",
                 "one of body, body_file, body_template or lua");
  }
  SUBCASE("body_file not found") {
    expect_error(with("    body: \"{}\"\n", "    body_file: nowhere.json\n"), "bad.yaml:8:16: ", "body_file 'nowhere.json' not found");
  }
  SUBCASE("Lua file not found") {
    expect_error(with("    body: \"{}\"\n", "    lua: { lua: nowhere.lua }\n"), "bad.yaml:8:17: ", "Lua file 'nowhere.lua' not found");
  }
  SUBCASE("unknown key in response") {
    expect_error(with("    body: \"{}\"\n", "    response: { lua: fixtures/http_script.lua, fn: x }\n"), "bad.yaml:8:48: ",
                 "unknown key 'fn' in response");
  }
  SUBCASE("closed loop keys") {
    expect_error(with("    timeout: 2s\n", "    timeout: 2s\n    closed: { concurency: 4, requests: 5 }\n"), "bad.yaml:12:15: ",
                 "unknown key 'concurency' in closed (did you mean 'concurrency'?)");
    expect_error(with("    timeout: 2s\n", "    timeout: 2s\n    closed: { concurrency: 4 }\n"), "bad.yaml:12:13: ",
                 "closed needs requests");
  }
  SUBCASE("a closed loop takes no load") {
    std::string t = with("    timeout: 2s\n", "    timeout: 2s\n    closed: { concurrency: 4, requests: 5 }\n");
    expect_error(t, "bad.yaml:17:7: ", "'api' is a closed-loop http workload");
  }
  SUBCASE("load names an unknown workload, with the http names as guesses") {
    expect_error(with("      api: {", "      apu: {"), "bad.yaml:16:7: ", "load names unknown workload 'apu' (did you mean 'api'?)");
  }
  SUBCASE("more threads than connections") {
    expect_error(with("    timeout: 2s\n", "    timeout: 2s\n    threads: 8\n"), "bad.yaml:12:14: ", "threads 8 is more than the 4 connections");
  }
  SUBCASE("unknown http metric in an expectation") {
    expect_error(with("count(http.status_5xx)", "count(http.status_5x)"), "bad.yaml:18:", "unknown metric 'http.status_5x'");
  }
}

TEST_CASE("http scripts: request() builds requests, response() checks replies") {
  GeneratorSpec g;
  g.lua_path = kUnitDir + "/fixtures/http_script.lua";
  g.display_path = "fixtures/http_script.lua";
  g.function = "request";
  g.params = {{"prefix", "/p"}};
  HttpWorkloadSpec spec;
  spec.url = "http://127.0.0.1:9/base?q=1";
  spec.method = "GET";
  spec.headers = {{"X-Fixed", "yes"}, {"X-Seq", "fixed"}};
  CHECK(url_origin(spec.url) == "http://127.0.0.1:9");
  CHECK(url_origin("https://h.example") == "https://h.example");

  auto s = HttpScript::create(g, {}, 1, 0, 1, "(seq, now_ms)");
  REQUIRE_MESSAGE(s.ok(), (s.ok() ? "" : s.error().describe()));
  HttpRequest req;
  REQUIRE_FALSE((*s)->build_request(4, 0, spec, url_origin(spec.url), req));
  CHECK(req.method == "POST");
  CHECK(req.url == "http://127.0.0.1:9/p/4");
  CHECK(req.body.find("\"seq\":4") != std::string::npos);
  CHECK(std::count(req.headers.begin(), req.headers.end(), "X-Seq: 4") == 1);  // Lua's header wins
  CHECK(std::count(req.headers.begin(), req.headers.end(), "X-Fixed: yes") == 1);
  CHECK(std::count(req.headers.begin(), req.headers.end(), "Content-Type: application/json") == 1);

  REQUIRE_FALSE((*s)->build_request(5, 0, spec, url_origin(spec.url), req));  // a string: the body
  CHECK(req.method == "GET");
  CHECK(req.url == spec.url);
  CHECK(req.body == "raw body 5");

  g.function = "response";
  auto r = HttpScript::create(g, {}, 1, 0, 1, "(status, headers, body)");
  REQUIRE(r.ok());
  auto ok = (*r)->check_response(200, {{"content-type", "text/plain"}}, "ok");
  REQUIRE(ok.ok());
  CHECK(ok->first);
  auto bad = (*r)->check_response(503, {}, "");
  REQUIRE(bad.ok());
  CHECK_FALSE(bad->first);
  CHECK(bad->second == "status 503");

  g.function = "bad_request";
  auto b = HttpScript::create(g, {}, 1, 0, 1, "(seq, now_ms)");
  REQUIRE(b.ok());
  auto err = (*b)->build_request(0, 0, spec, "http://127.0.0.1:9", req);
  REQUIRE(err.has_value());
  CHECK(err->describe().find("fixtures/http_script.lua") == 0);
  CHECK(err->describe().find("bad_request() must return a request table") != std::string::npos);

  g.function = "broken";
  auto br = HttpScript::create(g, {}, 1, 0, 1, "(seq, now_ms)");
  REQUIRE(br.ok());
  err = (*br)->build_request(0, 0, spec, "http://127.0.0.1:9", req);
  REQUIRE(err.has_value());
  INFO(err->describe());
  CHECK(err->where.line == 26);  // the script's own file:line

  g.function = "nothing_here";
  auto none = HttpScript::create(g, {}, 1, 0, 1, "(seq, now_ms)");
  REQUIRE_FALSE(none.ok());
  CHECK(none.error().describe().find("defines no function 'nothing_here'") != std::string::npos);
}
