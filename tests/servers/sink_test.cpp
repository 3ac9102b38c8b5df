// The ETL sinks against real servers: Redis (SET, aggregates applied once per
// transaction by a Lua script) and PostgreSQL (normalized BigPetStore tables),
// including redelivery of a batch and writes while the server is down.
#include <doctest/doctest.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "drivers/postgres/PostgresSink.h"
#include "drivers/redis/RedisSink.h"
#include "targets/PostgresServer.h"
#include "targets/RedisServer.h"

using namespace kapture;
using json = nlohmann::json;

namespace {

using Sales = std::map<std::string, std::map<std::string, int64_t>>;

// Concatenation by += (GCC 12 warns falsely on "literal" + std::string&&).
template <typename... Parts>
std::string cat(const Parts&... parts) {
  std::string s;
  ((s += parts), ...);
  return s;
}

json location(const std::string& zip, const std::string& city, const std::string& state, const std::string& code,
              double lat, double lon) {
  return json{{"zipcode", zip},
              {"city", city},
              {"state", state},
              {"state_code", code},
              {"coordinates", {{"lat", lat}, {"lon", lon}}}};
}

json product(const std::string& category, const std::string& brand, const std::string& size, double price, int qty) {
  return json{{"category", category}, {"brand", brand}, {"size", size}, {"price", price}, {"quantity", qty}};
}

SinkRecord record(const std::string& id, int64_t created_ms, const std::string& date_time, int store_id,
                  const json& store_loc, int customer_id, const json& customer_loc, const json& products, double total) {
  SinkRecord r;
  r.id = id;
  r.created_ms = created_ms;
  r.doc = json{{"id", id},
               {"created_ms", created_ms},
               {"dateTime", date_time},
               {"store", {{"id", store_id}, {"name", cat("Store_", std::to_string(store_id))}, {"location", store_loc}}},
               {"customer", {{"id", customer_id}, {"name", cat("Customer ", std::to_string(customer_id))}, {"location", customer_loc}}},
               {"products", products},
               {"total", total}};
  r.json = r.doc.dump();
  return r;
}

// Four transactions in three states. Store 3 and its customer share a zipcode
// and store 1 appears twice: the sinks deduplicate within a batch.
std::vector<SinkRecord> sample_batch() {
  json boston = location("02108", "Boston", "massachusetts", "MA", 42.3601, -71.0589);
  json boston2 = location("02110", "Boston", "massachusetts", "MA", 42.3571, -71.0511);
  json cambridge = location("02139", "Cambridge", "massachusetts", "MA", 42.3646, -71.1028);
  json la = location("90053", "Los Angeles", "california", "CA", 34.0949, -118.2351);
  json la2 = location("90064", "Los Angeles", "california", "CA", 34.0683, -118.1498);
  json houston = location("77002", "Houston", "texas", "TX", 29.7604, -95.3698);
  return {
      record("tx-1", 1735689600000, "2025-01-01T00:00:00.000Z", 1, boston, 101, boston2,
             json::array({product("dry dog food", "Happy Pup", "15 lb", 10.99, 2),
                          product("kitty litter", "Clump King", "10 lb", 5.99, 1)}),
             27.97),
      record("tx-2", 1735689601000, "2025-01-01T00:00:01.000Z", 1, boston, 102, cambridge,
             json::array({product("dry dog food", "Happy Pup", "15 lb", 10.99, 3)}), 32.97),
      record("tx-3", 1735689602500, "2025-01-01T00:00:02.500Z", 2, la, 201, la2,
             json::array({product("poop bags", "Tail Wag", "60 bags", 3.99, 1),
                          product("dry cat food", "Purr Plate", "3.5 lb", 7.49, 2),
                          product("dry dog food", "Dog Days", "4.5 lb", 10.99, 1)}),
             29.96),
      record("tx-4", 1735689603000, "2025-01-01T00:00:03.000Z", 3, houston, 301, houston,
             json::array({product("kitty litter", "Fresh Paws", "10 lb", 5.99, 3)}), 17.97),
  };
}

// The sums of sample_batch(), by hand.
Sales sample_sales() {
  return {
      {"massachusetts", {{"dry dog food", 5}, {"kitty litter", 1}}},
      {"california", {{"poop bags", 1}, {"dry cat food", 2}, {"dry dog food", 1}}},
      {"texas", {{"kitty litter", 3}}},
  };
}

SinkRecord extra_record(const std::string& id) {
  json austin = location("78701", "Austin", "texas", "TX", 30.2672, -97.7431);
  return record(id, 1735689700000, "2025-01-01T00:01:40.000Z", 4, austin, 401, austin,
                json::array({product("dry cat food", "Kitty Cuisine", "7 lb", 15.49, 2)}), 30.98);
}

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

RedisSinkOptions redis_options(const RedisServer& server) {
  auto o = parse_redis_url(server.url());
  REQUIRE(o);
  return *o;
}

// A value of `command()` as text (bulk strings and statuses are strings).
std::string text(const Result<json>& r) {
  REQUIRE_MESSAGE(r, (r ? "" : r.error().message));
  return r->is_string() ? r->get<std::string>() : r->dump();
}

}  // namespace

