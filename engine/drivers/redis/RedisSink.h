#pragma once
// Redis sink (hiredis, pipelined). Modes, any combination:
//  - set:            SET <key template> <json> [EX ttl]        (Kapture's redis-connector)
//  - sales_by_state: for each product line, HINCRBY sales:{store.location.state} {category} {quantity}
//  - store_counters: HINCRBY store:{store.id} transactions 1 and HINCRBYFLOAT store:{store.id} revenue {total}
// Aggregates are applied at most once per transaction id: a Lua script in
// Redis (EVALSHA) sets `seen:<id>` NX and applies the increments only if it
// was new, atomically, so redelivery after a crash does not double-count.
#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <hiredis/hiredis.h>

#include "drivers/Sink.h"
#include "scenario/Scenario.h"

namespace kapture {

struct RedisSinkOptions {
  std::string host = "127.0.0.1";
  int port = 6379;
  int db = 0;
  std::string username;           // Redis 6 ACL user (AUTH user password); empty: AUTH password
  std::string password;           // never logged
  bool set = true;
  std::string key_template = "tx:{id}";  // dotted fields of the record in braces
  int64_t ttl_s = 0;              // 0: no expiry
  bool sales_by_state = false;
  bool store_counters = false;
  int timeout_ms = 5000;          // connect and command timeout
};

// "redis://[[user]:password@]host[:port][/db]" -> options (other fields default).
Result<RedisSinkOptions> parse_redis_url(const std::string& url);

struct RedisContextDeleter {
  void operator()(redisContext* c) const { redisFree(c); }
};
using RedisContextPtr = std::unique_ptr<redisContext, RedisContextDeleter>;

class RedisSink : public Sink {
 public:
  explicit RedisSink(RedisSinkOptions options);
  std::string name() const override { return "redis"; }
  std::string endpoint() const override;
  Status connect() override;
  Status prepare() override;
  Result<SinkWriteResult> write(const std::vector<SinkRecord>& batch) override;

  // For the ledger: HGETALL of every sales:* hash -> state -> category -> quantity.
  Result<std::map<std::string, std::map<std::string, int64_t>>> sales_by_state();
  // For the ledger: number of keys matching the SET template's prefix (SCAN, not KEYS).
  Result<int64_t> count_set_keys();
  // Lua assertions: run one command, reply converted to JSON (nil -> null).
  Result<nlohmann::json> command(const std::vector<std::string>& argv);

 private:
  Status ensure_connected();
  Error io_error(const std::string& doing);              // drops the context
  Error reply_error(const std::string& doing, const std::string& message);  // drops the context
  Result<std::string> load_script();
  Result<std::vector<std::string>> scan(const std::string& pattern);
  Result<SinkWriteResult> write_set_only(const std::vector<SinkRecord>& batch);

  RedisSinkOptions options_;
  Result<FieldTemplate> key_;  // options_.key_template, parsed once
  RedisContextPtr ctx_;
  std::string script_sha_;
  std::string pipeline_;  // write_set_only's commands as RESP, reused between batches
  std::string key_text_;
};

}  // namespace kapture
