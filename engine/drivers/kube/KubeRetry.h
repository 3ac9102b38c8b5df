#pragma once
// When the Kubernetes client tries a request again and how long it waits
// first: client-go's rules, as pure functions so unit tests can pin them.
//
//   - 429 Too Many Requests and 5xx (but 501) are retried, except where the
//     caller says a 429 is an answer (a PodDisruptionBudget refusing an
//     eviction);
//   - no answer because the connection could not be made (refused, no
//     route, name not resolved, connect timeout) is retried for every verb:
//     the request never reached the server;
//   - no answer after the request went out (reset, timeout, empty reply)
//     only for idempotent requests: GET, HEAD, PUT, DELETE and the PATCHes
//     that give the same result twice (all but JSON patch);
//   - TLS failures are not retried: a wrong CA stays wrong.
//
// The wait is the answer's Retry-After when it has one, else an exponential
// backoff from policy.initial, each jittered by +-policy.jitter; both capped
// at policy.cap.
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "drivers/kube/KubeClient.h"

namespace kapture {

// How an attempt ended, as far as retrying is concerned.
struct KubeAttemptOutcome {
  long http_status = 0;  // 0: no answer
  enum class Transport {
    None,           // an answer arrived (http_status set)
    ConnectFailed,  // the request was never sent
    Broken,         // sent (or maybe sent), then no complete answer
    Tls,            // the TLS handshake or verification failed
  } transport = Transport::None;
};

// Retry-After as the API server sends it: delta-seconds. HTTP dates and
// garbage give nothing (the backoff applies then).
std::optional<int64_t> parse_retry_after(std::string_view value);

// Whether a verb (and, for PATCH, its content type) may be sent twice.
bool kube_idempotent(const std::string& verb, const std::string& content_type);

// Whether to try again after `outcome`; `retry_throttled` false makes a 429
// final.
bool kube_should_retry(const KubeAttemptOutcome& outcome, bool idempotent, bool retry_throttled = true);

// The wait before retry number `retry` (1 = the first retry). `unit` is a
// uniform random number in [0, 1) that picks the jitter; retry_after_s is
// the answer's Retry-After (honoured when > 0, capped).
std::chrono::milliseconds kube_retry_delay(const KubeRetryPolicy& policy, int retry, std::optional<int64_t> retry_after_s,
                                           double unit);

}  // namespace kapture