// --- parse_redis_url ---------------------------------------------------------

TEST_CASE("parse_redis_url: host, port, db, password and user") {
  auto a = parse_redis_url("redis://127.0.0.1:6390/2");
  REQUIRE(a);
  CHECK(a->host == "127.0.0.1");
  CHECK(a->port == 6390);
  CHECK(a->db == 2);
  CHECK(a->password.empty());
  CHECK(a->username.empty());

  auto b = parse_redis_url("redis://cache.internal");
  REQUIRE(b);
  CHECK(b->host == "cache.internal");
  CHECK(b->port == 6379);
  CHECK(b->db == 0);

  auto c = parse_redis_url("redis://:s3cret@localhost:7000");
  REQUIRE(c);
  CHECK(c->host == "localhost");
  CHECK(c->port == 7000);
  CHECK(c->password == "s3cret");
  CHECK(c->username.empty());

  auto d = parse_redis_url("redis://app:p%40ss@10.0.0.5:6380/15");
  REQUIRE(d);
  CHECK(d->username == "app");
  CHECK(d->password == "p@ss");
  CHECK(d->host == "10.0.0.5");
  CHECK(d->port == 6380);
  CHECK(d->db == 15);

  auto e = parse_redis_url("redis://[::1]:6390/");
  REQUIRE(e);
  CHECK(e->host == "::1");
  CHECK(e->port == 6390);
  CHECK(e->db == 0);

  // Everything else keeps its default.
  CHECK(d->set);
  CHECK(d->key_template == "tx:{id}");
  CHECK_FALSE(d->sales_by_state);
}

TEST_CASE("parse_redis_url: bad URLs are usage errors with the reason, never showing the password") {
  struct Bad {
    const char* url;
    const char* reason;
  };
  for (const Bad& bad : {Bad{"http://localhost:6379", "expected redis://"}, Bad{"rediss://localhost", "TLS"},
                         Bad{"redis://", "no host"}, Bad{"redis://:6379", "no host"},
                         Bad{"redis://localhost:port", "port 'port' is not a number"},
                         Bad{"redis://localhost:70000", "out of range"}, Bad{"redis://localhost:", "empty port"},
                         Bad{"redis://localhost:6379/one", "database 'one' is not a number"},
                         Bad{"redis://localhost:6379/-1", "is not a number"},
                         Bad{"redis://localhost:6379/0?timeout=5", "query parameters"},
                         Bad{"redis://s3cret@localhost:6379", "':password@'"},
                         Bad{"redis://:s3cret@localhost:bad", "is not a number"},
                         Bad{"rediss://app:s3cret@localhost", "TLS"}, Bad{"redis://app:s3cret@", "no host"}}) {
    CAPTURE(bad.url);
    auto r = parse_redis_url(bad.url);
    REQUIRE_FALSE(r);
    CHECK(r.error().kind == ErrorKind::Usage);
    CHECK_MESSAGE(contains(r.error().message, bad.reason), r.error().message);
    CHECK_FALSE(contains(r.error().message, "s3cret"));
  }
}

// --- RedisSink ---------------------------------------------------------------

