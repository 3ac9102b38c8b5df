#include "common/YamlJson.h"

#include <cstdlib>

namespace kapture {

namespace {

nlohmann::json core_scalar(const std::string& t) {
  if (t == "true" || t == "True" || t == "TRUE") return true;
  if (t == "false" || t == "False" || t == "FALSE") return false;
  if (t.empty()) return t;
  char* end = nullptr;
  long long i = std::strtoll(t.c_str(), &end, 10);
  if (!*end) return i;
  // Only decimal notation: "1e3" and "1.5" are numbers, "inf" and "0x10" stay text.
  bool numeric = t.find_first_not_of("0123456789+-.eE") == std::string::npos;
  double d = std::strtod(t.c_str(), &end);
  if (numeric && !*end) return d;
  return t;
}

nlohmann::json kubectl_scalar(const YAML::Node& n) {
  bool b = false;
  if (YAML::convert<bool>::decode(n, b)) return b;
  long long i = 0;
  if (YAML::convert<long long>::decode(n, i)) return i;
  double d = 0;
  if (YAML::convert<double>::decode(n, d)) return d;
  return n.Scalar();
}

}  // namespace

nlohmann::json yaml_to_json(const YAML::Node& n, YamlDialect dialect) {
  if (n.IsMap()) {
    nlohmann::json o = nlohmann::json::object();
    for (auto it = n.begin(); it != n.end(); ++it) o[it->first.Scalar()] = yaml_to_json(it->second, dialect);
    return o;
  }
  if (n.IsSequence()) {
    nlohmann::json a = nlohmann::json::array();
    for (const auto& v : n) a.push_back(yaml_to_json(v, dialect));
    return a;
  }
  if (!n.IsScalar()) return nullptr;
  const std::string& t = n.Scalar();
  if (n.Tag() != "?") return t;  // quoted or block: a string
  if (t == "~" || t == "null" || t == "Null" || t == "NULL") return nullptr;
  return dialect == YamlDialect::Kubectl ? kubectl_scalar(n) : core_scalar(t);
}

}  // namespace kapture
