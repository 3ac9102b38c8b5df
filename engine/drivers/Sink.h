#pragma once
// What the ETL workload writes to. A sink takes a batch of transformed
// records and writes all of it or fails; writes are idempotent, so a batch
// redelivered after a failure does not double-count.
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/Error.h"

namespace kapture {

struct SinkRecord {
  std::string id;             // the transaction id (ledger id), e.g. "tx-42-17"
  int64_t created_ms = 0;     // the record's creation time (for end-to-end latency)
  nlohmann::json doc;         // the record after the transform
  std::string json;           // doc as JSON text (what `SET key json` stores)
};

struct SinkWriteResult {
  int64_t written = 0;      // records newly written
  int64_t redelivered = 0;  // records that were already there (idempotence at work)
};

class Sink {
 public:
  virtual ~Sink() = default;
  virtual std::string name() const = 0;      // "redis", "postgres"
  virtual std::string endpoint() const = 0;  // for messages, without credentials
  // (Re)connects. Errors are ErrorKind::Unreachable and name the endpoint.
  virtual Status connect() = 0;
  // Creates what the sink needs if missing (tables, scripts). Called after connect.
  virtual Status prepare() = 0;
  // Writes the whole batch or returns an error (the caller reconnects, backs
  // off and retries the same batch).
  virtual Result<SinkWriteResult> write(const std::vector<SinkRecord>& batch) = 0;
};

}  // namespace kapture
