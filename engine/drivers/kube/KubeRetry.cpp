#include "drivers/kube/KubeRetry.h"

#include <algorithm>
#include <cctype>
#include <cmath>

namespace kapture {

std::optional<int64_t> parse_retry_after(std::string_view value) {
  while (!value.empty() && std::isspace(static_cast<unsigned char>(value.front()))) value.remove_prefix(1);
  while (!value.empty() && std::isspace(static_cast<unsigned char>(value.back()))) value.remove_suffix(1);
  if (value.empty() || value.size() > 12) return std::nullopt;
  int64_t s = 0;
  for (char c : value) {
    if (c < '0' || c > '9') return std::nullopt;
    s = s * 10 + (c - '0');
  }
  return s;
}

bool kube_idempotent(const std::string& verb, const std::string& content_type) {
  if (verb == "GET" || verb == "HEAD" || verb == "PUT" || verb == "DELETE") return true;
  // A JSON patch may add to a list each time it is applied; merge,
  // strategic merge and apply patches give the same object twice.
  if (verb == "PATCH") return content_type != "application/json-patch+json";
  return false;
}

bool kube_should_retry(const KubeAttemptOutcome& outcome, bool idempotent, bool retry_throttled) {
  using T = KubeAttemptOutcome::Transport;
  switch (outcome.transport) {
    case T::ConnectFailed:
      return true;
    case T::Broken:
      return idempotent;
    case T::Tls:
      return false;
    case T::None:
      break;
  }
  if (outcome.http_status == 429) return retry_throttled;
  return outcome.http_status >= 500 && outcome.http_status != 501;
}

std::chrono::milliseconds kube_retry_delay(const KubeRetryPolicy& policy, int retry, std::optional<int64_t> retry_after_s,
                                           double unit) {
  const double cap = static_cast<double>(std::max<int64_t>(0, policy.cap.count()));
  if (retry_after_s && *retry_after_s > 0) {
    return std::chrono::milliseconds(static_cast<int64_t>(std::min(cap, static_cast<double>(*retry_after_s) * 1000.0)));
  }
  const int exponent = std::clamp(retry, 1, 40) - 1;
  double base = std::min(cap, static_cast<double>(std::max<int64_t>(0, policy.initial.count())) * std::ldexp(1.0, exponent));
  const double jitter = std::clamp(policy.jitter, 0.0, 1.0);
  const double u = std::clamp(unit, 0.0, 1.0);
  double d = base * (1.0 + jitter * (2.0 * u - 1.0));
  d = std::clamp(d, 0.0, cap);
  return std::chrono::milliseconds(static_cast<int64_t>(std::llround(d)));
}

}  // namespace kapture
