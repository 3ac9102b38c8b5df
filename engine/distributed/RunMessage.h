#pragma once
// What a coordinator and its distributed workers say to each other, over a
// run's two Kafka topics (RunTopic: control and results, one partition
// each, so every reader sees one order). A message is a CBOR map; `from` is
// -1 for the coordinator, else the worker's index.
//
//   coordinator -> workers        workers -> coordinator
//   start  (the run clock's epoch)  ready    (workloads started on that clock)
//   load   (a workload's new load)  metrics  (seconds measured since the last)
//   stop   (drain and report)       failed   (a workload failed: Lua error...)
//   abort  (stop now)               ledger   (a chunk of acknowledged seqs)
//   beat   (still here)             done     (everything sent; exiting)
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/Error.h"
#include "scenario/Scenario.h"

namespace kapture {

struct RunMessage {
  enum class Type { Start, Load, Stop, Abort, Beat, Ready, Metrics, Failed, Ledger, Done };
  Type type = Type::Beat;
  int from = -1;
  int64_t epoch_wall_ms = 0;                            // start
  std::string workload;                                 // load, ledger
  LoadSpec load;                                        // load
  int64_t start_us = 0, duration_us = 0;                // load
  int drain_ms = 0;                                     // stop
  std::string reason;                                   // abort, failed
  bool usage = false;                                   // failed: a scenario or Lua error (exit 2), not a lost dependency
  std::vector<std::pair<int64_t, std::string>> seconds;  // metrics: (second, encode_sample bytes)
  std::string acked, failed;                            // ledger: encode_seqs bytes
  int64_t ledger_chunks = 0;                            // done: how many ledger messages came before
};

const char* run_message_type_name(RunMessage::Type t);
std::string encode_run_message(const RunMessage& m);
Result<RunMessage> decode_run_message(std::string_view bytes);

}  // namespace kapture
