#pragma once
// Writes a run's results: summary.json, timeseries.csv, and the console
// summary table. events.jsonl is written as the run goes (EventLog).
#include <string>

#include "etl/Ledger.h"
#include "metrics/MetricsStore.h"
#include "workloads/EtlWorkload.h"
#include "plan/Plan.h"
#include "slo/Verdict.h"
#include "timeline/RunRecord.h"

namespace kapture {

struct ReportInput {
  const Plan& plan;
  const RunRecord& run;
  const MetricsStore& metrics;
  const Verdict& verdict;
  std::string engine_version;
  std::string scenario_path;
  const LedgerReport* ledger = nullptr;
  const std::vector<DeadLetter>* dead_letters = nullptr;
  nlohmann::json etl;  // per etl workload: final lag by partition
  nlohmann::json cluster;  // the cluster the run started on (ClusterObserver::describe)
};

nlohmann::json build_summary(const ReportInput& in);
Status write_summary_json(const std::string& path, const ReportInput& in);
Status write_timeseries_csv(const std::string& path, const ReportInput& in);
std::string format_console_summary(const ReportInput& in, const std::string& results_dir);

}  // namespace kapture