TEST_CASE("RedisSink: set mode writes every record under its key, with the TTL") {
  RedisServer server;
  REQUIRE_FALSE(server.start());
  RedisSinkOptions o = redis_options(server);
  o.ttl_s = 120;
  RedisSink sink(o);
  CHECK(sink.name() == "redis");
  CHECK(sink.endpoint() == cat("127.0.0.1:", std::to_string(server.port()), "/0"));
  REQUIRE_FALSE(sink.connect());
  REQUIRE_FALSE(sink.prepare());

  auto batch = sample_batch();
  auto w = sink.write(batch);
  REQUIRE_MESSAGE(w, (w ? "" : w.error().message));
  CHECK(w->written == 4);
  CHECK(w->redelivered == 0);  // SET alone cannot tell

  for (const auto& r : batch) {
    CAPTURE(r.id);
    CHECK(text(sink.command({"GET", "tx:" + r.id})) == r.json);
    auto ttl = sink.command({"TTL", "tx:" + r.id});
    REQUIRE(ttl);
    REQUIRE(ttl->is_number_integer());
    CHECK(ttl->get<int64_t>() > 0);
    CHECK(ttl->get<int64_t>() <= 120);
  }
  auto n = sink.count_set_keys();
  REQUIRE(n);
  CHECK(*n == 4);
  // Set mode alone writes no aggregates.
  CHECK(text(sink.command({"EXISTS", "seen:tx-1"})) == "0");

  // A template reading nested fields; without a TTL the keys do not expire.
  RedisSinkOptions by_state = redis_options(server);
  by_state.key_template = "last:{store.location.state}:{store.id}";
  RedisSink sink2(by_state);
  REQUIRE_FALSE(sink2.connect());
  REQUIRE(sink2.write(batch));
  CHECK(text(sink2.command({"GET", "last:massachusetts:1"})) == batch[1].json);  // the later record wins
  CHECK(text(sink2.command({"TTL", "last:texas:3"})) == "-1");
  auto n2 = sink2.count_set_keys();
  REQUIRE(n2);
  CHECK(*n2 == 3);

  // A record without the template's field is an error, and nothing is written.
  RedisSinkOptions missing = redis_options(server);
  missing.key_template = "x:{store.region}";
  RedisSink sink3(missing);
  REQUIRE_FALSE(sink3.connect());
  auto bad = sink3.write(batch);
  REQUIRE_FALSE(bad);
  CHECK(bad.error().kind == ErrorKind::Runtime);
  CHECK_MESSAGE(contains(bad.error().message, "store.region"), bad.error().message);
  CHECK(*sink3.count_set_keys() == 0);
}

TEST_CASE("RedisSink: aggregates are applied once per transaction") {
  RedisServer server;
  REQUIRE_FALSE(server.start());
  RedisSinkOptions o = redis_options(server);
  o.set = false;
  o.sales_by_state = true;
  o.store_counters = true;
  RedisSink sink(o);
  REQUIRE_FALSE(sink.connect());
  REQUIRE_FALSE(sink.prepare());
  REQUIRE_FALSE(sink.prepare());  // idempotent

  auto batch = sample_batch();
  auto w = sink.write(batch);
  REQUIRE_MESSAGE(w, (w ? "" : w.error().message));
  CHECK(w->written == 4);
  CHECK(w->redelivered == 0);

  auto sales = sink.sales_by_state();
  REQUIRE(sales);
  CHECK(*sales == sample_sales());
  CHECK(text(sink.command({"HGET", "store:1", "transactions"})) == "2");
  CHECK(std::stod(text(sink.command({"HGET", "store:1", "revenue"}))) == doctest::Approx(60.94));
  CHECK(text(sink.command({"HGET", "store:3", "transactions"})) == "1");
  CHECK(std::stod(text(sink.command({"HGET", "store:3", "revenue"}))) == doctest::Approx(17.97));
  CHECK(text(sink.command({"EXISTS", "tx:tx-1"})) == "0");  // no SET without set mode

  // The same batch again (a redelivery after a crash): nothing changes.
  auto again = sink.write(batch);
  REQUIRE(again);
  CHECK(again->written == 0);
  CHECK(again->redelivered == 4);
  CHECK(*sink.sales_by_state() == sample_sales());
  CHECK(text(sink.command({"HGET", "store:1", "transactions"})) == "2");

  // Half old, half new.
  auto mixed = sink.write({batch[0], extra_record("tx-5")});
  REQUIRE(mixed);
  CHECK(mixed->written == 1);
  CHECK(mixed->redelivered == 1);
  Sales expected = sample_sales();
  expected["texas"]["dry cat food"] += 2;
  CHECK(*sink.sales_by_state() == expected);
  CHECK(text(sink.command({"HGET", "store:4", "transactions"})) == "1");

  // The script flushed from the server (as after a restart without
  // persistence): write() loads it again and retries.
  CHECK(text(sink.command({"SCRIPT", "FLUSH"})) == "OK");
  auto after_flush = sink.write({extra_record("tx-6"), batch[1]});
  REQUIRE_MESSAGE(after_flush, (after_flush ? "" : after_flush.error().message));
  CHECK(after_flush->written == 1);
  CHECK(after_flush->redelivered == 1);
  expected["texas"]["dry cat food"] += 2;
  CHECK(*sink.sales_by_state() == expected);

  // Set mode and aggregates together.
  RedisSinkOptions both = redis_options(server);
  both.sales_by_state = true;
  RedisSink sink2(both);
  REQUIRE_FALSE(sink2.connect());
  REQUIRE_FALSE(sink2.prepare());
  auto w2 = sink2.write({extra_record("tx-7"), batch[2]});
  REQUIRE(w2);
  CHECK(w2->written == 1);
  CHECK(w2->redelivered == 1);
  CHECK(text(sink2.command({"EXISTS", "tx:tx-7"})) == "1");
  CHECK(text(sink2.command({"EXISTS", "tx:tx-3"})) == "1");
  CHECK(*sink2.count_set_keys() == 2);

  // An error reply (a key of the wrong type) fails the batch.
  REQUIRE(sink.command({"SET", "sales:oregon", "not a hash"}));
  SinkRecord oregon = extra_record("tx-8");
  oregon.doc["store"]["location"]["state"] = "oregon";
  oregon.json = oregon.doc.dump();
  auto wrong = sink.write({oregon});
  REQUIRE_FALSE(wrong);
  CHECK(wrong.error().kind == ErrorKind::Runtime);
  CHECK_MESSAGE(contains(wrong.error().message, "WRONGTYPE"), wrong.error().message);
  CHECK_MESSAGE(contains(wrong.error().message, sink.endpoint()), wrong.error().message);
}

