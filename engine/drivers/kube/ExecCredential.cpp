#include "drivers/kube/ExecCredential.h"

#include <cstdlib>
#include <ctime>

#include "drivers/kube/Base64.h"
#include "drivers/kube/CapturedCommand.h"

namespace kapture {

namespace {

using SystemClock = std::chrono::system_clock;

constexpr const char* kV1 = "client.authentication.k8s.io/v1";
constexpr const char* kV1beta1 = "client.authentication.k8s.io/v1beta1";

// Reads exactly `n` digits at `i`.
bool read_digits(const std::string& s, size_t& i, int n, int& out) {
  if (i + static_cast<size_t>(n) > s.size()) return false;
  out = 0;
  for (int k = 0; k < n; ++k) {
    char c = s[i + static_cast<size_t>(k)];
    if (c < '0' || c > '9') return false;
    out = out * 10 + (c - '0');
  }
  i += static_cast<size_t>(n);
  return true;
}

bool expect(const std::string& s, size_t& i, char c) {
  if (i >= s.size() || (s[i] != c && !(c == 'T' && s[i] == 't'))) return false;
  ++i;
  return true;
}

// A status field that must be a string when present.
Status string_field(const nlohmann::json& status, const char* key, std::string& out) {
  auto it = status.find(key);
  if (it == status.end() || it->is_null()) return std::nullopt;
  if (!it->is_string()) return usage_error(std::string("status.") + key + " is not a string");
  out = it->get<std::string>();
  return std::nullopt;
}

}  // namespace

std::optional<SystemClock::time_point> parse_rfc3339(const std::string& s) {
  size_t i = 0;
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, sec = 0;
  if (!read_digits(s, i, 4, y) || !expect(s, i, '-') || !read_digits(s, i, 2, mo) || !expect(s, i, '-') ||
      !read_digits(s, i, 2, d) || !expect(s, i, 'T') || !read_digits(s, i, 2, h) || !expect(s, i, ':') ||
      !read_digits(s, i, 2, mi) || !expect(s, i, ':') || !read_digits(s, i, 2, sec))
    return std::nullopt;
  std::chrono::nanoseconds fraction{0};
  if (i < s.size() && s[i] == '.') {
    ++i;
    int64_t scale = 100000000, ns = 0;
    size_t start = i;
    for (; i < s.size() && s[i] >= '0' && s[i] <= '9'; ++i) {
      ns += (s[i] - '0') * scale;
      scale /= 10;
    }
    if (i == start) return std::nullopt;
    fraction = std::chrono::nanoseconds(ns);
  }
  std::chrono::minutes offset{0};
  if (i < s.size() && (s[i] == 'Z' || s[i] == 'z')) {
    ++i;
  } else if (i < s.size() && (s[i] == '+' || s[i] == '-')) {
    int sign = s[i] == '-' ? -1 : 1;
    ++i;
    int oh = 0, om = 0;
    if (!read_digits(s, i, 2, oh) || !expect(s, i, ':') || !read_digits(s, i, 2, om) || oh > 23 || om > 59)
      return std::nullopt;
    offset = std::chrono::minutes(sign * (oh * 60 + om));
  } else {
    return std::nullopt;
  }
  if (i != s.size() || h > 23 || mi > 59 || sec > 59) return std::nullopt;
  std::chrono::year_month_day date{std::chrono::year(y), std::chrono::month(static_cast<unsigned>(mo)),
                                   std::chrono::day(static_cast<unsigned>(d))};
  if (!date.ok()) return std::nullopt;
  auto t = SystemClock::time_point(std::chrono::sys_days(date)) + std::chrono::hours(h) + std::chrono::minutes(mi) +
           std::chrono::seconds(sec);
  return std::chrono::time_point_cast<SystemClock::duration>(t + fraction - offset);
}

std::string format_rfc3339(SystemClock::time_point t) {
  std::time_t secs = SystemClock::to_time_t(std::chrono::floor<std::chrono::seconds>(t));
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

Status validate_exec_config(const KubeconfigExec& exec, const std::string& user) {
  std::string what = "the exec plugin of user '" + user + "'";
  if (exec.command.empty()) return usage_error(what + " has no command (client-go requires one)", exec.where);
  if (exec.api_version.empty())
    return usage_error(what + " has no apiVersion: write " + kV1 + " (or " + kV1beta1 + ")", exec.where);
  if (exec.api_version != kV1 && exec.api_version != kV1beta1)
    return usage_error(what + " has apiVersion '" + exec.api_version + "'; client-go and the engine support " + kV1 +
                           " and " + kV1beta1,
                       exec.where);
  for (const auto& e : exec.env)
    if (e.name.empty()) return usage_error(what + " has an env entry without a name", exec.where);
  // kubeconfig v1 defaults interactiveMode to IfAvailable for v1beta1 plugins
  // only; for v1 it must be written (SetDefaults_ExecConfig, validateAuthInfo).
  std::string mode = exec.interactive_mode;
  if (mode.empty() && exec.api_version == kV1beta1) mode = "IfAvailable";
  if (mode.empty())
    return usage_error("interactiveMode must be specified for " + user +
                           " to use exec authentication plugin (Never, IfAvailable or Always; " + kV1 +
                           " has no default)",
                       exec.where);
  if (mode != "Never" && mode != "IfAvailable" && mode != "Always")
    return usage_error("invalid interactiveMode for " + user + ": '" + mode + "' (Never, IfAvailable or Always)", exec.where);
  // client-go lets an interactive plugin read the terminal; the engine never
  // gives plugins its stdin (it may run unattended in CI), so IfAvailable
  // means non-interactive and Always cannot be honoured.
  if (mode == "Always")
    return usage_error(what + " has interactiveMode Always, but the engine runs plugins without a terminal; log in "
                              "with the plugin first (so it can answer from its cache) or use IfAvailable/Never",
                       exec.where);
  return std::nullopt;
}

std::string exec_info_json(const std::string& api_version, const std::optional<ExecClusterInfo>& cluster) {
  // Field names and order as client-go encodes ExecCredential; empty optional
  // fields are left out as their omitempty tags say. Strings from the
  // kubeconfig that are not UTF-8 get U+FFFD for their bad bytes, as Go's
  // encoding/json does (nlohmann's dump() would throw).
  constexpr auto replace = nlohmann::json::error_handler_t::replace;
  nlohmann::ordered_json spec;
  if (cluster) {
    nlohmann::ordered_json c;
    c["server"] = cluster->server;
    if (!cluster->tls_server_name.empty()) c["tls-server-name"] = cluster->tls_server_name;
    if (cluster->insecure_skip_tls_verify) c["insecure-skip-tls-verify"] = true;
    if (!cluster->ca_pem.empty()) c["certificate-authority-data"] = encode_base64(cluster->ca_pem);
    if (!cluster->proxy_url.empty()) c["proxy-url"] = cluster->proxy_url;
    if (cluster->disable_compression) c["disable-compression"] = true;
    if (cluster->config) c["config"] = nlohmann::ordered_json::parse(cluster->config->dump(-1, ' ', false, replace));
    spec["cluster"] = std::move(c);
  }
  spec["interactive"] = false;
  nlohmann::ordered_json cred;
  cred["kind"] = "ExecCredential";
  cred["apiVersion"] = api_version;
  cred["spec"] = std::move(spec);
  return cred.dump(-1, ' ', false, replace);
}

Result<ExecCredentialStatus> parse_exec_credential(const std::string& json_text, const std::string& api_version) {
  if (json_text.find_first_not_of(" \t\r\n") == std::string::npos)
    return usage_error("it printed nothing on stdout (an ExecCredential JSON was expected)");
  nlohmann::json doc;
  try {
    doc = nlohmann::json::parse(json_text);
  } catch (const nlohmann::json::parse_error& e) {
    // e.what() quotes the text around the error: it may be part of a token.
    return usage_error("its output is not an ExecCredential: not valid JSON (error at byte " + std::to_string(e.byte) + ")");
  }
  if (!doc.is_object()) return usage_error("its output is not an ExecCredential: not a JSON object");
  std::string got_version = doc.contains("apiVersion") && doc["apiVersion"].is_string() ? doc["apiVersion"].get<std::string>() : "";
  if (got_version != api_version)
    return usage_error("exec plugin is configured to use API version " + api_version + ", plugin returned version " +
                       (got_version.empty() ? std::string("none") : got_version));
  std::string kind = doc.contains("kind") && doc["kind"].is_string() ? doc["kind"].get<std::string>() : "";
  if (kind != "ExecCredential")
    return usage_error("its output has kind '" + kind + "', not ExecCredential");
  auto status_it = doc.find("status");
  if (status_it == doc.end() || status_it->is_null()) return usage_error("exec plugin didn't return a status field");
  if (!status_it->is_object()) return usage_error("its output's status is not a JSON object");
  const nlohmann::json& status = *status_it;

  ExecCredentialStatus out;
  if (auto err = string_field(status, "token", out.token)) return *err;
  if (auto err = string_field(status, "clientCertificateData", out.client_cert_pem)) return *err;
  if (auto err = string_field(status, "clientKeyData", out.client_key_pem)) return *err;
  std::string expiry;
  if (auto err = string_field(status, "expirationTimestamp", expiry)) return *err;
  if (!expiry.empty()) {  // metav1.Time reads "" as no time
    out.expires = parse_rfc3339(expiry);
    if (!out.expires) return usage_error("status.expirationTimestamp '" + expiry + "' is not an RFC 3339 time");
  }
  if (out.token.empty() && out.client_cert_pem.empty() && out.client_key_pem.empty())
    return usage_error("exec plugin didn't return a token or cert/key pair");
  if (out.client_cert_pem.empty() != out.client_key_pem.empty())
    return usage_error("exec plugin returned only certificate or key, not both");
  return out;
}

ExecCredentialPlugin::ExecCredentialPlugin(KubeconfigExec exec, std::string user, std::optional<ExecClusterInfo> cluster,
                                           WallClock now, int timeout_ms)
    : exec_(std::move(exec)),
      user_(std::move(user)),
      cluster_(std::move(cluster)),
      now_(now ? std::move(now) : WallClock([] { return SystemClock::now(); })),
      timeout_ms_(timeout_ms) {}

std::string ExecCredentialPlugin::who() const { return "exec plugin " + exec_.command + " of user '" + user_ + "'"; }

std::string ExecCredentialPlugin::describe() const {
  return "exec plugin " + exec_.command + " (" + exec_.api_version + ") of user '" + user_ + "'";
}

Result<ExecCredentialStatus> ExecCredentialPlugin::credential() {
  // Expired once the clock is past the expiry, as client-go's credsExpired.
  if (cached_ && (!cached_->expires || !(now_() > *cached_->expires))) return *cached_;
  cached_.reset();
  auto fresh = run();
  if (!fresh) return fresh.error();
  cached_ = std::move(*fresh);
  ++runs_;
  return *cached_;
}

Result<ExecCredentialStatus> ExecCredentialPlugin::run() {
  // exec.Command looks a bare name up in the engine's own PATH, not in the
  // plugin's env.
  const char* path_env = std::getenv("PATH");
  std::string program = look_path(exec_.command, path_env ? path_env : "");
  if (program.empty()) {
    std::string msg = who() + ": executable " + exec_.command + " not found";
    if (exec_.command.find('/') == std::string::npos) msg += " in PATH";
    if (!exec_.install_hint.empty()) msg += "\n\n" + exec_.install_hint;
    return unreachable_error(msg);
  }

  CommandToRun command;
  command.program = program;
  command.args = exec_.args;
  command.timeout_ms = timeout_ms_;
  // The engine's environment, then the plugin's env entries, then
  // KUBERNETES_EXEC_INFO: a later entry replaces an earlier one of that name,
  // as client-go's `append(os.Environ(), env...)` works out under os/exec.
  command.env = process_environment();
  auto set_env = [&](const std::string& name, const std::string& value) {
    std::string prefix = name + "=";
    std::erase_if(command.env, [&](const std::string& e) { return e.compare(0, prefix.size(), prefix) == 0; });
    command.env.push_back(prefix + value);
  };
  for (const auto& e : exec_.env) set_env(e.name, e.value);
  set_env("KUBERNETES_EXEC_INFO", exec_info_json(exec_.api_version, exec_.provide_cluster_info ? cluster_ : std::nullopt));

  auto outcome = run_captured(command);
  if (!outcome) return unreachable_error(who() + ": " + outcome.error().message);
  if (!outcome->exited_ok()) {
    std::string msg = who() + " " + describe_exit(outcome->wait_status);
    std::string tail = outcome->err_tail;
    while (!tail.empty() && (tail.back() == '\n' || tail.back() == '\r')) tail.pop_back();
    msg += tail.empty() ? std::string(" and printed nothing on stderr") : "; the end of its stderr:\n" + tail;
    return unreachable_error(msg);
  }
  auto status = parse_exec_credential(outcome->out, exec_.api_version);
  if (!status) return unreachable_error(who() + ": " + status.error().message);
  auto now = now_();
  if (status->expires && now > *status->expires)
    return unreachable_error(who() + " returned a credential that expired at " + format_rfc3339(*status->expires) +
                             " (the time is now " + format_rfc3339(now) + "; is the plugin's cache stale, or a clock off?)");
  return status;
}

}  // namespace kapture
