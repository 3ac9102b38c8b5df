// libFuzzer: the expectation grammar (slo/SloExpression.h): parsing with its
// metric, aggregate and unit checks, then evaluating what parsed over fixed
// numbers and formatting the results as a report does.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "slo/SloExpression.h"

namespace {

// Every aggregate and recovery measures `value`.
class FixedData : public kapture::SloData {
 public:
  explicit FixedData(double value) : value_(value) {}
  bool aggregate(const kapture::SloNode&, const std::string&, double& out) const override {
    out = value_;
    return true;
  }
  bool recovery(const kapture::SloExpression&, double& out) const override {
    out = value_;
    return true;
  }

 private:
  double value_;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto parsed = kapture::parse_slo(text);
  if (!parsed) {
    // The column points into the text (or just past its end): the loader
    // turns it into a column of the scenario file.
    int column = parsed.error().where.column;
    if (column < 0 || static_cast<size_t>(column) > size + 1) __builtin_trap();
    (void)parsed.error().describe();
    return 0;
  }
  const kapture::SloExpression& e = *parsed;
  for (const auto& [name, offset] : e.phases_named())
    if (name.empty() || offset > size) __builtin_trap();
  for (const auto& [name, offset] : e.metrics_named())
    if (name.empty() || offset > size) __builtin_trap();
  for (const auto& n : e.nodes)
    if (n.kind == kapture::SloNode::Kind::Aggregate && n.agg == kapture::SloNode::Agg::Percentile && !(n.percentile > 0 && n.percentile <= 100))
      __builtin_trap();
  (void)e.has_during();
  (void)e.after_key();
  for (double value : {0.0, 1.0, 1e300, static_cast<double>(INFINITY)}) {
    kapture::SloOutcome out = kapture::evaluate_slo(e, FixedData(value));
    (void)kapture::format_slo_value(out.lhs, out.dim);
    (void)kapture::format_slo_value(out.rhs, out.dim);
  }
  return 0;
}
