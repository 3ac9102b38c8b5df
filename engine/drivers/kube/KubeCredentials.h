#pragma once
// Who the engine is to the Kubernetes API server: the credential of the
// chosen kubeconfig user (or of the pod's service account), produced on
// demand because several kinds rotate: token files (projected service
// account tokens are replaced about hourly), client certificate files, and
// exec plugin credentials that expire.
//
// Secrets live in Credential and CredentialSpec only; their describe()s and
// every error message leave them out.
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "common/Error.h"
#include "drivers/kube/ExecCredential.h"
#include "drivers/kube/KubeconfigFile.h"

namespace kapture {

// What to send with a request. Any combination may be set: a client
// certificate goes with the TLS handshake, a token or basic credentials in
// the Authorization header; none of them means anonymous.
struct Credential {
  std::string bearer_token;
  std::string basic_username, basic_password;  // legacy basic auth
  std::string client_cert_pem, client_key_pem;
  std::optional<std::chrono::system_clock::time_point> expires;  // exec credentials that say so
  // Changes whenever the credential does (a plugin re-ran, a file changed):
  // a client with a TLS connection set up for an older client certificate
  // reconnects, and invalidate(generation) refreshes only once per change.
  uint64_t generation = 0;

  bool anonymous() const { return bearer_token.empty() && basic_username.empty() && client_cert_pem.empty(); }
  bool has_client_certificate() const { return !client_cert_pem.empty(); }
  // The Authorization header's value ("Bearer ...", "Basic ..."), or "".
  std::string authorization() const;
  // What kind of credential this is, without any secret in it.
  std::string describe() const;
};

// Where a user's credential comes from, as the kubeconfig (or the service
// account) says. Files are paths; *_pem fields are kubeconfig -data values.
struct CredentialSpec {
  std::string user;  // the kubeconfig user's name, for messages ("" = anonymous)
  std::string token;
  std::string token_file;  // re-read on every use; `token` is the fallback while it is unreadable
  std::string username, password;
  std::string client_cert_file, client_key_file;  // re-read on every use
  std::string client_cert_pem, client_key_pem;
  std::optional<KubeconfigExec> exec;  // used only when nothing above is set (client-go)
  std::optional<ExecClusterInfo> exec_cluster;  // for a plugin with provideClusterInfo
};

class KubeCredentials {
 public:
  // `now` is the clock exec credential expiry is judged by (tests move it).
  explicit KubeCredentials(CredentialSpec spec, WallClock now = {}, int exec_timeout_ms = 60000);
  KubeCredentials(const KubeCredentials&) = delete;
  KubeCredentials& operator=(const KubeCredentials&) = delete;

  // The credential to use now. Thread-safe; a plugin runs once at a time.
  // Token and certificate files are re-read each call; when one has become
  // unreadable the last content read is used (client-go keeps its cached
  // token likewise) and a warning is logged.
  Result<Credential> current();

  // The API server answered 401: drop the cached exec credential so the next
  // current() runs the plugin again. The overload taking the generation of
  // the rejected credential does so only if no newer one has been fetched
  // since, so a burst of 401s re-runs the plugin once (client-go's
  // maybeRefreshCreds). Nothing to do for the other kinds, re-read anyway.
  void invalidate();
  void invalidate(uint64_t generation);

  // "exec plugin aws (client.authentication.k8s.io/v1beta1) of user 'u'",
  // "bearer token from file /var/run/...", ...: no secrets.
  std::string describe() const;

 private:
  // A file re-read on use, remembering its last good content.
  struct RotatingFile {
    std::string path;
    std::string last_good;
    Result<std::string> read(const std::string& what, bool trim);
  };

  CredentialSpec spec_;
  std::unique_ptr<ExecCredentialPlugin> plugin_;
  RotatingFile token_file_, cert_file_, key_file_;
  mutable std::mutex mu_;
  uint64_t generation_ = 0;
  uint64_t plugin_runs_seen_ = 0;
  std::string last_fingerprint_;  // what the previous credential was, to tell a change
};

// The whole content of a (small) file. The error is "PATH: reason".
Result<std::string> read_file_contents(const std::string& path);

// A token file's content as client-go uses it: surrounding whitespace
// trimmed; an empty file is an error.
Result<std::string> read_token_file(const std::string& path);

}  // namespace kapture
