#include "distributed/RunMessage.h"

#include <iterator>

#include <nlohmann/json.hpp>

namespace kapture {

namespace {

constexpr const char* kTypeNames[] = {"start", "load", "stop", "abort", "beat", "ready", "metrics", "failed", "ledger", "done"};

nlohmann::json bytes(const std::string& s) { return nlohmann::json::binary(std::vector<uint8_t>(s.begin(), s.end())); }

std::string bytes_of(const nlohmann::json& j) {
  const auto& b = j.get_binary();
  return std::string(b.begin(), b.end());
}

const char* load_kind_name(LoadSpec::Kind k) {
  switch (k) {
    case LoadSpec::Kind::Rate: return "rate";
    case LoadSpec::Kind::Ramp: return "ramp";
    case LoadSpec::Kind::Max: return "max";
  }
  return "rate";
}

}  // namespace

const char* run_message_type_name(RunMessage::Type t) { return kTypeNames[static_cast<int>(t)]; }

std::string encode_run_message(const RunMessage& m) {
  nlohmann::json j = {{"type", run_message_type_name(m.type)}, {"from", m.from}};
  switch (m.type) {
    case RunMessage::Type::Start: j["epoch_wall_ms"] = m.epoch_wall_ms; break;
    case RunMessage::Type::Load:
      j["workload"] = m.workload;
      j["kind"] = load_kind_name(m.load.kind);
      j["rate"] = m.load.rate;
      j["from_rate"] = m.load.from;
      j["to_rate"] = m.load.to;
      j["poisson"] = m.load.arrivals == Arrivals::Poisson;
      j["start_us"] = m.start_us;
      j["duration_us"] = m.duration_us;
      break;
    case RunMessage::Type::Stop: j["drain_ms"] = m.drain_ms; break;
    case RunMessage::Type::Abort: j["reason"] = m.reason; break;
    case RunMessage::Type::Failed:
      j["reason"] = m.reason;
      j["usage"] = m.usage;
      break;
    case RunMessage::Type::Metrics: {
      auto& a = j["seconds"] = nlohmann::json::array();
      for (const auto& [second, sample] : m.seconds) a.push_back({second, bytes(sample)});
      break;
    }
    case RunMessage::Type::Ledger:
      j["workload"] = m.workload;
      j["acked"] = bytes(m.acked);
      j["failed"] = bytes(m.failed);
      break;
    case RunMessage::Type::Done: j["ledger_chunks"] = m.ledger_chunks; break;
    case RunMessage::Type::Beat:
    case RunMessage::Type::Ready: break;
  }
  auto cbor = nlohmann::json::to_cbor(j);
  return std::string(cbor.begin(), cbor.end());
}

Result<RunMessage> decode_run_message(std::string_view in) {
  auto j = nlohmann::json::from_cbor(in.begin(), in.end(), true, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("type") || !j["type"].is_string())
    return runtime_error("run topic: a message that is not one of ours (" + std::to_string(in.size()) + " bytes)");
  RunMessage m;
  const std::string type = j["type"];
  bool known = false;
  for (int i = 0; i < static_cast<int>(std::size(kTypeNames)); ++i) {
    if (type == kTypeNames[i]) {
      m.type = static_cast<RunMessage::Type>(i);
      known = true;
    }
  }
  if (!known) return runtime_error("run topic: unknown message type '" + type + "'");
  try {
    m.from = j.value("from", -1);
    switch (m.type) {
      case RunMessage::Type::Start: m.epoch_wall_ms = j.at("epoch_wall_ms"); break;
      case RunMessage::Type::Load: {
        m.workload = j.at("workload");
        const std::string kind = j.at("kind");
        m.load.kind = kind == "max" ? LoadSpec::Kind::Max : kind == "ramp" ? LoadSpec::Kind::Ramp : LoadSpec::Kind::Rate;
        m.load.rate = j.at("rate");
        m.load.from = j.at("from_rate");
        m.load.to = j.at("to_rate");
        m.load.arrivals = j.at("poisson").get<bool>() ? Arrivals::Poisson : Arrivals::Constant;
        m.start_us = j.at("start_us");
        m.duration_us = j.at("duration_us");
        break;
      }
      case RunMessage::Type::Stop: m.drain_ms = j.at("drain_ms"); break;
      case RunMessage::Type::Abort: m.reason = j.at("reason"); break;
      case RunMessage::Type::Failed:
        m.reason = j.at("reason");
        m.usage = j.value("usage", false);
        break;
      case RunMessage::Type::Metrics:
        for (const auto& s : j.at("seconds")) m.seconds.emplace_back(s.at(0).get<int64_t>(), bytes_of(s.at(1)));
        break;
      case RunMessage::Type::Ledger:
        m.workload = j.at("workload");
        m.acked = bytes_of(j.at("acked"));
        m.failed = bytes_of(j.at("failed"));
        break;
      case RunMessage::Type::Done: m.ledger_chunks = j.at("ledger_chunks"); break;
      case RunMessage::Type::Beat:
      case RunMessage::Type::Ready: break;
    }
  } catch (const nlohmann::json::exception& e) {
    return runtime_error("run topic: a '" + type + "' message without its fields: " + e.what());
  }
  return m;
}

}  // namespace kapture
