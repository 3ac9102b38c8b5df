#pragma once
// YAML as JSON. Plain scalars that read as numbers, booleans or null become
// those; quoted and block scalars stay strings. Two readings of "reads as":
//   Core     YAML 1.2's core schema (true/false, decimal numbers): scenario
//            files, e.g. the params handed to Lua;
//   Kubectl  what sigs.k8s.io/yaml (go-yaml, YAML 1.1) makes of it, so a
//            manifest or kubeconfig means to the engine what it means to
//            kubectl (yes/no/on/off are booleans, 0x10 is a number).
#include <nlohmann/json.hpp>
#include <yaml-cpp/yaml.h>

namespace kapture {

enum class YamlDialect { Core, Kubectl };

nlohmann::json yaml_to_json(const YAML::Node& n, YamlDialect dialect = YamlDialect::Core);

}  // namespace kapture
