#pragma once
// `prometheus:` expectations: each query's value at the end of the run,
// compared with its threshold. Queried once, after the drain.
#include <map>
#include <string>

#include "scenario/Scenario.h"
#include "slo/Verdict.h"

namespace kapture {

// By the expectation's index in scenario.expectations. `default_url` is
// --prometheus or topology.prometheus.url; `at_unix_s` the run's end.
std::map<size_t, ExpectationResult> check_prometheus_expectations(const Scenario& scenario, const std::string& default_url, double at_unix_s);

}  // namespace kapture
