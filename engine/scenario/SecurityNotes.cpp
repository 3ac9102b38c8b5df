#include "scenario/SecurityNotes.h"

#include "common/Redact.h"

namespace kapture {

namespace {

std::string lower(std::string s) {
  for (char& c : s)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return s;
}

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& i : items) out += (out.empty() ? "" : ", ") + i;
  return out;
}

// libpq's sslmode from a URL (?sslmode=) or a key=value string; "" if unset.
std::string postgres_sslmode(const std::string& url) {
  auto at = url.find("sslmode=");
  if (at == std::string::npos) return "";
  auto start = at + 8, end = url.find_first_of("& \t", start);
  return lower(url.substr(start, end == std::string::npos ? std::string::npos : end - start));
}

void note_lua(SecurityNotes& notes, const std::string& workload, const std::string& type, std::vector<std::string> scripts,
              const std::vector<std::string>& allow) {
  if (allow.empty()) return;
  notes.lua_opt_ins.push_back({workload, type, scripts, allow});
  std::string which = scripts.empty() ? std::string("its Lua scripts") : "Lua " + join(scripts);
  notes.warnings.push_back({"lua_sandbox_opened", type + " '" + workload + "': " + which + " may use " + join(allow) +
                                                      " (allow: in the scenario; the sandbox has only base, table, string, math and bit otherwise)"});
}

}  // namespace

std::string kafka_tls_warning(const std::map<std::string, std::string>& properties, const std::string& owner) {
  std::vector<std::string> off;
  if (auto it = properties.find("enable.ssl.certificate.verification"); it != properties.end()) {
    std::string v = lower(it->second);
    if (v == "false" || v == "0" || v == "no" || v == "off") off.push_back("enable.ssl.certificate.verification=" + it->second);
  }
  if (auto it = properties.find("ssl.endpoint.identification.algorithm"); it != properties.end() && lower(it->second) == "none")
    off.push_back("ssl.endpoint.identification.algorithm=none");
  if (off.empty()) return "";
  return owner + ": TLS verification of the Kafka brokers is off (" + join(off) + ")";
}

nlohmann::json SecurityNotes::to_json() const {
  nlohmann::json j = {{"warnings", nlohmann::json::array()}, {"lua_opt_ins", nlohmann::json::array()}};
  for (const auto& w : warnings) j["warnings"].push_back({{"kind", w.kind}, {"message", w.message}});
  for (const auto& l : lua_opt_ins)
    j["lua_opt_ins"].push_back({{"workload", l.workload}, {"type", l.type}, {"scripts", l.scripts}, {"allow", l.allow}});
  return j;
}

SecurityNotes security_notes(const Scenario& s, const std::map<std::string, std::string>& cli_kafka_properties,
                             const std::string& cli_postgres_url) {
  SecurityNotes notes;
  auto kafka = [&](const std::map<std::string, std::string>& props, const std::string& owner) {
    if (auto w = kafka_tls_warning(props, owner); !w.empty()) notes.warn_tls(w);
  };
  kafka(cli_kafka_properties, "--kafka-prop");
  kafka(s.kafka.properties, "topology.kafka.properties");
  if (s.webapp.declared) kafka(s.webapp.properties, "topology.webapp.properties");
  for (const auto& w : s.workloads) kafka(w.properties, "kafka-producer '" + w.name + "' properties");
  for (const auto& e : s.etls) kafka(e.properties, "etl '" + e.name + "' properties");
  for (const auto& h : s.https)
    if (h.insecure) notes.warn_tls("http '" + h.name + "': TLS certificate and host name verification is off (insecure: true)");
  for (const auto& r : s.sses)
    if (r.insecure) notes.warn_tls("sse '" + r.name + "': TLS certificate and host name verification is off (insecure: true)");
  // libpq verifies the server only with sslmode=verify-ca or verify-full.
  std::string pg = !cli_postgres_url.empty() ? cli_postgres_url : s.postgres.declared ? s.postgres.url : "";
  if (std::string mode = postgres_sslmode(pg); mode == "allow" || mode == "prefer" || mode == "require")
    notes.warn_tls("postgres: sslmode=" + mode + " does not verify the server's certificate (verify-full does)");

  for (const auto& w : s.workloads) {
    std::vector<std::string> scripts;
    if (w.generator) scripts.push_back(w.generator->display_path);
    note_lua(notes, w.name, "kafka-producer", scripts, w.allow);
  }
  for (const auto& e : s.etls) {
    std::vector<std::string> scripts;
    if (e.transform) scripts.push_back(e.transform->display_path);
    note_lua(notes, e.name, "etl", scripts, e.allow);
  }
  for (const auto& h : s.https) {
    std::vector<std::string> scripts;
    if (h.request) scripts.push_back(h.request->display_path);
    if (h.response && (!h.request || h.response->display_path != h.request->display_path)) scripts.push_back(h.response->display_path);
    note_lua(notes, h.name, "http", scripts, h.allow);
  }
  // Messages quote settings, never their secret values; redact anyway.
  for (auto& w : notes.warnings) w.message = redact(w.message);
  return notes;
}

}  // namespace kapture
