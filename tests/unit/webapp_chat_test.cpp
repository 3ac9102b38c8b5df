// The chat pieces: body templates, the server-sent-event parser, and the
// scenario rules for topology.webapp, {webapp} urls and sse workloads.
#include <doctest/doctest.h>

#include <random>
#include <string>
#include <vector>

#include "drivers/http/EventStreamReader.h"
#include "loader_cases.h"
#include "scenario/BodyTemplate.h"

using namespace kapture;
using loader_test::all_errors;
using loader_test::expect_error;
using loader_test::load;

namespace {

std::string render(const std::string& text, BodyTemplateValues v, uint64_t seed = 1) {
  auto t = parse_body_template(text);
  REQUIRE_MESSAGE(static_cast<bool>(t), (t ? "" : t.error().message));
  std::mt19937_64 rng(seed);
  std::string out;
  render_body_template(*t, v, rng, out);
  return out;
}

std::string template_error(const std::string& text) {
  auto t = parse_body_template(text);
  REQUIRE_FALSE(static_cast<bool>(t));
  return t.error().message;
}

std::vector<ServerSentEvent> parse_in_pieces(const std::string& stream, size_t piece) {
  std::vector<ServerSentEvent> got;
  EventStreamParser p;
  for (size_t i = 0; i < stream.size(); i += piece) {
    std::string chunk = stream.substr(i, piece);
    p.feed(chunk.data(), chunk.size(), [&](const ServerSentEvent& e) { got.push_back(e); });
  }
  return got;
}

const std::string kChat =
    "name: chat\n"                                                       // 1
    "topology:\n"                                                        // 2
    "  kafka: { topics: [{ name: room }] }\n"                            // 3
    "  webapp: { acks: all }\n"                                          // 4
    "workloads:\n"                                                       // 5
    "  posts:\n"                                                         // 6
    "    type: http\n"                                                   // 7
    "    url: \"{webapp}/api/topics/room\"\n"                            // 8
    "    method: POST\n"                                                 // 9
    "    body_template: '{\"id\": ${seq}, \"sent_us\": ${now_us}}'\n"    // 10
    "  readers:\n"                                                       // 11
    "    type: sse\n"                                                    // 12
    "    url: \"{webapp}/api/topics/room?from=beginning\"\n"             // 13
    "    connections: 2\n"                                               // 14
    "    verifies: posts\n"                                              // 15
    "timeline:\n"                                                        // 16
    "  - phase: steady\n"                                                // 17
    "    duration: 5s\n"                                                 // 18
    "    load:\n"                                                        // 19
    "      posts: 20/s\n"                                                // 20
    "expect:\n"                                                          // 21
    "  - sse.lost == 0\n";                                               // 22

std::string with(const std::string& from, const std::string& to) { return loader_test::with(from, to, kChat); }

}  // namespace