TEST_CASE("RedisSink: a write while the server is down is unreachable; after restart and connect() it succeeds") {
  RedisServer server;
  REQUIRE_FALSE(server.start());
  RedisSinkOptions o = redis_options(server);
  o.sales_by_state = true;
  o.store_counters = true;
  RedisSink sink(o);
  REQUIRE_FALSE(sink.connect());
  REQUIRE_FALSE(sink.prepare());
  auto batch = sample_batch();
  REQUIRE(sink.write({batch[0], batch[1]}));

  REQUIRE_FALSE(server.kill_hard());
  auto down = sink.write(batch);
  REQUIRE_FALSE(down);
  CHECK(down.error().kind == ErrorKind::Unreachable);
  CHECK_MESSAGE(contains(down.error().message, sink.endpoint()), down.error().message);
  auto reconnect = sink.connect();
  REQUIRE(reconnect);
  CHECK(reconnect->kind == ErrorKind::Unreachable);
  CHECK_MESSAGE(contains(reconnect->message, sink.endpoint()), reconnect->message);

  REQUIRE_FALSE(server.restart());
  REQUIRE_FALSE(sink.connect());
  auto up = sink.write(batch);
  REQUIRE_MESSAGE(up, (up ? "" : up.error().message));
  // The first two survived the kill (append-only file, fsync always).
  CHECK(up->written == 2);
  CHECK(up->redelivered == 2);
  CHECK(*sink.sales_by_state() == sample_sales());
  CHECK(*sink.count_set_keys() == 4);
}

TEST_CASE("RedisSink: a paused server makes write() time out as unreachable; after resume it succeeds") {
  RedisServer server;
  REQUIRE_FALSE(server.start());
  RedisSinkOptions o = redis_options(server);
  o.sales_by_state = true;
  o.timeout_ms = 500;
  RedisSink sink(o);
  REQUIRE_FALSE(sink.connect());
  REQUIRE_FALSE(sink.prepare());
  auto batch = sample_batch();

  REQUIRE_FALSE(server.pause());
  auto t0 = std::chrono::steady_clock::now();
  auto paused = sink.write(batch);
  auto took = std::chrono::steady_clock::now() - t0;
  REQUIRE_FALSE(server.resume());
  REQUIRE_FALSE(paused);
  CHECK(paused.error().kind == ErrorKind::Unreachable);
  CHECK_MESSAGE(contains(paused.error().message, sink.endpoint()), paused.error().message);
  CHECK(took < std::chrono::seconds(5));

  REQUIRE_FALSE(sink.connect());
  auto w = sink.write(batch);
  REQUIRE_MESSAGE(w, (w ? "" : w.error().message));
  // The paused server may have run the scripts after all once resumed.
  CHECK(w->written + w->redelivered == 4);
  CHECK(*sink.sales_by_state() == sample_sales());
}

TEST_CASE("RedisSink: connect() to a closed port and a wrong password are unreachable errors naming the endpoint") {
  RedisServer server;
  REQUIRE_FALSE(server.start());
  RedisSinkOptions o = redis_options(server);
  o.password = "wrong-password";
  RedisSink sink(o);
  auto err = sink.connect();
  REQUIRE(err);
  CHECK(err->kind == ErrorKind::Unreachable);
  CHECK_MESSAGE(contains(err->message, sink.endpoint()), err->message);
  CHECK_FALSE(contains(err->message, "wrong-password"));

  RedisSinkOptions closed_options = redis_options(server);
  server.stop();
  RedisSink closed(closed_options);
  auto err2 = closed.connect();
  REQUIRE(err2);
  CHECK(err2->kind == ErrorKind::Unreachable);
  CHECK_MESSAGE(contains(err2->message, closed.endpoint()), err2->message);
}

