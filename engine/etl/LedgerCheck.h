#pragma once
// Runs the ledger's reconciliation against the stores after the run and
// records ledger.* metrics so expectations can use them.
#include <map>
#include <string>
#include <vector>

#include "etl/Ledger.h"
#include "metrics/MetricsStore.h"

namespace kapture {

// `redis_url` empty: no Redis aggregates to compare.
LedgerReport check_ledger(const AckLedger& ledger, const std::string& postgres_url, const std::string& redis_url, MetricsStore& metrics,
                          int64_t second);

// Without an ETL into PostgreSQL: reads the topics back and checks the
// acknowledged ids against what Kafka holds. Refuses (skipped_because) when
// retention already removed records, since "lost" would then be meaningless.
LedgerReport check_ledger_against_kafka(const AckLedger& ledger, const std::string& bootstrap,
                                        const std::map<std::string, std::string>& properties, const std::vector<std::string>& topics,
                                        MetricsStore& metrics, int64_t second);

}  // namespace kapture
