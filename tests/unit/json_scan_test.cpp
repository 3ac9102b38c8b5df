#include <doctest/doctest.h>

#include "workloads/JsonTopLevelScan.h"

using namespace kapture;

TEST_CASE("json scan: top-level fields of a BigPetStore record, nested ones ignored") {
  std::string rec = R"({"created_ms":1735689600000,"customer":{"id":1474,"name":"Kevin"},"id":"tx-42-0","products":[{"id":"x"}],"total":173.05})";
  nlohmann::json out;
  REQUIRE(scan_top_level(rec, {"id", "created_ms", "total"}, out));
  CHECK(out["id"] == "tx-42-0");  // not customer.id
  CHECK(out["created_ms"] == 1735689600000LL);
  CHECK(out["total"].get<double>() == doctest::Approx(173.05));
  CHECK(out.size() == 3);
  // Agrees with a full parse on every field it returns.
  auto full = nlohmann::json::parse(rec);
  for (auto it = out.begin(); it != out.end(); ++it) CHECK(full[it.key()] == it.value());
}

TEST_CASE("json scan: what it cannot read cleanly goes to the full parser") {
  nlohmann::json out;
  CHECK_FALSE(scan_top_level("not json", {"id"}, out));
  CHECK_FALSE(scan_top_level(R"({"id":"tx-1")", {"id"}, out));              // truncated
  CHECK_FALSE(scan_top_level(R"({"id":"t\"x"})", {"id"}, out));             // escape in a wanted value
  CHECK_FALSE(scan_top_level(R"({"id":"x"} trailing)", {"id"}, out));        // text after the object
  CHECK_FALSE(scan_top_level(R"(["id","x"])", {"id"}, out));                 // not an object
  CHECK(scan_top_level(R"({"a":{"b":"}{"},"id":"ok"})", {"id"}, out));       // braces inside strings
  CHECK(out["id"] == "ok");
  CHECK(scan_top_level("{}", {"id"}, out));
  CHECK_FALSE(out.contains("id"));
}

TEST_CASE("json scan: views of the wanted fields, escapes and odd spacing") {
  std::vector<ScannedField> f;
  REQUIRE(scan_top_level(R"({ "a" : "x\\\"}" , "id" : "tx-1" ,"created_ms": 17 , "n":{"id":2}})", {"id", "created_ms", "n"}, f));
  CHECK(f[0].found);
  CHECK(f[0].is_string);
  CHECK(f[0].text == "tx-1");
  CHECK(f[1].found);
  CHECK_FALSE(f[1].is_string);
  CHECK(f[1].text == "17");
  CHECK_FALSE(f[2].found);  // an object is not a key's text
  // A backslash right before a quote that is itself escaped ("\\") ends the string.
  REQUIRE(scan_top_level(R"({"p":"a\\","id":"k"})", {"id"}, f));
  CHECK(f[0].text == "k");
  // An escape inside a wanted value sends the record to the full parser.
  CHECK_FALSE(scan_top_level(R"({"id":"a\nb"})", {"id"}, f));
  CHECK_FALSE(scan_top_level(R"({"id":"unterminated)", {"id"}, f));
  CHECK_FALSE(scan_top_level("{} x", {"id"}, f));
  // The last of duplicate keys wins, as in the full parse.
  REQUIRE(scan_top_level(R"({"id":"first","id":"second"})", {"id"}, f));
  CHECK(f[0].text == "second");
  CHECK(scanned_number("12") == 12);
  CHECK(scanned_number("1.5").get<double>() == doctest::Approx(1.5));
}

TEST_CASE("json scan: escaped quotes and brackets inside nested strings do not end them") {
  std::vector<ScannedField> f;
  std::string rec = R"({"n":{"a":"q\"}{[","b":["\\",{"c":"x\\\"]}"}]},"long":")" + std::string(300, 'z') + R"(\"","id":"k"})";
  REQUIRE(scan_top_level(rec, {"id"}, f));
  CHECK(f[0].found);
  CHECK(f[0].text == "k");
  CHECK(nlohmann::json::parse(rec)["id"] == "k");  // the full parser agrees
  // An unterminated string inside a nested object is not readable.
  CHECK_FALSE(scan_top_level(R"({"n":{"a":"never closed}},"id":"k"})", {"id"}, f));
}
