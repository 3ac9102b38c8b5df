#pragma once
// How to reach and authenticate to a Kubernetes API server, found the way
// kubectl finds it (client-go's clientcmd.DeferredLoadingClientConfig):
//
//   1. an explicit kubeconfig path (--kubeconfig), else the files of
//      $KUBECONFIG (':'-separated; missing ones skipped), else ~/.kube/config;
//      several files merge with client-go's precedence (KubeconfigFile.h);
//   2. an explicit context (--context), else current-context; the context
//      names a cluster (server, CA, TLS settings), a user (the credential)
//      and a namespace ("default" when it names none);
//   3. when there is no kubeconfig at all and the engine runs in a pod, the
//      pod's service account (rest.InClusterConfig).
//
// The result is a KubeEndpoint (plain data, nothing secret) and a shared
// KubeCredentials that yields the credential on demand.
#include <memory>
#include <string>
#include <vector>

#include "common/Error.h"
#include "drivers/kube/ExecCredential.h"
#include "drivers/kube/KubeCredentials.h"
#include "drivers/kube/KubeconfigFile.h"

namespace kapture {

inline constexpr const char* kServiceAccountDir = "/var/run/secrets/kubernetes.io/serviceaccount";

// The environment the lookup depends on; from_process() reads the real one,
// tests write their own.
struct KubeEnvironment {
  std::string kubeconfig;     // $KUBECONFIG
  std::string home;           // $HOME: ~/.kube/config
  std::string service_host;   // $KUBERNETES_SERVICE_HOST, $KUBERNETES_SERVICE_PORT: set in pods
  std::string service_port;
  std::string pod_namespace;  // $POD_NAMESPACE: overrides the service account's namespace file
  std::string service_account_dir = kServiceAccountDir;  // token, ca.crt, namespace

  static KubeEnvironment from_process();
};

struct KubeConfigOptions {
  std::string kubeconfig;  // like --kubeconfig: only this file
  std::string context;     // like --context
  std::string namespace_;  // like --namespace
  WallClock clock;         // judges exec credential expiry; system clock when empty
  int exec_timeout_ms = 60000;
};

// Where the API server is and how to trust it. No secrets: printable.
struct KubeEndpoint {
  std::string server;           // "https://host:port", no trailing '/'
  std::string ca_pem;           // CA bundle to trust; "" = the system's trust store
  std::string ca_source;        // where ca_pem came from, for messages
  std::string tls_server_name;  // SNI and the name to verify, when not the server's host
  bool insecure = false;        // skip TLS verification: only when the kubeconfig says so
  std::string proxy_url;        // the kubeconfig's proxy-url: not used (see warnings)
  std::string namespace_ = "default";
  std::string context, cluster, user;  // the kubeconfig names; empty in-cluster
  bool in_cluster = false;
  std::vector<std::string> kubeconfig_files;  // read, in precedence order
  std::vector<std::string> warnings;          // settings found but not honoured, to show the user

  // One line: context, server, CA source, namespace; for logs and errors.
  std::string describe() const;
};

struct KubeAccess {
  KubeEndpoint endpoint;
  std::shared_ptr<KubeCredentials> credentials;  // shared by the clients of one endpoint
};

// The whole lookup above. Errors name the file (with line:column where there
// is one) and what is wrong: a missing file, YAML syntax, an unknown context
// (listing the known ones), a context naming a missing cluster or user, an
// unreadable CA or client certificate, base64 that does not decode, an
// auth-provider (not supported), an invalid exec stanza. Exec plugins do not
// run here: the first credentials->current() runs them.
Result<KubeAccess> resolve_kube_access(const KubeConfigOptions& options,
                                       const KubeEnvironment& env = KubeEnvironment::from_process());

// The kubeconfig files step 1 would read, in precedence order.
std::vector<std::string> kubeconfig_paths(const KubeConfigOptions& options, const KubeEnvironment& env);

// Reads and merges them. Files of $KUBECONFIG or the default that do not
// exist are skipped (client-go does); an explicit path must exist.
Result<Kubeconfig> load_kubeconfig(const KubeConfigOptions& options, const KubeEnvironment& env);

// Step 2 on an already loaded kubeconfig.
Result<KubeAccess> resolve_context(const Kubeconfig& config, const KubeConfigOptions& options);

// Step 3: KUBERNETES_SERVICE_HOST/PORT set and the token file present
// (inClusterClientConfig.Possible), and the service account config.
bool in_cluster_possible(const KubeEnvironment& env);
Result<KubeAccess> resolve_in_cluster(const KubeConfigOptions& options, const KubeEnvironment& env);

}  // namespace kapture