TEST_CASE("body template: every placeholder, literal dollars") {
  BodyTemplateValues v{42, 1'700'000'000'123'456, 3};
  CHECK(render("{\"id\": ${seq}, \"ms\": ${now_ms}, \"us\": ${now_us}, \"w\": ${worker}}", v) ==
        "{\"id\": 42, \"ms\": 1700000000123, \"us\": 1700000000123456, \"w\": 3}");
  CHECK(render("price $$5 and $ alone, end $", v) == "price $5 and $ alone, end $");
  CHECK(render("no placeholders", v) == "no placeholders");
  std::string letters = render("${text:40}", v);
  CHECK(letters.size() == 40);
  CHECK(letters.find_first_not_of("abcdefghijklmnopqrstuvwxyz") == std::string::npos);
  for (int i = 0; i < 50; ++i) {
    int r = std::stoi(render("${rand:7}", v, static_cast<uint64_t>(i)));
    CHECK(r >= 0);
    CHECK(r < 7);
  }
  // Seeded: the same seed makes the same bodies.
  CHECK(render("${text:16}-${rand:1000}", v, 9) == render("${text:16}-${rand:1000}", v, 9));
  CHECK(render("${text:16}", v, 9) != render("${text:16}", v, 10));
}

TEST_CASE("body template: mistakes say what and where") {
  CHECK(template_error("ab ${seqq}") ==
        "unknown placeholder '${seqq}' (character 4); known: ${seq}, ${now_ms}, ${now_us}, ${worker}, ${rand:N}, ${text:N}");
  CHECK(template_error("${seq") == "'${' without a closing '}' (character 1)");
  CHECK(template_error("x${rand}") == "${rand:N} needs N, a whole number from 1 (character 2)");
  CHECK(template_error("${rand:0}") == "${rand:N} needs N, a whole number from 1 (character 1)");
  CHECK(template_error("${text:abc}") == "${text:N} needs N, a whole number from 1 to 1000000 (character 1)");
  CHECK(template_error("${seq:3}") == "${seq} takes no ':3' (character 1)");
}

TEST_CASE("event stream parser: events, multi-line data, comments, ids, any split") {
  const std::string stream =
      ": keep-alive\n\n"
      "id: 0:1\ndata: {\"id\": 1}\n\n"
      "id: 3:7\r\ndata: line one\r\ndata: line two\r\n\r\n"
      "data:no space\n\n"
      "event: ignored-field\nid: 5:9\ndata: \n\n";
  for (size_t piece : {1u, 2u, 3u, 7u, 1000u}) {
    INFO("piece size " << piece);
    auto got = parse_in_pieces(stream, piece);
    REQUIRE(got.size() == 4);
    CHECK(got[0].id == "0:1");
    CHECK(got[0].data == "{\"id\": 1}");
    CHECK(got[1].id == "3:7");
    CHECK(got[1].data == "line one\nline two");
    CHECK(got[2].id == "3:7");  // the last id stays until a new one comes
    CHECK(got[2].data == "no space");
    CHECK(got[3].id == "5:9");
    CHECK(got[3].data.empty());
  }
  // An event without its blank line is not complete yet.
  CHECK(parse_in_pieces("data: half\n", 4).empty());
}

TEST_CASE("chat loader: webapp, {webapp} urls, a body template and an sse reader") {
  LoadOutcome o = load(kChat);
  INFO(all_errors(o));
  REQUIRE(o.scenario.has_value());
  const Scenario& s = *o.scenario;
  CHECK(s.webapp.declared);
  CHECK(s.webapp.url.empty());
  CHECK(s.webapp.acks == "all");
  REQUIRE(s.https.size() == 1);
  CHECK(s.https[0].url == "{webapp}/api/topics/room");
  REQUIRE(s.https[0].body_template.has_value());
  CHECK(s.https[0].keep_acked_ids);  // an sse workload verifies it
  REQUIRE(s.sses.size() == 1);
  const SseWorkloadSpec& r = s.sses[0];
  CHECK(r.name == "readers");
  CHECK(r.connections == 2);
  CHECK(r.verifies == "posts");
  CHECK(r.id_field == "id");
  CHECK(r.sent_field == "sent_us");
  CHECK(r.sent_unit_us == 1);
  CHECK(s.has_workload("readers"));
}

TEST_CASE("chat loader: mistakes at their line and column") {
  expect_error(with("  webapp: { acks: all }\n", ""), "bad.yaml:7:10: ", "url uses {webapp}, but topology has no webapp");
  expect_error(with("  webapp: { acks: all }\n", "  webapp: { acks: most }\n"), "bad.yaml:4:19: ", "acks");
  expect_error(with("  webapp: { acks: all }\n", "  webapp: { url: ftp://x }\n"), "bad.yaml:4:18: ", "must start with http:// or https://");
  expect_error(with("  webapp: { acks: all }\n", "  webapp: { url: http://x:1, acks: \"1\" }\n"), "bad.yaml:4:36: ",
               "acks is for a webapp the engine starts");
  expect_error(with("    url: \"{webapp}/api/topics/room\"\n", "    url: \"{webapp}api\"\n"), "bad.yaml:8:10: ",
               "{webapp} is followed by a path");
  expect_error(with("${seq}", "${sequence}"), "bad.yaml:10:20: ", "body_template: unknown placeholder '${sequence}'");
  expect_error(with("    method: POST\n", "    method: POST\n    body: \"{}\"\n"), "bad.yaml:11:20: ",
               "one of body, body_file, body_template or lua");
  expect_error(with("    verifies: posts\n", "    verifies: post\n"), "bad.yaml:15:15: ",
               "verifies names 'post', which is not an http workload (did you mean 'posts'?)");
  expect_error(with("    connections: 2\n", "    connections: 0\n"), "bad.yaml:14:18: ", "connections");
  expect_error(with("    connections: 2\n", "    sent_unit: s\n"), "bad.yaml:14:16: ", "sent_unit");
  expect_error(with("    connections: 2\n", "    colour: red\n"), "bad.yaml:", "colour");
  expect_error(with("      posts: 20/s\n", "      posts: 20/s\n      readers: 5/s\n"), "bad.yaml:21:7: ",
               "'readers' is an sse workload: it reads whatever arrives and has no rate");
}
