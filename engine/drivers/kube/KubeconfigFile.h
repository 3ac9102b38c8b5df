#pragma once
// Kubeconfig files as client-go reads them (k8s.io/client-go/tools/clientcmd):
// one file parsed into named clusters, users and contexts, and several files
// merged into one view with client-go's precedence rules.
//
// What this keeps of a file is what the engine needs to reach and
// authenticate to an API server; preferences and extensions other than the
// exec plugin's cluster config are skipped, and unknown keys are ignored as
// client-go ignores them. The structs hold secrets (tokens, passwords, keys):
// never print them; KubeEndpoint and Credential have redacting describe()s.
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/Error.h"

namespace kapture {

struct KubeconfigCluster {
  std::string name;
  SourceLocation where;  // the entry in its file (the file is where.file)
  std::string server;
  // Absolute: client-go resolves a relative path against the directory of
  // the kubeconfig file that holds it (ResolveLocalPaths), not the working
  // directory. `certificate_authority_as_written` keeps the original for messages.
  std::string certificate_authority;
  std::string certificate_authority_as_written;
  std::optional<std::string> certificate_authority_data;  // decoded (PEM)
  std::string tls_server_name;
  bool insecure_skip_tls_verify = false;
  std::string proxy_url;
  bool disable_compression = false;
  // extensions[name=client.authentication.k8s.io/exec].extension: handed to
  // exec plugins that ask for cluster info, as client-go does.
  std::optional<nlohmann::json> exec_extension;
};

struct KubeconfigExecEnvVar {
  std::string name, value;
};

// users[].user.exec: a client-go credential plugin.
struct KubeconfigExec {
  SourceLocation where;
  std::string api_version;  // client.authentication.k8s.io/v1 or /v1beta1
  std::string command;      // as written, or absolute when it has a '/' (resolved like the paths above)
  std::vector<std::string> args;
  std::vector<KubeconfigExecEnvVar> env;
  std::string install_hint;
  std::string interactive_mode;  // Never, IfAvailable, Always; "" when not written
  bool provide_cluster_info = false;
};

struct KubeconfigUser {
  std::string name;
  SourceLocation where;
  std::string client_certificate, client_certificate_as_written;  // file (absolute), as for the CA
  std::optional<std::string> client_certificate_data;             // decoded PEM
  std::string client_key, client_key_as_written;
  std::optional<std::string> client_key_data;
  std::string token;
  std::string token_file, token_file_as_written;
  std::string username, password;
  std::optional<KubeconfigExec> exec;
  std::string auth_provider;          // its name ("gcp", "oidc", ...); "" when absent
  bool has_auth_provider = false;
  std::vector<std::string> impersonation;  // the impersonation keys it sets (as, as-groups, ...)
};

struct KubeconfigContext {
  std::string name;
  SourceLocation where;
  std::string cluster, user, namespace_;
};

// One file, or several merged.
struct Kubeconfig {
  std::vector<std::string> files;  // that were read, in precedence order
  std::string current_context;
  SourceLocation current_context_where;
  std::map<std::string, KubeconfigCluster> clusters;
  std::map<std::string, KubeconfigUser> users;
  std::map<std::string, KubeconfigContext> contexts;

  bool empty() const { return clusters.empty() && users.empty() && contexts.empty() && current_context.empty(); }
};

// Parses one kubeconfig's text. `path` names it in errors and is the base of
// its relative paths. Errors carry file:line:column: YAML syntax, a value of
// the wrong type, base64 that does not decode, a name given twice in one
// list (client-go refuses that too), an apiVersion/kind that is not v1 Config.
Result<Kubeconfig> parse_kubeconfig(const std::string& text, const std::string& path);

// Reads and parses a file. A file that does not exist is an error naming it.
Result<Kubeconfig> read_kubeconfig_file(const std::string& path);

// Folds `next` (a file later in the list) into `merged` by client-go's rules
// (ClientConfigLoadingRules.Load): the first file to define a cluster, user or
// context name wins, whole entry and all, and the first file to set
// current-context wins.
void merge_kubeconfig(Kubeconfig& merged, Kubeconfig next);

}  // namespace kapture