TEST_CASE("RedisSink: command() converts replies to JSON") {
  RedisServer server;
  REQUIRE_FALSE(server.start());
  RedisSink sink(redis_options(server));
  REQUIRE_FALSE(sink.connect());

  CHECK(*sink.command({"PING"}) == json("PONG"));              // status
  CHECK(*sink.command({"SET", "k", "v"}) == json("OK"));        // status
  CHECK(*sink.command({"GET", "k"}) == json("v"));              // bulk string
  CHECK(*sink.command({"GET", "missing"}) == json(nullptr));    // nil
  CHECK(*sink.command({"INCRBY", "n", "41"}) == json(41));      // integer
  CHECK(*sink.command({"RPUSH", "l", "a", "b", "c"}) == json(3));
  CHECK(*sink.command({"LRANGE", "l", "0", "-1"}) == json::array({"a", "b", "c"}));
  CHECK(*sink.command({"HSET", "h", "f", "1"}) == json(1));
  CHECK(*sink.command({"HGETALL", "h"}) == json::array({"f", "1"}));
  CHECK(*sink.command({"SET", "bin", std::string("a\0b", 3)}) == json("OK"));
  CHECK(*sink.command({"STRLEN", "bin"}) == json(3));
  CHECK(*sink.command({"EVAL", "return {1, 'x', {2}}", "0"}) == json::array({1, "x", json::array({2})}));

  auto err = sink.command({"NOSUCHCOMMAND", "x"});
  REQUIRE_FALSE(err);
  CHECK(err.error().kind == ErrorKind::Runtime);
  CHECK_MESSAGE(contains(err.error().message, "unknown command"), err.error().message);
  auto wrong = sink.command({"LPUSH", "k", "x"});
  REQUIRE_FALSE(wrong);
  CHECK(contains(wrong.error().message, "WRONGTYPE"));
  CHECK(*sink.command({"GET", "k"}) == json("v"));  // the connection survives error replies

  auto empty = sink.command({});
  REQUIRE_FALSE(empty);
  CHECK(empty.error().kind == ErrorKind::Usage);

  // The database from the URL is selected.
  RedisSinkOptions db3 = redis_options(server);
  db3.db = 3;
  RedisSink sink3(db3);
  REQUIRE_FALSE(sink3.connect());
  CHECK(*sink3.command({"GET", "k"}) == json(nullptr));
  REQUIRE(sink3.command({"SET", "k", "three"}));
  CHECK(*sink.command({"GET", "k"}) == json("v"));
  CHECK(sink3.endpoint() == cat("127.0.0.1:", std::to_string(server.port()), "/3"));
}

// --- PostgresSink ------------------------------------------------------------

namespace {

int64_t count_rows(PostgresSink& sink, const std::string& table) {
  auto r = sink.query("SELECT count(*) AS n FROM " + table);
  REQUIRE_MESSAGE(r, (r ? "" : r.error().message));
  REQUIRE(r->size() == 1);
  return (*r)[0]["n"].get<int64_t>();
}

std::map<std::string, int64_t> table_counts(PostgresSink& sink) {
  std::map<std::string, int64_t> out;
  for (const char* t : {"location", "store", "customer", "transaction", "transaction_product"}) out[t] = count_rows(sink, t);
  return out;
}

}  // namespace

