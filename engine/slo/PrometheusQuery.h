#pragma once
// A Prometheus server's HTTP API, for `prometheus:` expectations: one PromQL
// instant query, one number. Every failure is a value naming what failed.
#include <optional>
#include <string>

#include "common/Error.h"

namespace kapture {

// GET BASE_URL/api/v1/query. The query must come down to one number: a
// scalar, or a vector of exactly one series (its value; NaN and +-Inf come
// back as such). Errors:
//  - unreachable (ErrorKind::Unreachable): the message names base_url;
//  - Prometheus refused the query (a PromQL syntax error is Usage): its own
//    errorType and error text;
//  - an empty vector: "no data", see is_prometheus_no_data();
//  - several series: how many, and a hint to aggregate them;
//  - a range vector, a string, an answer that is not Prometheus'.
// `at_unix_s` is the evaluation time (Prometheus' `time`), default now.
Result<double> prometheus_instant(const std::string& base_url, const std::string& promql,
                                  std::optional<double> at_unix_s = std::nullopt);

// The query matched no series at that time: for an expectation, no data
// (which fails it, like a metric never recorded), not a broken query.
bool is_prometheus_no_data(const Error& e);

}  // namespace kapture
