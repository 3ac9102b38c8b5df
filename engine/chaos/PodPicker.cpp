#include "chaos/PodPicker.h"

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <map>
#include <random>

namespace kapture {

std::optional<std::chrono::system_clock::time_point> parse_kube_time(const std::string& text) {
  std::tm tm{};
  int consumed = 0;
  if (std::sscanf(text.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec,
                  &consumed) != 6)
    return std::nullopt;
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  size_t i = static_cast<size_t>(consumed);
  if (i < text.size() && text[i] == '.')
    while (++i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) {
    }
  if (i >= text.size() || text[i] != 'Z') return std::nullopt;  // the API always writes UTC
  return std::chrono::system_clock::from_time_t(timegm(&tm));
}

std::vector<PodCandidate> running_pods(const nlohmann::json& pod_list, std::chrono::system_clock::time_point now) {
  std::vector<PodCandidate> out;
  if (!pod_list.contains("items") || !pod_list["items"].is_array()) return out;
  for (const auto& pod : pod_list["items"]) {
    const auto& meta = pod.value("metadata", nlohmann::json::object());
    const auto& status = pod.value("status", nlohmann::json::object());
    if (meta.contains("deletionTimestamp") || status.value("phase", "") != "Running") continue;
    PodCandidate c;
    c.namespace_ = meta.value("namespace", "");
    c.name = meta.value("name", "");
    c.uid = meta.value("uid", "");
    c.node = pod.value("spec", nlohmann::json::object()).value("nodeName", "");
    for (const auto& o : meta.value("ownerReferences", nlohmann::json::array()))
      if (o.value("controller", false)) c.owner = o.value("kind", "") + "/" + o.value("name", "");
    if (auto created = parse_kube_time(meta.value("creationTimestamp", "")))
      c.age_us = std::chrono::duration_cast<std::chrono::microseconds>(now - *created).count();
    for (const auto& cond : status.value("conditions", nlohmann::json::array()))
      if (cond.value("type", "") == "Ready") c.ready = cond.value("status", "") == "True";
    out.push_back(std::move(c));
  }
  return out;
}

std::vector<PodCandidate> pick_pods(std::vector<PodCandidate> candidates, const PodSelection& selection, int count, uint64_t seed) {
  // Sorted first, so the picks depend on the seed and the pods, not on the
  // order the API listed them in.
  std::sort(candidates.begin(), candidates.end(),
            [](const PodCandidate& a, const PodCandidate& b) { return std::tie(a.namespace_, a.name) < std::tie(b.namespace_, b.name); });
  std::erase_if(candidates, [&](const PodCandidate& c) {
    return c.age_us < selection.min_age_us || (!selection.name.empty() && c.name != selection.name);
  });
  std::mt19937_64 rng(seed);
  std::shuffle(candidates.begin(), candidates.end(), rng);
  std::vector<PodCandidate> out;
  std::set<std::string> owners;
  for (auto& c : candidates) {
    if (static_cast<int>(out.size()) >= count) break;
    if (selection.one_per_owner && !c.owner.empty() && !owners.insert(c.owner).second) continue;
    out.push_back(std::move(c));
  }
  return out;
}

std::optional<std::string> chaos_namespace_refusal(const std::string& ns, const nlohmann::json& labels, const std::set<std::string>& allowed) {
  if (allowed.count(ns)) return std::nullopt;
  if (ns == "kube-system" || ns == "kube-public" || ns == "default")
    return "chaos is refused in namespace '" + ns + "' (a system or shared namespace); --allow-namespace " + ns + " overrides this";
  std::string value;
  if (labels.is_object() && labels.contains("kapture.io/chaos") && labels["kapture.io/chaos"].is_string()) value = labels["kapture.io/chaos"];
  if (value == "allowed") return std::nullopt;
  return "chaos is refused in namespace '" + ns + "': it has no label kapture.io/chaos=allowed (label it with `kubectl label namespace " + ns +
         " kapture.io/chaos=allowed`, or pass --allow-namespace " + ns + ")";
}

}  // namespace kapture
