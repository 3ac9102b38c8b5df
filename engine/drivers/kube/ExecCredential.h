#pragma once
// client-go credential plugins (kubeconfig users[].user.exec): the engine
// runs the plugin's command, hands it KUBERNETES_EXEC_INFO, reads the
// ExecCredential it prints and keeps that until it expires or the API server
// rejects it. Mirrors k8s.io/client-go/plugin/pkg/client/auth/exec.
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "common/Error.h"
#include "drivers/kube/KubeconfigFile.h"

namespace kapture {

using WallClock = std::function<std::chrono::system_clock::time_point()>;

// What a plugin with provideClusterInfo: true is told about the cluster
// (ExecCredential spec.cluster).
struct ExecClusterInfo {
  std::string server;
  std::string tls_server_name;
  bool insecure_skip_tls_verify = false;
  std::string ca_pem;
  std::string proxy_url;
  bool disable_compression = false;
  std::optional<nlohmann::json> config;  // the cluster's client.authentication.k8s.io/exec extension
};

// ExecCredential status: what the plugin handed back. Secret: never print.
struct ExecCredentialStatus {
  std::string token;
  std::string client_cert_pem, client_key_pem;
  std::optional<std::chrono::system_clock::time_point> expires;
};

// client-go's validation of an exec stanza (clientcmd validateAuthInfo and
// exec.newAuthenticator): command and apiVersion set and known, env names
// set, interactiveMode valid (required for v1, IfAvailable by default for
// v1beta1). The engine runs plugins without a terminal, so interactiveMode
// Always is refused here rather than on first use.
Status validate_exec_config(const KubeconfigExec& exec, const std::string& user);

// The KUBERNETES_EXEC_INFO value: an ExecCredential with spec.interactive
// false and, when given, spec.cluster.
std::string exec_info_json(const std::string& api_version, const std::optional<ExecClusterInfo>& cluster);

// Reads a plugin's stdout. Errors do not quote the output (it holds secrets).
Result<ExecCredentialStatus> parse_exec_credential(const std::string& json_text, const std::string& api_version);

// RFC 3339 ("2024-05-01T12:00:00Z", "2024-05-01T14:00:00.5+02:00").
std::optional<std::chrono::system_clock::time_point> parse_rfc3339(const std::string& text);
std::string format_rfc3339(std::chrono::system_clock::time_point t);  // UTC, whole seconds

// One plugin of one kubeconfig user, with its cached credential. Not
// thread-safe by itself: KubeCredentials serializes calls, which also keeps
// a plugin from running twice at once (client-go holds a mutex likewise).
class ExecCredentialPlugin {
 public:
  ExecCredentialPlugin(KubeconfigExec exec, std::string user, std::optional<ExecClusterInfo> cluster, WallClock now,
                       int timeout_ms = 60000);

  // The cached credential while it has not expired (one without an
  // expiry stays until invalidate()), else the plugin's fresh one. Errors:
  // the plugin is not found (with its installHint), exits non-zero (with
  // the end of its stderr), times out, prints something that is not an
  // ExecCredential, or hands back a credential that has already expired.
  Result<ExecCredentialStatus> credential();
  // Drop the cached credential: the API server said 401 to it.
  void invalidate() { cached_.reset(); }
  // How many times the plugin has produced a credential (a new one each time).
  uint64_t runs() const { return runs_; }
  // "exec plugin aws (client.authentication.k8s.io/v1beta1) of user 'u'"
  std::string describe() const;

 private:
  Result<ExecCredentialStatus> run();
  std::string who() const;  // for messages

  KubeconfigExec exec_;
  std::string user_;
  std::optional<ExecClusterInfo> cluster_;
  WallClock now_;
  int timeout_ms_;
  std::optional<ExecCredentialStatus> cached_;
  uint64_t runs_ = 0;
};

}  // namespace kapture
