#include "etl/LedgerCheck.h"

#include "drivers/kafka/TopicIdReader.h"
#include "drivers/postgres/PostgresSink.h"
#include "drivers/redis/RedisSink.h"

namespace kapture {

static void record_ledger_metrics(const LedgerReport& report, MetricsStore& metrics, int64_t second);

LedgerReport check_ledger(const AckLedger& ledger, const std::string& postgres_url, const std::string& redis_url, MetricsStore& metrics,
                          int64_t second) {
  LedgerReport report;
  PostgresSink pg(PostgresSinkOptions{postgres_url, "", 10000});
  if (auto err = pg.connect()) {
    report.skipped_because = err->message;
    return report;
  }
  StoredIds ids(ledger.seq_limit());
  if (auto err = pg.transaction_ids(ids)) {
    report.skipped_because = err->message;
    return report;
  }
  std::optional<SalesByState> redis_sales, pg_sales;
  if (!redis_url.empty()) {
    auto opts = parse_redis_url(redis_url);
    if (opts) {
      RedisSink redis(*opts);
      if (!redis.connect()) {
        auto r = redis.sales_by_state();
        auto p = pg.sales_by_state();
        if (r && p) {
          redis_sales = *r;
          pg_sales = *p;
        }
      }
    }
  }
  report = reconcile(ledger, ids, redis_sales ? &*redis_sales : nullptr, pg_sales ? &*pg_sales : nullptr);
  record_ledger_metrics(report, metrics, second);
  return report;
}

LedgerReport check_ledger_against_kafka(const AckLedger& ledger, const std::string& bootstrap,
                                        const std::map<std::string, std::string>& properties, const std::vector<std::string>& topics,
                                        MetricsStore& metrics, int64_t second) {
  LedgerReport report;
  report.source = "kafka";
  auto read = read_topic_ids(bootstrap, properties, topics, 120000, ledger.seq_limit());
  if (!read) {
    report.skipped_because = read.error().message;
    return report;
  }
  if (read->truncated > 0) {
    report.skipped_because = std::to_string(read->truncated) +
                             " records were already removed by retention (the embedded mock cluster keeps about 5 MB per "
                             "partition): run on --target local, or check through an ETL into PostgreSQL";
    return report;
  }
  report = reconcile(ledger, read->ids, nullptr, nullptr);
  report.source = "kafka";
  record_ledger_metrics(report, metrics, second);
  return report;
}

static void record_ledger_metrics(const LedgerReport& report, MetricsStore& metrics, int64_t second) {
  metrics.add_counter(second, "ledger.acked", report.acked);
  metrics.add_counter(second, "ledger.failed", report.failed);
  metrics.add_counter(second, "ledger.lost", report.lost);
  metrics.add_counter(second, "ledger.duplicates", report.duplicates);
  metrics.add_counter(second, "ledger.unexpected", report.unexpected);
  metrics.add_counter(second, "ledger.aggregate_mismatches", report.aggregate_mismatches);
}

}  // namespace kapture
