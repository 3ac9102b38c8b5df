#pragma once
// The Kubernetes client's error messages, built from what the API server
// answered: "VERB PATH: STATUS PHRASE: the Status's message", with the
// missing permission spelled out for a 403 and the causes a Status lists
// when its message leaves them out (a PodDisruptionBudget refusing an
// eviction). Pure functions, so unit tests can pin the wording.
#include <cstdint>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "drivers/kube/KubeClient.h"

namespace kapture {

// "Forbidden" for 403 and so on (Go's http.StatusText); "" when unknown.
const char* http_reason_phrase(long status);

// The Status reason the API server would give for a bare status code
// (client-go's NewGenericServerResponse): "NotFound" for 404, ...
std::string reason_for_status(long status);

// "/api/v1/pods?limit=2" -> "/api/v1/pods".
std::string path_without_query(const std::string& path);

// For a 403: " (needs verb \"delete\" on \"pods\" in API group \"\" in
// namespace \"ns\")", from the authorizer's message (`User "x" cannot delete
// resource "pods" in API group "" in the namespace "ns"`), else from the
// Status details (group, resource) with the verb and namespace the request
// implies. "" when the 403 is not an authorization denial (an admission
// plugin refusing, say).
std::string forbidden_hint(const nlohmann::json& status, const std::string& verb, const std::string& path);

// The error for an answer outside 2xx. `body` is the answer (a Status as
// JSON, or anything else); retry_after_s is the Retry-After header's, if any.
KubeApiError kube_api_error(const std::string& verb, const std::string& path, long http_status, const std::string& body,
                            std::optional<int64_t> retry_after_s = {});

// The error when no answer came: "VERB SERVER/PATH: cannot connect: ..." when
// the connection failed, "VERB SERVER/PATH: no answer: ..." when it broke or
// timed out after the request went out.
KubeApiError kube_transport_error(const std::string& verb, const std::string& server, const std::string& path,
                                  bool connect_failed, const std::string& detail);

}  // namespace kapture
