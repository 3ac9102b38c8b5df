#include "workloads/KubeObjectFactory.h"

#include <cctype>

namespace kapture {

namespace {

using json = nlohmann::json;

bool alnum(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; }

// The number in letters a..z (base 26), at least `width` of them.
std::string letters(int64_t seq, int width) {
  std::string out;
  uint64_t v = static_cast<uint64_t>(seq < 0 ? -seq : seq);
  do {
    out.insert(out.begin(), static_cast<char>('a' + v % 26));
    v /= 26;
  } while (v > 0);
  if (static_cast<int>(out.size()) < width) out.insert(0, static_cast<size_t>(width) - out.size(), 'a');
  return out;
}

json& object_at(json& j, const char* key) {
  if (!j.contains(key) || !j[key].is_object()) j[key] = json::object();
  return j[key];
}

}  // namespace

std::string kube_name_prefix(const std::string& workload) {
  std::string out;
  for (char c : workload) {
    char l = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    out += (alnum(l) && static_cast<unsigned char>(l) < 128) ? l : '-';
  }
  size_t b = 0;
  while (b < out.size() && !alnum(out[b])) ++b;
  size_t e = out.size();
  while (e > b && !alnum(out[e - 1])) --e;
  out = out.substr(b, e - b);
  return out.empty() ? "k" : out;
}

std::string kube_label_value(const std::string& text) {
  std::string out;
  for (char c : text) {
    bool ok = (alnum(c) && static_cast<unsigned char>(c) < 128) || c == '-' || c == '_' || c == '.';
    out += ok ? c : '-';
  }
  if (out.size() > 63) out.resize(63);
  size_t b = 0;
  while (b < out.size() && !alnum(out[b])) ++b;
  size_t e = out.size();
  while (e > b && !alnum(out[e - 1])) --e;
  return out.substr(b, e - b);
}

std::string kube_object_name(const std::string& workload, int64_t seq, int name_length) {
  const std::string prefix = kube_name_prefix(workload);
  const std::string digits = std::to_string(seq);
  const std::string natural = prefix + "-" + digits;
  const size_t want = name_length > 0 ? static_cast<size_t>(name_length) : 0;
  if (want == 0 || natural.size() == want) return natural;
  if (natural.size() < want) return prefix + "-" + std::string(want - natural.size(), '0') + digits;
  // Too long: cut the prefix, keep the number whole.
  if (want >= digits.size() + 2) {
    std::string cut = prefix.substr(0, want - digits.size() - 1);
    return cut + "-" + digits;
  }
  if (digits.size() <= want) return std::string(want - digits.size(), '0') + digits;
  return letters(seq, name_length);
}

std::string kube_resource_label(const KubeResourceType& type) {
  return type.group.empty() ? type.resource : type.resource + "." + type.group;
}

KubeObjectFactory::KubeObjectFactory(const KubeObjectShape& shape, KubeResourceType type, std::string ns, std::string workload,
                                     std::string run_label)
    : type_(std::move(type)), namespace_(std::move(ns)), workload_(std::move(workload)), name_length_(shape.name_length) {
  resource_label_ = kube_resource_label(type_);
  if (type_.group.empty() && type_.resource == "configmaps") place_ = PayloadPlace::ConfigMapData;
  else if (type_.group.empty() && type_.resource == "secrets") place_ = PayloadPlace::SecretStringData;
  else place_ = PayloadPlace::Annotation;

  json t = json::object();
  t["apiVersion"] = type_.api_version();
  t["kind"] = type_.kind;
  json& meta = object_at(t, "metadata");
  if (type_.namespaced && !namespace_.empty()) meta["namespace"] = namespace_;
  if (shape.size_bytes > 0) {
    std::string payload(static_cast<size_t>(shape.size_bytes), 'x');
    switch (place_) {
      case PayloadPlace::ConfigMapData: t["data"] = json{{"payload", std::move(payload)}}; break;
      case PayloadPlace::SecretStringData: t["stringData"] = json{{"payload", std::move(payload)}}; break;
      case PayloadPlace::Annotation: meta["annotations"] = json{{kKubePaddingAnnotation, std::move(payload)}}; break;
    }
  }
  // The scenario's fields (a custom resource's spec, more data), merged as a
  // JSON merge patch; what identifies the object is set after, so it wins.
  if (shape.fields.is_object() && !shape.fields.empty()) t.merge_patch(shape.fields);
  t["apiVersion"] = type_.api_version();
  t["kind"] = type_.kind;
  json& m = object_at(t, "metadata");
  m.erase("name");
  m.erase("generateName");
  if (type_.namespaced && !namespace_.empty()) m["namespace"] = namespace_;
  else m.erase("namespace");
  json& labels = object_at(m, "labels");
  labels[kKubeRunLabel] = kube_label_value(run_label);
  labels[kKubeWorkloadLabel] = kube_label_value(workload_);
  object_at(m, "annotations");
  template_ = std::move(t);
}

std::string KubeObjectFactory::selector() const {
  const json& labels = template_["metadata"]["labels"];
  return std::string(kKubeRunLabel) + "=" + labels[kKubeRunLabel].get<std::string>() + "," + kKubeWorkloadLabel + "=" +
         labels[kKubeWorkloadLabel].get<std::string>();
}

json KubeObjectFactory::object(const std::string& name) const {
  json o = template_;
  o["metadata"]["name"] = name;
  return o;
}

void KubeObjectFactory::stamp(json& object_or_patch, int64_t sent_wall_us) {
  object_at(object_at(object_or_patch, "metadata"), "annotations")[kKubeSentAnnotation] = std::to_string(sent_wall_us);
}

json KubeObjectFactory::update_patch(int64_t update) {
  return json{{"metadata", {{"annotations", {{kKubeUpdateAnnotation, std::to_string(update)}}}}}};
}

json KubeObjectFactory::apply_object(const std::string& name, int64_t update) const {
  json o = object(name);
  o["metadata"]["annotations"][kKubeUpdateAnnotation] = std::to_string(update);
  return o;
}

}  // namespace kapture
