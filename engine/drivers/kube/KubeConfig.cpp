#include "drivers/kube/KubeConfig.h"

#include <cstdlib>
#include <filesystem>
#include <set>

namespace kapture {

namespace {

namespace fs = std::filesystem;

std::string env_or_empty(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

std::string join(const std::vector<std::string>& items, const char* sep = ", ") {
  std::string out;
  for (const auto& i : items) {
    if (!out.empty()) out += sep;
    out += i;
  }
  return out;
}

template <typename Map>
std::string known_names(const Map& map) {
  std::vector<std::string> names;
  for (const auto& kv : map) names.push_back(kv.first);
  return names.empty() ? std::string("none") : join(names);
}

std::string files_phrase(const std::vector<std::string>& files) {
  return (files.size() == 1 ? "kubeconfig " : "kubeconfigs ") + join(files);
}

std::string trim(std::string s) {
  const char* space = " \t\r\n";
  auto b = s.find_first_not_of(space);
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(space) - b + 1);
}

bool holds_pem_certificate(const std::string& text) { return text.find("-----BEGIN CERTIFICATE-----") != std::string::npos; }
bool holds_pem_private_key(const std::string& text) {
  auto begin = text.find("-----BEGIN ");
  return begin != std::string::npos && text.find("PRIVATE KEY-----", begin) != std::string::npos;
}

// A file a kubeconfig entry points to. The message says how a relative
// path was resolved, since "ca.crt not found" while it sits in the working
// directory is the classic surprise.
Result<std::string> read_referenced_file(const std::string& path, const std::string& as_written, const std::string& field,
                                         const std::string& owner, const SourceLocation& where) {
  auto text = read_file_contents(path);
  if (text) return text;
  std::string reason = text.error().message;
  if (reason.compare(0, path.size() + 2, path + ": ") == 0) reason = reason.substr(path.size() + 2);
  std::string msg = "cannot read " + field + " " + as_written + " of " + owner;
  if (!fs::path(as_written).is_absolute())
    msg += " (" + path + ": a relative path is relative to the directory of the kubeconfig file that holds it, " +
           where.file + ")";
  return usage_error(msg + ": " + reason, where);
}

// rest.DefaultServerURL: a server without a scheme gets https when TLS is
// configured and http otherwise.
std::string server_url(std::string server, bool tls_configured) {
  if (server.find("://") == std::string::npos) server = (tls_configured ? "https://" : "http://") + server;
  while (server.size() > 1 && server.back() == '/') server.pop_back();
  return server;
}

// net.JoinHostPort: an IPv6 address in brackets.
std::string join_host_port(const std::string& host, const std::string& port) {
  if (host.find(':') != std::string::npos && host.front() != '[') return "[" + host + "]:" + port;
  return host + ":" + port;
}

// The cluster half of a context: endpoint fields, validated as client-go's
// validateClusterInfo and TLSConfigFor do.
Status resolve_cluster(const KubeconfigCluster& c, KubeEndpoint& ep) {
  std::string owner = "cluster '" + c.name + "'";
  if (c.server.empty()) return usage_error("no server found for " + owner, c.where);
  if (!c.certificate_authority.empty() && c.certificate_authority_data)
    return usage_error("certificate-authority-data and certificate-authority are both specified for " + owner +
                           "; keep one",
                       c.where);
  bool has_ca = !c.certificate_authority.empty() || c.certificate_authority_data;
  if (has_ca && c.insecure_skip_tls_verify)
    return usage_error(owner + " sets insecure-skip-tls-verify and a certificate authority; client-go refuses that "
                               "too (specifying a root certificates file with the insecure flag is not allowed)",
                       c.where);
  if (c.certificate_authority_data) {
    ep.ca_pem = *c.certificate_authority_data;
    ep.ca_source = "certificate-authority-data of " + owner + " (" + c.where.file + ")";
    if (!holds_pem_certificate(ep.ca_pem))
      return usage_error("certificate-authority-data of " + owner + " decodes to something that is not a PEM "
                         "certificate (no -----BEGIN CERTIFICATE----- line)",
                         c.where);
  } else if (!c.certificate_authority.empty()) {
    auto pem = read_referenced_file(c.certificate_authority, c.certificate_authority_as_written, "certificate-authority",
                                    owner, c.where);
    if (!pem) return pem.error();
    if (!holds_pem_certificate(*pem))
      return usage_error("certificate-authority " + c.certificate_authority + " of " + owner +
                             " is not a PEM certificate (no -----BEGIN CERTIFICATE----- line)",
                         c.where);
    ep.ca_pem = std::move(*pem);
    ep.ca_source = c.certificate_authority;
  }
  ep.cluster = c.name;
  ep.tls_server_name = c.tls_server_name;
  ep.insecure = c.insecure_skip_tls_verify;  // only ever from the kubeconfig itself
  ep.proxy_url = c.proxy_url;
  if (!c.proxy_url.empty())
    ep.warnings.push_back("proxy-url " + c.proxy_url + " of " + owner + " is not used: the engine connects to " +
                          "the server directly");
  // client-go counts a client certificate as TLS configuration too; the
  // caller fixes the scheme up once it knows the user.
  ep.server = c.server;
  return std::nullopt;
}

// The user half: the credential spec, validated as client-go's
// validateAuthInfo does. Files are checked readable now, as kubectl checks
// them before any request; KubeCredentials re-reads them on use.
Status resolve_user(const KubeconfigUser& u, CredentialSpec& spec, KubeEndpoint& ep) {
  std::string owner = "user '" + u.name + "'";
  if (u.has_auth_provider)
    return usage_error(owner + " authenticates with auth-provider '" + u.auth_provider +
                           "', which the engine does not support (client-go dropped its gcp and azure providers in "
                           "1.26): use the provider's exec plugin instead (gke-gcloud-auth-plugin, kubelogin, "
                           "aws eks get-token, ...)",
                       u.where);
  if (!u.impersonation.empty())
    return usage_error(owner + " sets " + join(u.impersonation) +
                           " (impersonation), which the engine does not support; use a user that authenticates as "
                           "the identity itself",
                       u.where);
  std::vector<std::string> methods;
  if (!u.token.empty() || !u.token_file.empty()) methods.push_back("token");
  if (!u.username.empty() || !u.password.empty()) methods.push_back("basicAuth");
  if (methods.size() > 1)
    return usage_error("more than one authentication method found for " + owner + ": " + join(methods) +
                           "; only one is allowed",
                       u.where);

  bool has_cert = !u.client_certificate.empty() || u.client_certificate_data;
  bool has_key = !u.client_key.empty() || u.client_key_data;
  if (!u.client_certificate.empty() && u.client_certificate_data)
    return usage_error("client-certificate-data and client-certificate are both specified for " + owner + "; keep one", u.where);
  if (!u.client_key.empty() && u.client_key_data)
    return usage_error("client-key-data and client-key are both specified for " + owner + "; keep one", u.where);
  if (has_cert && !has_key)
    return usage_error("client-key-data or client-key must be specified for " + owner +
                           " to use the clientCert authentication method",
                       u.where);
  if (has_key && !has_cert)
    return usage_error("client-certificate-data or client-certificate must be specified for " + owner +
                           " to use the clientKey authentication method",
                       u.where);
  if (u.client_certificate_data) {
    if (!holds_pem_certificate(*u.client_certificate_data))
      return usage_error("client-certificate-data of " + owner + " decodes to something that is not a PEM certificate", u.where);
    spec.client_cert_pem = *u.client_certificate_data;
  } else if (!u.client_certificate.empty()) {
    auto pem = read_referenced_file(u.client_certificate, u.client_certificate_as_written, "client-certificate", owner, u.where);
    if (!pem) return pem.error();
    if (!holds_pem_certificate(*pem))
      return usage_error("client-certificate " + u.client_certificate + " of " + owner + " is not a PEM certificate", u.where);
    spec.client_cert_file = u.client_certificate;
  }
  if (u.client_key_data) {
    if (!holds_pem_private_key(*u.client_key_data))
      return usage_error("client-key-data of " + owner + " decodes to something that is not a PEM private key", u.where);
    spec.client_key_pem = *u.client_key_data;
  } else if (!u.client_key.empty()) {
    auto pem = read_referenced_file(u.client_key, u.client_key_as_written, "client-key", owner, u.where);
    if (!pem) return pem.error();
    if (!holds_pem_private_key(*pem))
      return usage_error("client-key " + u.client_key + " of " + owner + " is not a PEM private key", u.where);
    spec.client_key_file = u.client_key;
  }

  spec.token = u.token;
  if (!u.token_file.empty()) {
    // Read now when it is the only token, as clientcmd does; re-read on use.
    if (u.token.empty()) {
      auto token = read_token_file(u.token_file);
      if (!token) {
        std::string msg = "cannot read tokenFile of " + owner + ": " + token.error().message;
        if (!fs::path(u.token_file_as_written).is_absolute())
          msg += " (a relative path is relative to the directory of " + u.where.file + ")";
        return usage_error(msg, u.where);
      }
    }
    spec.token_file = u.token_file;
  }
  spec.username = u.username;
  spec.password = u.password;

  if (u.exec) {
    if (auto err = validate_exec_config(*u.exec, u.name)) return err;
    if (!methods.empty() || has_cert)
      ep.warnings.push_back(owner + " has an exec plugin and also a token, basic credentials or a client "
                                    "certificate; like kubectl, the engine uses the latter and does not run the plugin");
    spec.exec = u.exec;
  }
  spec.user = u.name;
  ep.user = u.name;
  return std::nullopt;
}

std::string no_kubeconfig_reason(const KubeConfigOptions& options, const KubeEnvironment& env,
                                 const std::vector<std::string>& read) {
  std::string why;
  if (!options.kubeconfig.empty()) {
    why = "kubeconfig " + options.kubeconfig + " defines no contexts, clusters or users";
  } else if (!env.kubeconfig.empty()) {
    why = read.empty() ? "none of the files in KUBECONFIG (" + env.kubeconfig + ") exists"
                       : "the files in KUBECONFIG (" + join(read) + ") define no contexts, clusters or users";
  } else if (env.home.empty()) {
    why = "KUBECONFIG and HOME are not set, so there is no kubeconfig to read";
  } else {
    std::string def = env.home + "/.kube/config";
    why = read.empty() ? "KUBECONFIG is not set and " + def + " does not exist" : def + " defines no contexts, clusters or users";
  }
  return why;
}

}  // namespace

KubeEnvironment KubeEnvironment::from_process() {
  KubeEnvironment env;
  env.kubeconfig = env_or_empty("KUBECONFIG");
  env.home = env_or_empty("HOME");
  env.service_host = env_or_empty("KUBERNETES_SERVICE_HOST");
  env.service_port = env_or_empty("KUBERNETES_SERVICE_PORT");
  env.pod_namespace = env_or_empty("POD_NAMESPACE");
  return env;
}

std::string KubeEndpoint::describe() const {
  std::string out = in_cluster ? std::string("in-cluster service account")
                               : "context '" + context + "' (cluster '" + cluster + "', user '" +
                                     (user.empty() ? std::string("none: anonymous") : user) + "')";
  out += ": server " + server;
  if (insecure) {
    out += ", TLS verification off (insecure-skip-tls-verify)";
  } else {
    out += ", trusting " + (ca_pem.empty() ? std::string("the system's CA store") : ca_source);
  }
  if (!tls_server_name.empty()) out += ", tls-server-name " + tls_server_name;
  out += ", namespace " + namespace_;
  if (!kubeconfig_files.empty()) out += "; from " + files_phrase(kubeconfig_files);
  return out;
}

std::vector<std::string> kubeconfig_paths(const KubeConfigOptions& options, const KubeEnvironment& env) {
  if (!options.kubeconfig.empty()) return {options.kubeconfig};
  std::vector<std::string> out;
  if (!env.kubeconfig.empty()) {
    // filepath.SplitList, then client-go's deduplicate (first one stays).
    // An all-empty list does not fall back to ~/.kube/config.
    std::set<std::string> seen;
    size_t start = 0;
    while (start <= env.kubeconfig.size()) {
      size_t colon = env.kubeconfig.find(':', start);
      if (colon == std::string::npos) colon = env.kubeconfig.size();
      std::string item = env.kubeconfig.substr(start, colon - start);
      if (!item.empty() && seen.insert(item).second) out.push_back(item);
      start = colon + 1;
    }
    return out;
  }
  if (!env.home.empty()) out.push_back(env.home + "/.kube/config");
  return out;
}

Result<Kubeconfig> load_kubeconfig(const KubeConfigOptions& options, const KubeEnvironment& env) {
  bool explicit_path = !options.kubeconfig.empty();
  Kubeconfig merged;
  for (const auto& path : kubeconfig_paths(options, env)) {
    std::error_code ec;
    if (!explicit_path && !fs::exists(path, ec)) continue;  // client-go skips missing files of the list
    auto one = read_kubeconfig_file(path);
    if (!one) {
      Error e = one.error();
      if (explicit_path && e.where.file.empty()) e.message += " (given as the kubeconfig to use)";
      return e;
    }
    merge_kubeconfig(merged, std::move(*one));
  }
  return merged;
}

Result<KubeAccess> resolve_context(const Kubeconfig& config, const KubeConfigOptions& options) {
  std::string files = files_phrase(config.files);
  std::string name = options.context.empty() ? config.current_context : options.context;
  if (name.empty())
    return usage_error(files + " sets no current-context; choose a context (known: " + known_names(config.contexts) + ")");
  auto ctx_it = config.contexts.find(name);
  if (ctx_it == config.contexts.end()) {
    if (options.context.empty())
      return usage_error("current-context '" + name + "' is not defined in " + files +
                             "; known contexts: " + known_names(config.contexts),
                         config.current_context_where);
    return usage_error("context '" + name + "' is not defined in " + files + "; known contexts: " +
                       known_names(config.contexts));
  }
  const KubeconfigContext& ctx = ctx_it->second;
  if (ctx.cluster.empty()) return usage_error("context '" + name + "' names no cluster", ctx.where);
  auto cluster_it = config.clusters.find(ctx.cluster);
  if (cluster_it == config.clusters.end())
    return usage_error("context '" + name + "' names cluster '" + ctx.cluster + "', which is not defined in " + files +
                           "; known clusters: " + known_names(config.clusters),
                       ctx.where);

  KubeAccess access;
  KubeEndpoint& ep = access.endpoint;
  ep.context = name;
  ep.kubeconfig_files = config.files;
  if (auto err = resolve_cluster(cluster_it->second, ep)) return *err;

  CredentialSpec spec;
  if (!ctx.user.empty()) {  // no user: anonymous requests
    auto user_it = config.users.find(ctx.user);
    if (user_it == config.users.end())
      return usage_error("context '" + name + "' names user '" + ctx.user + "', which is not defined in " + files +
                             "; known users: " + known_names(config.users),
                         ctx.where);
    if (auto err = resolve_user(user_it->second, spec, ep)) return *err;
  }
  bool tls_configured = !ep.ca_pem.empty() || ep.insecure || !spec.client_cert_pem.empty() || !spec.client_cert_file.empty();
  ep.server = server_url(ep.server, tls_configured);
  ep.namespace_ = !options.namespace_.empty() ? options.namespace_ : !ctx.namespace_.empty() ? ctx.namespace_ : "default";

  if (spec.exec && spec.exec->provide_cluster_info) {
    // client-go's ConfigToExecCluster: the resolved connection settings, the
    // CA as data even when it came from a file.
    ExecClusterInfo info;
    info.server = ep.server;
    info.tls_server_name = ep.tls_server_name;
    info.insecure_skip_tls_verify = ep.insecure;
    info.ca_pem = ep.ca_pem;
    info.proxy_url = ep.proxy_url;
    info.disable_compression = cluster_it->second.disable_compression;
    info.config = cluster_it->second.exec_extension;
    spec.exec_cluster = std::move(info);
  }
  access.credentials = std::make_shared<KubeCredentials>(std::move(spec), options.clock, options.exec_timeout_ms);
  return access;
}

bool in_cluster_possible(const KubeEnvironment& env) {
  if (env.service_host.empty() || env.service_port.empty()) return false;
  std::error_code ec;
  auto st = fs::status(env.service_account_dir + "/token", ec);
  return fs::exists(st) && !fs::is_directory(st);
}

Result<KubeAccess> resolve_in_cluster(const KubeConfigOptions& options, const KubeEnvironment& env) {
  if (env.service_host.empty() || env.service_port.empty())
    return usage_error("unable to load in-cluster configuration: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT "
                       "must be defined");
  std::string token_path = env.service_account_dir + "/token";
  auto token = read_token_file(token_path);
  if (!token) return usage_error("cannot read the service account token " + token.error().message);

  KubeAccess access;
  KubeEndpoint& ep = access.endpoint;
  ep.in_cluster = true;
  ep.server = "https://" + join_host_port(env.service_host, env.service_port);
  // rest.InClusterConfig logs an unusable ca.crt and goes on with the
  // system's roots; so does the engine, saying so.
  std::string ca_path = env.service_account_dir + "/ca.crt";
  auto ca = read_file_contents(ca_path);
  if (ca && holds_pem_certificate(*ca)) {
    ep.ca_pem = std::move(*ca);
    ep.ca_source = ca_path;
  } else {
    ep.warnings.push_back((ca ? ca_path + " holds no PEM certificate" : "cannot read " + ca.error().message) +
                          "; trusting the system's CA store instead");
  }
  // clientcmd's inClusterClientConfig.Namespace: $POD_NAMESPACE, then the
  // service account's namespace file, then "default".
  std::string ns = options.namespace_.empty() ? env.pod_namespace : options.namespace_;
  if (ns.empty()) {
    auto file = read_file_contents(env.service_account_dir + "/namespace");
    if (file) ns = trim(*file);
  }
  ep.namespace_ = ns.empty() ? "default" : ns;

  CredentialSpec spec;
  spec.token_file = token_path;  // kubelet rotates projected tokens: re-read on every use
  spec.token = *token;           // fallback while the file is briefly unreadable
  access.credentials = std::make_shared<KubeCredentials>(std::move(spec), options.clock, options.exec_timeout_ms);
  return access;
}

Result<KubeAccess> resolve_kube_access(const KubeConfigOptions& options, const KubeEnvironment& env) {
  auto config = load_kubeconfig(options, env);
  if (!config) return config.error();
  if (!config->empty()) return resolve_context(*config, options);

  // Nothing in any kubeconfig: kubectl then tries the pod's service account
  // (DeferredLoadingClientConfig.ClientConfig), unless a context was asked for.
  std::string why = no_kubeconfig_reason(options, env, config->files);
  if (!options.context.empty())
    return usage_error("context '" + options.context + "' was asked for, but " + why);
  if (in_cluster_possible(env)) return resolve_in_cluster(options, env);
  std::string pod = env.service_host.empty() || env.service_port.empty()
                        ? "not running in a pod (KUBERNETES_SERVICE_HOST/PORT are not set)"
                        : "KUBERNETES_SERVICE_HOST is set but there is no service account token at " +
                              env.service_account_dir + "/token";
  return usage_error("no Kubernetes configuration found: " + why + ", and " + pod +
                     "; pass a kubeconfig or set KUBECONFIG");
}

}  // namespace kapture
