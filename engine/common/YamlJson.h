#pragma once
// YAML as JSON: plain scalars become numbers, booleans and null the way
// YAML 1.2's core schema reads them; quoted and block scalars stay strings.
// Used for Lua params in scenarios and for Kubernetes manifests.
#include <nlohmann/json.hpp>
#include <yaml-cpp/yaml.h>

namespace kapture {

nlohmann::json yaml_to_json(const YAML::Node& n);

}  // namespace kapture
