#pragma once
// The topology's Kubernetes objects: manifests/COMPONENT.yaml read as JSON
// (the same files are a kustomize base users apply without the engine),
// then set for this run: namespace, the component's replicas, image and
// container resources, and the run label. Nothing here talks to the API.
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/Error.h"
#include "scenario/Scenario.h"

namespace kapture {

struct ComponentObjects {
  std::string component;               // "kafka"
  std::string file;                    // where they came from
  std::vector<nlohmann::json> objects; // in file order
};

// The objects of each component in topology.kubernetes.deploy, in
// deployment order (rbac, kafka, redis, postgres, etl, loader, webapp),
// with the overrides applied. `run_label` goes on every object as
// kapture.io/run so `down` and tests can find them.
Result<std::vector<ComponentObjects>> load_component_objects(const Scenario& scenario, const std::string& ns, const std::string& run_label);

// The order components are deployed in (and deleted in reverse).
const std::vector<std::string>& component_order();

}  // namespace kapture
