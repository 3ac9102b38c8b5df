#pragma once
// "Has it taken effect?" for what the engine applies or scales, the way
// `kubectl rollout status` and `kubectl wait --for=condition=Ready` judge it:
// a Deployment or StatefulSet when its controller has seen the latest spec
// and every wanted replica is updated and ready (and no extra ones remain
// after a scale-down), a Pod when Ready, a Job when Complete, a
// CustomResourceDefinition when Established; other kinds with a Ready or
// Available condition when it is True (custom resources); the rest once
// they exist.
#include <atomic>
#include <chrono>
#include <string>

#include <nlohmann/json.hpp>

#include "common/Error.h"
#include "drivers/kube/KubeClient.h"

namespace kapture {

// Whether `object` (as the API returned it) is ready; `why_not` says what
// is still missing ("2/3 replicas ready").
bool kube_object_ready(const nlohmann::json& object, std::string& why_not);

// Polls the object until it is ready, `timeout` passes or *cancel turns
// true (SIGINT). The error names the object and what was still missing.
Status wait_until_ready(KubeClient& client, const KubeObjectRef& ref, std::chrono::milliseconds timeout,
                        const std::atomic<bool>* cancel = nullptr);

// The reference to an object as a manifest describes it (type by discovery).
KubeResult<KubeObjectRef> ref_of(KubeClient& client, const nlohmann::json& object, const std::string& ns);

}  // namespace kapture
