#pragma once
// Runs the ledger's reconciliation against the stores after the run and
// records ledger.* metrics so expectations can use them.
#include <string>

#include "etl/Ledger.h"
#include "metrics/MetricsStore.h"

namespace kapture {

// `redis_url` empty: no Redis aggregates to compare.
LedgerReport check_ledger(const AckLedger& ledger, const std::string& postgres_url, const std::string& redis_url, MetricsStore& metrics,
                          int64_t second);

}  // namespace kapture
