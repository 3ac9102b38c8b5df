#include "scenario/ScenarioSecrets.h"

#include "common/Redact.h"

namespace kapture {

void register_scenario_secrets(const Scenario& s) {
  register_secret_properties(s.kafka.properties);
  register_secret_properties(s.webapp.properties);
  for (const auto& w : s.workloads) register_secret_properties(w.properties);
  for (const auto& e : s.etls) register_secret_properties(e.properties);
  for (const auto& h : s.https) {
    register_secret_properties(h.headers);
    register_url_secrets(h.url);
  }
  for (const auto& r : s.sses) register_url_secrets(r.url);
  for (const auto& c : s.kube_churns)
    for (const auto& url : c.servers) register_url_secrets(url);
  for (const auto& e : s.expectations)
    if (e.prometheus) register_url_secrets(e.prometheus->url);
  for (const std::string* url : {&s.redis.url, &s.postgres.url, &s.webapp.url, &s.prometheus_url, &s.kafka.bootstrap})
    register_url_secrets(*url);
}

}  // namespace kapture
