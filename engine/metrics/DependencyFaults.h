#pragma once
// Outages of the servers the engine itself talks to (Kafka brokers, Redis,
// PostgreSQL, the Kubernetes API server), as its clients saw them: from the
// first call that could not reach one to the next call that did. Injected
// chaos shows up here too (a broker the scenario stopped is down for the
// producer as well); what this adds is the fault nobody planned: a broker
// paused by the OS, a database restarted under the run. Each outage is an
// event when it starts and ends, and a row of summary.json's `faults`.
#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "metrics/RunClock.h"

namespace kapture {

class EventLog;

struct DependencyOutage {
  std::string dependency;  // "kafka", "redis", "postgres", "kubernetes"
  std::string endpoint;    // host:port or URL, without credentials
  int64_t from_us = 0;     // the first failed call
  int64_t to_us = -1;      // the next call that worked; -1: still down at the end
  int64_t failures = 0;    // failed calls while down
  std::string error;       // the first failure's words
};

class DependencyFaults {
 public:
  // `events` may be null (no event log, e.g. in unit tests).
  DependencyFaults(const RunClock& clock, EventLog* events) : clock_(clock), events_(events) {}
  DependencyFaults(const DependencyFaults&) = delete;
  DependencyFaults& operator=(const DependencyFaults&) = delete;

  // A call to `endpoint` failed because it could not be reached (not because
  // it refused the data): opens an outage or counts one more failure.
  void failed(const std::string& dependency, const std::string& endpoint, const std::string& error);
  // A call to `endpoint` worked: closes its outage. Cheap when nothing is
  // down, so it can follow every successful call.
  void ok(const std::string& dependency, const std::string& endpoint);

  std::vector<DependencyOutage> outages() const;
  // summary.json's `faults`: seconds from the run's start, to_s null when
  // the outage lasted until the end.
  nlohmann::json to_json() const;

 private:
  using Key = std::pair<std::string, std::string>;
  const RunClock& clock_;
  EventLog* events_;
  mutable std::mutex mu_;
  std::vector<DependencyOutage> outages_;
  std::map<Key, size_t> open_;  // index into outages_ of each open outage
  std::atomic<int> open_count_{0};
};

}  // namespace kapture
