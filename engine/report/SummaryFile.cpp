#include "report/SummaryFile.h"

#include <filesystem>
#include <fstream>

namespace kapture {

Result<SummaryFile> read_summary(const std::string& where) {
  namespace fs = std::filesystem;
  std::error_code ec;
  SummaryFile out;
  out.path = fs::is_directory(where, ec) ? (fs::path(where) / "summary.json").string() : where;
  std::ifstream in(out.path);
  if (!in) return usage_error(out.path + ": cannot read (give a results directory or its summary.json)");
  out.summary = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
  if (out.summary.is_discarded()) return usage_error(out.path + ": not valid JSON");
  if (!out.summary.is_object() || !out.summary.contains("verdict") || !out.summary.contains("run"))
    return usage_error(out.path + ": not a kapture-engine summary.json (no verdict or run)");
  return out;
}

}  // namespace kapture