TEST_CASE("PostgresSink: normalized rows, idempotent redelivery, sales by state, read-only queries") {
  PostgresServer server;
  REQUIRE_FALSE(server.start());
  PostgresSinkOptions o;
  o.url = server.url();
  o.run_id = "run-1";
  PostgresSink sink(o);
  CHECK(sink.name() == "postgres");
  CHECK(sink.endpoint() == cat("127.0.0.1:", std::to_string(server.port()), "/kapture"));
  REQUIRE_FALSE(sink.connect());
  auto p1 = sink.prepare();
  REQUIRE_MESSAGE(!p1, (p1 ? p1->message : ""));
  REQUIRE_FALSE(sink.prepare());  // twice is fine

  auto batch = sample_batch();
  auto w = sink.write(batch);
  REQUIRE_MESSAGE(w, (w ? "" : w.error().message));
  CHECK(w->written == 4);
  CHECK(w->redelivered == 0);

  const std::map<std::string, int64_t> expected_counts = {
      {"location", 6}, {"store", 3}, {"customer", 4}, {"transaction", 4}, {"transaction_product", 7}};
  CHECK(table_counts(sink) == expected_counts);

  // Column values.
  auto tx = sink.query(
      "SELECT id, store_id, customer_id, created_ms, total, run_id, "
      "date_time = '2025-01-01T00:00:02.5Z'::timestamptz AS time_ok FROM transaction WHERE id = 'tx-3'");
  REQUIRE_MESSAGE(tx, (tx ? "" : tx.error().message));
  REQUIRE(tx->size() == 1);
  CHECK((*tx)[0] == json{{"id", "tx-3"},
                         {"store_id", 2},
                         {"customer_id", 201},
                         {"created_ms", 1735689602500},
                         {"total", "29.96"},
                         {"run_id", "run-1"},
                         {"time_ok", true}});
  auto lines = sink.query(
      "SELECT line, category, brand, size, price, quantity FROM transaction_product "
      "WHERE transaction_id = 'tx-3' ORDER BY line");
  REQUIRE(lines);
  REQUIRE(lines->size() == 3);
  CHECK((*lines)[0] == json{{"line", 1}, {"category", "poop bags"}, {"brand", "Tail Wag"}, {"size", "60 bags"},
                            {"price", "3.99"}, {"quantity", 1}});
  CHECK((*lines)[2]["category"] == "dry dog food");
  auto loc = sink.query(
      "SELECT l.city, l.state, l.state_code, l.lat, l.lon FROM store s JOIN location l USING (zipcode) WHERE s.id = 2");
  REQUIRE(loc);
  REQUIRE(loc->size() == 1);
  CHECK((*loc)[0]["city"] == "Los Angeles");
  CHECK((*loc)[0]["state_code"] == "CA");
  CHECK((*loc)[0]["lat"].get<double>() == doctest::Approx(34.0949));
  auto cust = sink.query("SELECT name, zipcode FROM customer WHERE id = 102");
  REQUIRE(cust);
  CHECK(*cust == json::array({json{{"name", "Customer 102"}, {"zipcode", "02139"}}}));

  // The same batch again: all redelivered, no new rows.
  auto again = sink.write(batch);
  REQUIRE(again);
  CHECK(again->written == 0);
  CHECK(again->redelivered == 4);
  CHECK(table_counts(sink) == expected_counts);

  // A batch with an old and a new transaction, the new one twice.
  auto mixed = sink.write({batch[0], extra_record("tx-5"), extra_record("tx-5")});
  REQUIRE(mixed);
  CHECK(mixed->written == 1);
  CHECK(mixed->redelivered == 2);
  CHECK(count_rows(sink, "transaction") == 5);
  CHECK(count_rows(sink, "transaction_product") == 8);
  CHECK(count_rows(sink, "location") == 7);

  Sales expected = sample_sales();
  expected["texas"]["dry cat food"] += 2;
  auto sales = sink.sales_by_state();
  REQUIRE_MESSAGE(sales, (sales ? "" : sales.error().message));
  CHECK(*sales == expected);

  StoredIds ids(1000);
  auto ids_err = sink.transaction_ids(ids);
  REQUIRE_MESSAGE(!ids_err, (ids_err ? ids_err->message : ""));
  CHECK(ids.distinct() == 5);
  CHECK(ids.rows() == 5);
  for (const char* id : {"tx-1", "tx-2", "tx-3", "tx-4", "tx-5"}) CHECK(ids.times(id) == 1);

  // query() is read-only: it refuses writes, also when smuggled after a COMMIT.
  auto insert = sink.query("INSERT INTO location (zipcode) VALUES ('00000')");
  REQUIRE_FALSE(insert);
  CHECK(insert.error().kind == ErrorKind::Runtime);
  CHECK_MESSAGE(contains(insert.error().message, "read-only"), insert.error().message);
  auto smuggled = sink.query("COMMIT; INSERT INTO location (zipcode) VALUES ('00000')");
  REQUIRE_FALSE(smuggled);
  CHECK(count_rows(sink, "location") == 7);
  // Settings made by a query end with it: the sink's writes still find their tables.
  REQUIRE(sink.query("SET search_path TO nowhere"));
  CHECK(count_rows(sink, "location") == 7);
  auto syntax = sink.query("SELEC 1");
  REQUIRE_FALSE(syntax);
  CHECK(syntax.error().kind == ErrorKind::Runtime);
  CHECK_MESSAGE(contains(syntax.error().message, "syntax error"), syntax.error().message);
  auto nulls = sink.query("SELECT NULL AS a, 1.5::float8 AS b, 2::numeric AS c, 'x' AS d");
  REQUIRE(nulls);
  CHECK(*nulls == json::array({json{{"a", nullptr}, {"b", 1.5}, {"c", "2"}, {"d", "x"}}}));
  CHECK(*sink.query("SELECT 1 AS one WHERE false") == json::array());
  // The connection is still usable after those errors.
  CHECK(count_rows(sink, "store") == 4);

  // A record whose ids are not integers fails the whole batch, which writes nothing.
  SinkRecord odd = extra_record("tx-9");
  odd.doc["store"]["id"] = "not-a-number";
  auto bad = sink.write({extra_record("tx-10"), odd});
  REQUIRE_FALSE(bad);
  CHECK(bad.error().kind == ErrorKind::Runtime);
  CHECK_MESSAGE(contains(bad.error().message, "tx-9"), bad.error().message);
  CHECK(count_rows(sink, "transaction") == 5);
}

