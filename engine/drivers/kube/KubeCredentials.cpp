#include "drivers/kube/KubeCredentials.h"

#include <spdlog/spdlog.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <functional>
#include <sstream>

#include "common/Redact.h"
#include "drivers/kube/Base64.h"

namespace kapture {

namespace {

std::string trim(std::string s) {
  const char* space = " \t\r\n\f\v";
  auto b = s.find_first_not_of(space);
  if (b == std::string::npos) return "";
  auto e = s.find_last_not_of(space);
  return s.substr(b, e - b + 1);
}

// A credential's secrets, registered for redaction (common/Redact.h) so
// that no message or results file can carry them.
void register_credential(const Credential& c) {
  register_secret(c.bearer_token);
  register_secret(c.basic_password);
  register_secret(c.client_key_pem);
  if (std::string auth = c.authorization(); auth.rfind("Basic ", 0) == 0) register_secret(auth.substr(6));
}

bool static_auth_set(const CredentialSpec& s) {
  return !s.token.empty() || !s.token_file.empty() || !s.username.empty() || !s.password.empty() ||
         !s.client_cert_file.empty() || !s.client_cert_pem.empty();
}

}  // namespace

Result<std::string> read_file_contents(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return runtime_error(path + ": " + std::strerror(errno));
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return runtime_error(path + ": " + std::strerror(errno));
  return text.str();
}

Result<std::string> read_token_file(const std::string& path) {
  auto text = read_file_contents(path);
  if (!text) return text.error();
  // client-go's file token source trims, and refuses an empty token.
  std::string token = trim(std::move(*text));
  if (token.empty()) return runtime_error(path + ": the file is empty");
  return token;
}

std::string Credential::authorization() const {
  if (!bearer_token.empty()) return "Bearer " + bearer_token;
  if (!basic_username.empty() || !basic_password.empty())
    return "Basic " + encode_base64(basic_username + ":" + basic_password);
  return "";
}

std::string Credential::describe() const {
  std::string out;
  auto add = [&](const std::string& part) { out += (out.empty() ? "" : " + ") + part; };
  if (!client_cert_pem.empty()) add("client certificate");
  if (!bearer_token.empty()) add("bearer token");
  if (!basic_username.empty() || !basic_password.empty()) add("basic auth as '" + basic_username + "'");
  if (out.empty()) out = "anonymous";
  if (expires) out += ", expires " + format_rfc3339(*expires);
  return out;
}

KubeCredentials::KubeCredentials(CredentialSpec spec, WallClock now, int exec_timeout_ms) : spec_(std::move(spec)) {
  token_file_.path = spec_.token_file;
  cert_file_.path = spec_.client_cert_file;
  key_file_.path = spec_.client_key_file;
  register_secret(spec_.token);
  register_secret(spec_.password);
  register_secret(spec_.client_key_pem);
  if (spec_.exec)
    for (const auto& e : spec_.exec->env)
      if (is_secret_name(e.name)) register_secret(e.value);
  // client-go does not run the plugin when the user also has a token, basic
  // credentials or a client certificate (exec.UpdateTransportConfig).
  if (spec_.exec && !static_auth_set(spec_))
    plugin_ = std::make_unique<ExecCredentialPlugin>(*spec_.exec, spec_.user, spec_.exec_cluster, std::move(now),
                                                     exec_timeout_ms);
}

Result<std::string> KubeCredentials::RotatingFile::read(const std::string& what, bool trim_it) {
  auto text = trim_it ? read_token_file(path) : read_file_contents(path);
  if (text) {
    last_good = *text;
    return text;
  }
  if (last_good.empty()) return unreachable_error("cannot read the " + what + " " + text.error().message);
  spdlog::warn("cannot read the {} {}; using what it held before", what, text.error().message);
  return last_good;
}

Result<Credential> KubeCredentials::current() {
  std::lock_guard lock(mu_);
  Credential c;
  if (plugin_) {
    auto status = plugin_->credential();
    if (!status) return status.error();
    c.bearer_token = status->token;
    c.client_cert_pem = status->client_cert_pem;
    c.client_key_pem = status->client_key_pem;
    c.expires = status->expires;
    if (plugin_->runs() != plugin_runs_seen_) {
      plugin_runs_seen_ = plugin_->runs();
      ++generation_;
      register_credential(c);
    }
    c.generation = generation_;
    return c;
  }

  std::string of_user = spec_.user.empty() ? "" : " of user '" + spec_.user + "'";
  if (!spec_.token_file.empty()) {
    auto token = token_file_.read("token file" + of_user + ",", true);
    if (token) {
      c.bearer_token = *token;
    } else if (!spec_.token.empty()) {
      c.bearer_token = spec_.token;  // client-go starts from `token` and keeps it while the file fails
    } else {
      return token.error();
    }
  } else {
    c.bearer_token = spec_.token;
  }
  c.basic_username = spec_.username;
  c.basic_password = spec_.password;
  if (!spec_.client_cert_file.empty()) {
    auto cert = cert_file_.read("client-certificate" + of_user + ",", false);
    if (!cert) return cert.error();
    c.client_cert_pem = *cert;
  } else {
    c.client_cert_pem = spec_.client_cert_pem;
  }
  if (!spec_.client_key_file.empty()) {
    auto key = key_file_.read("client-key" + of_user + ",", false);
    if (!key) return key.error();
    c.client_key_pem = *key;
  } else {
    c.client_key_pem = spec_.client_key_pem;
  }
  // A hash, not a copy: enough to tell that the credential changed.
  std::string fingerprint = std::to_string(std::hash<std::string>{}(c.bearer_token + '\0' + c.client_cert_pem + '\0' +
                                                                     c.client_key_pem + '\0' + c.basic_username + '\0' +
                                                                     c.basic_password));
  if (generation_ == 0 || fingerprint != last_fingerprint_) {
    last_fingerprint_ = fingerprint;
    ++generation_;
    register_credential(c);
  }
  c.generation = generation_;
  return c;
}

void KubeCredentials::invalidate() {
  std::lock_guard lock(mu_);
  if (plugin_) plugin_->invalidate();
}

void KubeCredentials::invalidate(uint64_t generation) {
  std::lock_guard lock(mu_);
  if (plugin_ && generation == generation_) plugin_->invalidate();
}

std::string KubeCredentials::describe() const {
  std::lock_guard lock(mu_);
  if (plugin_) return plugin_->describe();
  std::string out;
  auto add = [&](const std::string& part) { out += (out.empty() ? "" : " + ") + part; };
  if (!spec_.client_cert_file.empty()) add("client certificate from " + spec_.client_cert_file);
  if (!spec_.client_cert_pem.empty()) add("client certificate from client-certificate-data");
  if (!spec_.token_file.empty()) add("bearer token from file " + spec_.token_file);
  else if (!spec_.token.empty()) add("bearer token");
  if (!spec_.username.empty() || !spec_.password.empty()) add("basic auth as '" + spec_.username + "'");
  if (out.empty()) out = "anonymous";
  if (!spec_.user.empty()) out += " (user '" + spec_.user + "')";
  return out;
}

}  // namespace kapture
