#pragma once
// A kafka-producer workload that the fleet's workers run: what the timeline
// executor sees in its place. Loads go to the workers; a lost or failed
// worker is this workload's failure, which ends the run with an error.
#include <string>

#include "distributed/WorkerFleet.h"
#include "workloads/Workload.h"

namespace kapture {

class RemoteWorkload : public Workload {
 public:
  RemoteWorkload(std::string name, WorkerFleet& fleet) : name_(std::move(name)), fleet_(fleet) {}
  const std::string& name() const override { return name_; }
  Status start() override { return std::nullopt; }  // the fleet started the workers
  void set_load(const LoadSpec& load, int64_t start_us, int64_t duration_us) override { fleet_.set_load(name_, load, start_us, duration_us); }
  // The executor stops producers together; the first stop ends the whole fleet.
  void stop(int drain_ms) override { fleet_.stop(drain_ms); }
  std::optional<Error> failure() const override { return fleet_.failure(); }
  int64_t stuck_in_lua_ms() const override { return 0; }  // each worker watches its own Lua

 private:
  std::string name_;
  WorkerFleet& fleet_;
};

}  // namespace kapture
