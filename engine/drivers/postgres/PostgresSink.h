#pragma once
// PostgreSQL sink (libpqxx): Kapture's normalized BigPetStore schema, created
// if missing:
//   location(zipcode PK, city, state, state_code, lat, lon)
//   store(id PK, name, zipcode -> location)
//   customer(id PK, name, zipcode -> location)
//   transaction(id TEXT PK, store_id -> store, customer_id -> customer, created_ms BIGINT,
//               date_time TIMESTAMPTZ, total NUMERIC(12,2), run_id TEXT)
//   transaction_product(transaction_id -> transaction, line INT, category, brand, size,
//               price NUMERIC(10,2), quantity INT, PRIMARY KEY (transaction_id, line))
// A batch is one database transaction of multi-row INSERT ... ON CONFLICT DO
// NOTHING statements; rows already present count as redelivered.
#include <map>
#include <memory>
#include <string>

#include <pqxx/pqxx>

#include "drivers/Sink.h"
#include "etl/StoredIds.h"

namespace kapture {

struct PostgresSinkOptions {
  std::string url;     // "postgresql://user[:password]@host:port/db" (libpq URI)
  std::string run_id;  // stored with each transaction row (which run wrote it)
  // Connect timeout (rounded up to whole seconds, at least 2: libpq's rule),
  // and the longest any one call (a batch, a query) may wait for the server:
  // past it the connection is shut down and the call fails as unreachable,
  // so a paused (SIGSTOP) server cannot block a writer forever. <= 0: 5000.
  int timeout_ms = 5000;
};

class PostgresSink : public Sink {
 public:
  explicit PostgresSink(PostgresSinkOptions options);
  ~PostgresSink() override;
  std::string name() const override { return "postgres"; }
  std::string endpoint() const override;  // host:port/db, no password
  Status connect() override;
  Status prepare() override;
  Result<SinkWriteResult> write(const std::vector<SinkRecord>& batch) override;

  // For the ledger: every transaction id in the table, with how many rows it has
  // (always 1 with the primary key; kept general for non-idempotent schemas),
  // added to `ids`. Read through a cursor, chunk_rows at a time.
  Status transaction_ids(StoredIds& ids, int chunk_rows = 50000);
  // For the ledger: SUM(quantity) by state (of the store) and category.
  Result<std::map<std::string, std::map<std::string, int64_t>>> sales_by_state();
  // Lua assertions: a read-only query, rows as JSON objects.
  Result<nlohmann::json> query(const std::string& sql);

 private:
  struct Watchdog;  // shuts the socket down when a call outlives timeout_ms
  Status ensure_connected();
  void drop_connection();
  // Runs f (which may throw anything) and turns exceptions into errors: a
  // lost connection is dropped and reported as unreachable.
  template <typename T, typename F>
  Result<T> guarded(const char* doing, F&& f);
  Error failure(const char* doing, const std::string& what, bool lost);
  int call_timeout_ms() const;
  void arm_watchdog();
  bool disarm_watchdog();  // true when the watchdog fired

  PostgresSinkOptions options_;
  std::unique_ptr<pqxx::connection> conn_;
  std::string endpoint_;  // host:port/db, parsed once from the URL
  std::string password_;  // scrubbed from messages
  std::string conninfo_;  // the URL plus connect_timeout
  std::unique_ptr<Watchdog> watchdog_;
  int watch_fd_ = -1;  // a dup of the connection's socket, for the watchdog
};

}  // namespace kapture
