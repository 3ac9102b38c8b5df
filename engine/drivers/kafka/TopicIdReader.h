#pragma once
// Reads topics back from the first to the last record (the high watermark
// when the read starts) and counts each record's top-level "id": how the
// ledger checks Kafka itself when no ETL writes to PostgreSQL.
#include <map>
#include <string>
#include <vector>

#include "common/Error.h"
#include "etl/StoredIds.h"

namespace kapture {

struct TopicIds {
  StoredIds ids;            // how many times each id was found
  int64_t records = 0;
  int64_t without_id = 0;   // records with no readable top-level "id"
  int64_t truncated = 0;    // records retention removed before the read (low watermark > 0)
};

Result<TopicIds> read_topic_ids(const std::string& bootstrap, const std::map<std::string, std::string>& properties,
                                const std::vector<std::string>& topics, int timeout_ms, uint64_t seq_limit);

}  // namespace kapture
