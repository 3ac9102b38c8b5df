#pragma once
// report.html: one self-contained page (inline CSS and JavaScript, no network)
// with the verdict, the expectations table, rate checks and SVG charts of the
// per-second series, phases as bands and chaos/scale steps as markers.
//
// It is rendered only from the files a run leaves in its results directory
// (summary.json, timeseries.csv, events.jsonl), so `kapture-engine report DIR`
// re-renders a past run and produces the same bytes `run` wrote.
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/Error.h"

namespace kapture {

// summary: a summary.json document; timeseries_csv: timeseries.csv's text
// (empty when there is none: every chart is then omitted with a note);
// events: the objects of events.jsonl, in order.
std::string render_html_report(const nlohmann::json& summary, const std::string& timeseries_csv,
                               const std::vector<nlohmann::json>& events);

// Reads summary.json (required), timeseries.csv and events.jsonl (either may
// be missing) in dir and writes dir/report.html.
Status write_html_report(const std::string& dir);

// JSON text that is safe inside <script>: every '<' becomes \u003c, so the
// data can never close the element ("</script>") or open a comment ("<!--").
std::string json_for_script(const nlohmann::json& j);

}  // namespace kapture
