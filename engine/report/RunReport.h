#pragma once
// Writes a run's results: summary.json (schemas/results.schema.json),
// junit.xml, summary.md, timeseries.csv, report.html (HtmlReport), and the
// console summary table. events.jsonl is written as the run goes (EventLog).
#include <string>
#include <vector>

#include "etl/Ledger.h"
#include "metrics/MetricsStore.h"
#include "report/HtmlReport.h"
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
  nlohmann::json faults;   // outages of Kafka, Redis, PostgreSQL, the API server (DependencyFaults::to_json)
  nlohmann::json security;  // SecurityNotes::to_json(): warnings and Lua opt-ins
  nlohmann::json workers;   // a distributed run's WorkerFleet::to_json(); null otherwise
};

// summary.json's top-level schema_version: bump it (and the schema) when a
// field is renamed or removed or changes meaning.
inline constexpr int kSummarySchemaVersion = 1;

nlohmann::json build_summary(const ReportInput& in);
Status write_text_file(const std::string& path, const std::string& text);
// summary.json, junit.xml (JunitReport), summary.md (MarkdownSummary),
// timeseries.csv and, from those files, report.html (HtmlReport) into dir; a
// file that cannot be written is an error, and the others are still written.
std::vector<Error> write_results(const std::string& dir, const ReportInput& in);
Status write_timeseries_csv(const std::string& path, const ReportInput& in);
std::string format_console_summary(const ReportInput& in, const std::string& results_dir);

}  // namespace kapture
