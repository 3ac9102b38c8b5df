#pragma once
// What kube-churn and kube-lifecycle share: finding the resource type and
// probing the namespace at start(), the clients of each API server, and one
// request timed, counted in kube.in_flight and recorded.
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "common/Error.h"
#include "drivers/kube/KubeClient.h"
#include "scenario/Scenario.h"
#include "workloads/KubeMetrics.h"
#include "workloads/KubeWorkloadContext.h"

namespace kapture {

// The context's access to another API server (same credentials and CA).
KubeAccess kube_access_for(const KubeAccess& access, const std::string& server);

// The resource type `resource` names ("configmaps", "widgets.v1.example.com")
// from discovery: a usage error naming the resource when the API server has
// no such type. kube_probe: a list with limit=1 in `ns`, an unreachable
// error with the API's message when the API server refuses it.
Result<KubeResourceType> kube_resolve_resource(KubeClient& client, const std::string& what, const std::string& resource);
Status kube_probe(KubeClient& client, const std::string& what, const KubeResourceType& type, const std::string& ns);

// The period over which a free worker may start a due operation before it
// counts in kube.engine_late: the engine, not the server, fell behind.
inline constexpr int64_t kKubeEngineLateUs = 10000;

struct KubeCallResult {
  bool ok = false;
  long status = 0;
  nlohmann::json value;
  std::string error;
  int64_t start_us = 0, end_us = 0;
};

// Runs `call` (returning a KubeResult<json>) as one request of `verb` on
// `object` sent at `start_us`, keeps kube.in_flight and records it. A
// success is `ok_status` (the client keeps no 2xx code); with `missing_ok`
// a 404 did the job too (a delete of an object already gone).
template <typename F>
KubeCallResult kube_call(KubeMetrics& m, const std::string& workload, std::atomic<int>& logged, const char* verb,
                         const std::string& object, int64_t start_us, long ok_status, F&& call, bool missing_ok = false) {
  KubeCallResult out;
  out.start_us = start_us;
  m.in_flight.fetch_add(1, std::memory_order_relaxed);
  KubeResult<nlohmann::json> r = call();
  out.end_us = m.clock().now_us();
  m.in_flight.fetch_sub(1, std::memory_order_relaxed);
  if (kube_ok(r)) {
    out.ok = true;
    out.status = ok_status;
    out.value = std::move(std::get<0>(r));
  } else {
    const KubeApiError& e = kube_error(r);
    out.status = e.http_status;
    out.error = e.message;
    out.ok = missing_ok && e.http_status == 404;
    if (!out.ok) {
      // The first few failures as warnings, the rest for --verbose: a
      // refused run would repeat the same line thousands of times.
      int n = logged.fetch_add(1, std::memory_order_relaxed);
      if (n < 5) spdlog::warn("workload {}: {}", workload, e.message);
      else if (n == 5) spdlog::warn("workload {}: more failed requests (kube.errors counts them; --verbose shows each)", workload);
      else spdlog::debug("workload {}: {}", workload, e.message);
    }
  }
  KubeRequestRecord rec;
  rec.verb = verb;
  rec.start_us = out.start_us;
  rec.end_us = out.end_us;
  rec.status = out.status;
  rec.ok = out.ok;
  rec.object = object;
  rec.error = out.error;
  m.request(rec);
  return out;
}

// The counters a churn or lifecycle hands over every second, 0 or not.
std::vector<std::string> kube_load_counters();

}  // namespace kapture
