#pragma once
// Reads a finished run's summary.json back, for `report` and `compare`.
#include <string>

#include <nlohmann/json.hpp>

#include "common/Error.h"

namespace kapture {

struct SummaryFile {
  std::string path;  // the summary.json that was read
  nlohmann::json summary;
};

// `where` is a results directory or a summary.json. Errors (usage errors,
// exit 2) name the file: missing, unreadable, not JSON, not a summary.
Result<SummaryFile> read_summary(const std::string& where);

// An expectation of summary.json that had nothing to measure (its measured
// is null then, but so is an infinite one: a recovery that never came).
inline bool expectation_no_data(const nlohmann::json& e) {
  auto t = e.find("measured_text");
  return t != e.end() && t->is_string() && t->get<std::string>() == "no data";
}

}  // namespace kapture
