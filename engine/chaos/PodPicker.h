#pragma once
// Which pods a pod-kill or pod-evict hits, chaoskube's way: from the pods a
// list returned, those Running and not already being deleted, at least
// min_age old, at most one per owning controller when asked, then `count`
// of them at random from the step's seed (same seed, same pods listed: same
// picks). Plain functions over the API's JSON, tested without a cluster.
#include <chrono>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "scenario/Scenario.h"

namespace kapture {

struct PodCandidate {
  std::string namespace_, name, uid;
  std::string owner;     // "StatefulSet/kafka" (the controller owner), "" for a bare pod
  std::string node;
  int64_t age_us = 0;
  bool ready = false;
};

// The pods of a PodList that could be hit now: phase Running and no
// deletionTimestamp. Ages are from metadata.creationTimestamp.
std::vector<PodCandidate> running_pods(const nlohmann::json& pod_list, std::chrono::system_clock::time_point now);

// The pods to hit, in the order picked.
std::vector<PodCandidate> pick_pods(std::vector<PodCandidate> candidates, const PodSelection& selection, int count, uint64_t seed);

// RFC 3339 as the API writes it ("2026-11-26T08:00:00Z", fractions allowed).
std::optional<std::chrono::system_clock::time_point> parse_kube_time(const std::string& text);

// Why chaos may not touch namespace `ns` (whose labels are given), or
// nullopt when it may: kube-system, kube-public and default are refused,
// and any namespace without kapture.io/chaos=allowed, unless `ns` is in
// `allowed` (--allow-namespace).
std::optional<std::string> chaos_namespace_refusal(const std::string& ns, const nlohmann::json& labels, const std::set<std::string>& allowed);

}  // namespace kapture
