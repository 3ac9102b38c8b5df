#pragma once
// What a run does that weakens its security, so the results say so: TLS
// verification turned off (http/sse `insecure: true`, Kafka properties, a
// PostgreSQL sslmode that does not verify, a kubeconfig's
// insecure-skip-tls-verify) and Lua scripts let out of their sandbox
// (`allow: [os, io, ffi]`). summary.json carries them as `warnings` and
// `lua_opt_ins`; summary.md lists the warnings; stderr shows them at start.
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "scenario/Scenario.h"

namespace kapture {

struct SecurityWarning {
  std::string kind;     // "tls_verification_off" or "lua_sandbox_opened"
  std::string message;  // one line naming what did it and how
};

// A workload whose Lua scripts may use libraries beyond the sandbox's.
struct LuaOptIn {
  std::string workload;
  std::string type;                  // kafka-producer, etl, http
  std::vector<std::string> scripts;  // as written in the scenario
  std::vector<std::string> allow;    // os, io, ffi
};

struct SecurityNotes {
  std::vector<SecurityWarning> warnings;
  std::vector<LuaOptIn> lua_opt_ins;

  void warn_tls(std::string message) { warnings.push_back({"tls_verification_off", std::move(message)}); }
  // {"warnings": [{kind, message}], "lua_opt_ins": [{workload, type, scripts, allow}]}
  nlohmann::json to_json() const;
};

// The scenario's own settings, plus the command line's --kafka-prop and
// --postgres. The kubernetes target adds its kubeconfig's when it connects.
SecurityNotes security_notes(const Scenario& scenario, const std::map<std::string, std::string>& cli_kafka_properties,
                             const std::string& cli_postgres_url);

// The warning for Kafka client properties that turn verification off
// (enable.ssl.certificate.verification=false, ssl.endpoint.identification.algorithm=none),
// or "" when they do not. `owner` says whose properties they are.
std::string kafka_tls_warning(const std::map<std::string, std::string>& properties, const std::string& owner);

}  // namespace kapture
