#include <doctest/doctest.h>

#include "common/Redact.h"
#include "scenario/SecurityNotes.h"

using namespace kapture;

TEST_CASE("secret names") {
  for (const char* n : {"sasl.password", "ssl.key.password", "ssl.key.pem", "sasl.jaas.config", "Authorization", "cookie", "X-Api-Key",
                        "client-key-data", "token", "sasl.oauthbearer.config", "aws_secret_access_key"})
    CHECK_MESSAGE(is_secret_name(n), n);
  for (const char* n : {"bootstrap.servers", "linger.ms", "acks", "Content-Type", "sasl.mechanisms", "ssl.ca.location"})
    CHECK_MESSAGE(!is_secret_name(n), n);
}

TEST_CASE("redact by shape: URL passwords, key=value, headers") {
  clear_registered_secrets();
  CHECK(redact("cannot connect to postgresql://kapture:hunter2pw@127.0.0.1:5432/db: refused") ==
        "cannot connect to postgresql://kapture:***@127.0.0.1:5432/db: refused");
  CHECK(redact("redis://:s3cr3t@localhost:6379/0") == "redis://:***@localhost:6379/0");
  CHECK(redact("http://host:80/path?user=a@b") == "http://host:80/path?user=a@b");  // '@' after the path: no userinfo
  CHECK(redact("host=db password=abc123 user=x") == "host=db password=*** user=x");
  CHECK(redact("password='two words' dbname=x") == "password='***' dbname=x");
  CHECK(redact("Kafka property sasl.password=topsecret: bad") == "Kafka property sasl.password=*** bad");  // a value ends at a space: passwords may hold colons
  CHECK(redact("GET /?token=abcd&x=1") == "GET /?token=***&x=1");
  CHECK(redact("Authorization: Bearer eyJhbGciOi\nHost: x") == "Authorization: ***\nHost: x");
  CHECK(redact("ledger.lost == 0 and rate >= 5") == "ledger.lost == 0 and rate >= 5");
  CHECK(redact("unexpected token: '}'") == "unexpected token: '}'");
}

TEST_CASE("redact by value: registered secrets anywhere") {
  clear_registered_secrets();
  register_secret_properties({{"sasl.password", "Zebra-Horse-42"}, {"sasl.username", "alice"}, {"Authorization", "Bearer tok-98765"}});
  register_url_secrets("postgresql://u:p%40ssw0rd@h/db");
  register_secret("ab");  // too short to register
  CHECK(redact("SASL authentication failed for Zebra-Horse-42") == "SASL authentication failed for ***");
  CHECK(redact("alice") == "alice");
  CHECK(redact("got tok-98765 back") == "got *** back");
  CHECK(redact("password p@ssw0rd was refused") == "password *** was refused");
  CHECK(redact("abc") == "abc");
  nlohmann::json j = {{"error", "auth Zebra-Horse-42"}, {"props", {{"ssl.key.pem", "-----BEGIN"}, {"acks", "all"}}}, {"n", 3}};
  nlohmann::json r = redact_json(j);
  CHECK(r["error"] == "auth ***");
  CHECK(r["props"]["ssl.key.pem"] == "***");
  CHECK(r["props"]["acks"] == "all");
  CHECK(r["n"] == 3);
  CHECK(redact_properties({{"sasl.password", "x"}, {"acks", "1"}}) == std::map<std::string, std::string>{{"acks", "1"}, {"sasl.password", "***"}});
  clear_registered_secrets();
}

TEST_CASE("security notes: TLS off and Lua opt-ins") {
  Scenario s;
  HttpWorkloadSpec h;
  h.name = "api";
  h.insecure = true;
  s.https.push_back(h);
  ProducerWorkloadSpec p;
  p.name = "tx";
  p.generator = GeneratorSpec{"/abs/gen.lua", "lua/gen.lua", "generate", {}};
  p.allow = {"os", "io"};
  p.properties = {{"enable.ssl.certificate.verification", "false"}};
  s.workloads.push_back(p);
  SecurityNotes n = security_notes(s, {{"ssl.endpoint.identification.algorithm", "none"}}, "postgresql://u@h/db?sslmode=require");
  int tls = 0, lua = 0;
  for (const auto& w : n.warnings) (w.kind == "tls_verification_off" ? tls : lua) += 1;
  CHECK(tls == 4);  // http insecure, producer property, --kafka-prop, sslmode=require
  CHECK(lua == 1);
  REQUIRE(n.lua_opt_ins.size() == 1);
  CHECK(n.lua_opt_ins[0].workload == "tx");
  CHECK(n.lua_opt_ins[0].scripts == std::vector<std::string>{"lua/gen.lua"});
  CHECK(n.to_json()["lua_opt_ins"][0]["allow"] == nlohmann::json({"os", "io"}));
  CHECK(security_notes(Scenario{}, {}, "").warnings.empty());
  CHECK(kafka_tls_warning({{"enable.ssl.certificate.verification", "true"}}, "x").empty());
}