TEST_CASE("PostgresSink: a write while the server is down is unreachable, naming host:port/db without the password") {
  PostgresServer server;
  REQUIRE_FALSE(server.start());
  // Trust authentication ignores the password; it must still never show.
  PostgresSinkOptions o;
  o.url = cat("postgresql://kapture:s3cret-pw@127.0.0.1:", std::to_string(server.port()), "/kapture");
  o.run_id = "run-2";
  PostgresSink sink(o);
  const std::string endpoint = cat("127.0.0.1:", std::to_string(server.port()), "/kapture");
  CHECK(sink.endpoint() == endpoint);
  REQUIRE_FALSE(sink.connect());
  REQUIRE_FALSE(sink.prepare());
  auto batch = sample_batch();
  REQUIRE(sink.write({batch[0], batch[1]}));

  REQUIRE_FALSE(server.kill_hard());
  auto down = sink.write(batch);
  REQUIRE_FALSE(down);
  CHECK(down.error().kind == ErrorKind::Unreachable);
  CHECK_MESSAGE(contains(down.error().message, endpoint), down.error().message);
  CHECK_FALSE(contains(down.error().message, "s3cret-pw"));

  auto reconnect = sink.connect();
  REQUIRE(reconnect);
  CHECK(reconnect->kind == ErrorKind::Unreachable);
  CHECK_MESSAGE(contains(reconnect->message, endpoint), reconnect->message);
  CHECK_FALSE(contains(reconnect->message, "s3cret-pw"));
  auto query_down = sink.query("SELECT 1");
  REQUIRE_FALSE(query_down);
  CHECK(query_down.error().kind == ErrorKind::Unreachable);

  REQUIRE_FALSE(server.restart());
  REQUIRE_FALSE(sink.connect());
  auto up = sink.write(batch);
  REQUIRE_MESSAGE(up, (up ? "" : up.error().message));
  CHECK(up->written == 2);  // the first two were committed before the crash
  CHECK(up->redelivered == 2);
  CHECK(*sink.sales_by_state() == sample_sales());
  CHECK(count_rows(sink, "transaction_product") == 7);
}

TEST_CASE("PostgresSink: a paused server makes calls time out as unreachable; after resume they succeed") {
  PostgresServer server;
  REQUIRE_FALSE(server.start());
  PostgresSinkOptions o;
  o.url = server.url();
  o.timeout_ms = 1500;
  PostgresSink sink(o);
  REQUIRE_FALSE(sink.connect());
  REQUIRE_FALSE(sink.prepare());
  auto batch = sample_batch();
  REQUIRE(sink.write({batch[0]}));

  REQUIRE_FALSE(server.pause());
  auto t0 = std::chrono::steady_clock::now();
  auto paused = sink.write(batch);
  auto took = std::chrono::steady_clock::now() - t0;
  auto reconnect = sink.connect();  // connect_timeout (2 s, libpq's minimum)
  auto took_connect = std::chrono::steady_clock::now() - t0 - took;
  REQUIRE_FALSE(server.resume());

  REQUIRE_FALSE(paused);
  CHECK(paused.error().kind == ErrorKind::Unreachable);
  CHECK_MESSAGE(contains(paused.error().message, "no answer within 1500 ms"), paused.error().message);
  CHECK_MESSAGE(contains(paused.error().message, sink.endpoint()), paused.error().message);
  CHECK(took >= std::chrono::milliseconds(1400));
  CHECK(took < std::chrono::seconds(5));
  REQUIRE(reconnect);
  CHECK(reconnect->kind == ErrorKind::Unreachable);
  CHECK(took_connect < std::chrono::seconds(8));

  REQUIRE_FALSE(sink.connect());
  auto w = sink.write(batch);
  REQUIRE_MESSAGE(w, (w ? "" : w.error().message));
  CHECK(w->written == 3);  // the paused batch was rolled back
  CHECK(w->redelivered == 1);
  CHECK(*sink.sales_by_state() == sample_sales());
}

