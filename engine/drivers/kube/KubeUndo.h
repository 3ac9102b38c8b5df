#pragma once
// The undos of Kubernetes mutations as data, so they outlive the process:
// the undo journal records one before each mutation, the run replays it
// when the injection ends, and `kapture-engine recover` replays what a
// crashed run left pending.
//
//   {"op": "scale", "api_version": "apps/v1", "kind": "StatefulSet", "namespace": ns, "name": n, "replicas": 3}
//   {"op": "uncordon", "node": "kwok-node-1"}
//   {"op": "delete", "api_version": "v1", "kind": "Service", "namespace": ns, "name": n}
//   {"op": "delete-namespace", "namespace": ns}
#include <chrono>
#include <string>

#include <nlohmann/json.hpp>

#include "common/Error.h"
#include "drivers/kube/KubeClient.h"

namespace kapture {

nlohmann::json scale_undo(const KubeObjectRef& ref, int replicas);
nlohmann::json uncordon_undo(const std::string& node);
nlohmann::json delete_undo(const KubeObjectRef& ref);
nlohmann::json delete_namespace_undo(const std::string& ns);

// Carries one out and waits until it took effect (the scale rolled out, the
// namespace is gone), up to `timeout`. Idempotent: replaying an undo that
// already happened succeeds.
Status replay_kube_undo(KubeClient& client, const nlohmann::json& undo, std::chrono::milliseconds timeout);

// Whether a journal entry's replay is one of these.
bool is_kube_undo(const nlohmann::json& undo);

}  // namespace kapture
