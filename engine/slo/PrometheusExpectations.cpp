#include "slo/PrometheusExpectations.h"

#include <cmath>

#include "slo/PrometheusQuery.h"

namespace kapture {

std::map<size_t, ExpectationResult> check_prometheus_expectations(const Scenario& scenario, const std::string& default_url, double at_unix_s) {
  std::map<size_t, ExpectationResult> out;
  for (size_t i = 0; i < scenario.expectations.size(); ++i) {
    const ExpectationSpec& e = scenario.expectations[i];
    if (!e.prometheus) continue;
    const PrometheusCheck& p = *e.prometheus;
    ExpectationResult r;
    r.text = e.text();
    r.where = e.where;
    r.prometheus = true;
    r.cmp = p.cmp;
    r.threshold = p.dim == SloDimension::Time ? p.threshold * 1e6 : p.threshold;  // reports format durations from microseconds
    r.dim = p.dim;
    std::string url = p.url.empty() ? default_url : p.url;
    auto v = prometheus_instant(url, p.query, at_unix_s);
    if (!v) {
      r.no_data = true;
      r.message = is_prometheus_no_data(v.error()) ? "no data: the query matched no series at the end of the run" : v.error().describe();
      out[i] = r;
      continue;
    }
    double value = *v;
    r.measured = p.dim == SloDimension::Time ? value * 1e6 : value;
    const std::string& c = p.cmp;
    double tol = 1e-9 * std::max(1.0, std::max(std::fabs(value), std::fabs(p.threshold)));
    if (std::isnan(value)) r.pass = false;
    else if (c == "<") r.pass = value < p.threshold;
    else if (c == "<=") r.pass = value <= p.threshold + tol;
    else if (c == ">") r.pass = value > p.threshold;
    else if (c == ">=") r.pass = value + tol >= p.threshold;
    else if (c == "==") r.pass = std::fabs(value - p.threshold) <= tol;
    else r.pass = std::fabs(value - p.threshold) > tol;
    r.message = "queried " + url;
    out[i] = r;
  }
  return out;
}

}  // namespace kapture