TEST_CASE("PostgresSink: connect() to a closed port is unreachable; errors never throw") {
  auto port = free_loopback_port();
  REQUIRE(port);
  PostgresSinkOptions o;
  o.url = cat("postgresql://kapture:pw123456@127.0.0.1:", std::to_string(*port), "/somedb");
  PostgresSink sink(o);
  CHECK(sink.endpoint() == cat("127.0.0.1:", std::to_string(*port), "/somedb"));
  auto err = sink.connect();
  REQUIRE(err);
  CHECK(err->kind == ErrorKind::Unreachable);
  CHECK_MESSAGE(contains(err->message, sink.endpoint()), err->message);
  CHECK_FALSE(contains(err->message, "pw123456"));
  // Not connected: every call returns an error value.
  CHECK(sink.prepare());
  CHECK_FALSE(sink.write(sample_batch()));
  StoredIds none(1000);
  CHECK(sink.transaction_ids(none));
  CHECK_FALSE(sink.sales_by_state());
  CHECK_FALSE(sink.query("SELECT 1"));

  // A URL libpq cannot parse.
  PostgresSinkOptions junk;
  junk.url = "postgresql://app:pw123456@[broken";
  PostgresSink broken(junk);
  auto err2 = broken.connect();
  REQUIRE(err2);
  CHECK(err2->kind == ErrorKind::Unreachable);
  CHECK_MESSAGE(contains(err2->message, "IPv6"), err2->message);  // libpq's reason
  CHECK_FALSE(contains(err2->message, "pw123456"));
  CHECK_FALSE(contains(broken.endpoint(), "pw123456"));

  // Key=value connection strings work for the endpoint too.
  PostgresSinkOptions kv;
  kv.url = "host=db.internal port=6543 dbname=shop user=app password=hunter2";
  CHECK(PostgresSink(kv).endpoint() == "db.internal:6543/shop");
}

// --- Both ----------------------------------------------------------------------

TEST_CASE("Redis and Postgres sinks agree on a large batch (pipelines, statements chunked by 1000 rows)") {
  // 2500 transactions over 40 stores in three states, 1-4 lines each.
  const char* states[] = {"massachusetts", "california", "texas"};
  const char* categories[] = {"dry dog food", "dry cat food", "kitty litter", "poop bags"};
  std::vector<SinkRecord> batch;
  Sales expected;
  for (int i = 0; i < 2500; ++i) {
    int store = 1 + i % 40;
    std::string state = states[store % 3];
    char zip[8];
    std::snprintf(zip, sizeof zip, "%05d", 10000 + store);
    json loc = location(zip, cat("City ", std::to_string(store)), state, "XX", 40.0 + store * 0.01, -100.0);
    char czip[8];
    std::snprintf(czip, sizeof czip, "%05d", 20000 + i % 300);
    json cloc = location(czip, "Town", state, "XX", 41.0, -101.0);
    json products = json::array();
    int n = 1 + i % 4;
    for (int k = 0; k < n; ++k) {
      std::string cat = categories[(i + k) % 4];
      int qty = 1 + (i + k) % 3;
      products.push_back(product(cat, "Brand", "1 lb", 1.99, qty));
      expected[state][cat] += qty;
    }
    batch.push_back(record(cat("bulk-", std::to_string(i)), 1735689600000 + i, "2025-01-01T00:00:00.000Z", store, loc,
                           1000 + i % 300, cloc, products, 9.99));
  }

  RedisServer redis;
  REQUIRE_FALSE(redis.start());
  RedisSinkOptions ro = redis_options(redis);
  ro.sales_by_state = true;
  ro.store_counters = true;
  RedisSink rsink(ro);
  REQUIRE_FALSE(rsink.connect());
  REQUIRE_FALSE(rsink.prepare());
  auto rw = rsink.write(batch);
  REQUIRE_MESSAGE(rw, (rw ? "" : rw.error().message));
  CHECK(rw->written == 2500);
  CHECK(*rsink.count_set_keys() == 2500);
  CHECK(*rsink.sales_by_state() == expected);
  auto rw2 = rsink.write(batch);
  REQUIRE(rw2);
  CHECK(rw2->redelivered == 2500);

  PostgresServer pg;
  REQUIRE_FALSE(pg.start());
  PostgresSinkOptions po;
  po.url = pg.url();
  PostgresSink psink(po);
  REQUIRE_FALSE(psink.connect());
  REQUIRE_FALSE(psink.prepare());
  auto pw = psink.write(batch);
  REQUIRE_MESSAGE(pw, (pw ? "" : pw.error().message));
  CHECK(pw->written == 2500);
  CHECK(count_rows(psink, "transaction") == 2500);
  CHECK(count_rows(psink, "store") == 40);
  CHECK(count_rows(psink, "customer") == 300);
  CHECK(count_rows(psink, "location") == 340);
  CHECK(count_rows(psink, "transaction_product") == 625 * (1 + 2 + 3 + 4));
  CHECK(*psink.sales_by_state() == expected);
  StoredIds ids(1u << 20);
  REQUIRE_FALSE(psink.transaction_ids(ids, 1000));  // three chunks
  CHECK(ids.distinct() == 2500);
  auto pw2 = psink.write(batch);
  REQUIRE(pw2);
  CHECK(pw2->redelivered == 2500);
}
