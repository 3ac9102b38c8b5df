#pragma once
// Every secret a scenario carries, registered (common/Redact.h) before
// anything runs, so whatever later quotes one (a client library's error, a
// Lua message, an echoed URL) is written with "***" instead.
#include <map>
#include <string>

#include "scenario/Scenario.h"

namespace kapture {

// Kafka properties (topology, workloads, ETLs, webapp), store and webapp
// URLs, HTTP and SSE URLs and headers, Prometheus URLs.
void register_scenario_secrets(const Scenario& scenario);

}  // namespace kapture
