#pragma once
// summary.md: the run in Markdown, for a CI job summary or a pull-request
// comment: verdict, expectations, key metrics, phases, chaos and scale steps.
#include <string>

#include <nlohmann/json.hpp>

namespace kapture {

// From a summary.json document (build_summary).
std::string summary_markdown(const nlohmann::json& summary);

}  // namespace kapture
