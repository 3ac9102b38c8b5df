#include "drivers/kube/KubeconfigFile.h"

#include <yaml-cpp/yaml.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/YamlJson.h"
#include "drivers/kube/Base64.h"

namespace kapture {

namespace {

namespace fs = std::filesystem;

constexpr const char* kExecExtensionName = "client.authentication.k8s.io/exec";

const char* shape_of(const YAML::Node& n) {
  if (n.IsMap()) return "a map";
  if (n.IsSequence()) return "a list";
  if (n.IsNull()) return "empty";
  return "a single value";
}

// Walks one file's YAML tree. Keeps the first error it meets and goes on
// with defaults, so the code reads straight; parse() returns that error.
class Parser {
 public:
  explicit Parser(const std::string& path) : path_(path) {
    std::error_code ec;
    fs::path abs = fs::absolute(fs::path(path), ec);
    base_dir_ = ec ? fs::path(path).parent_path() : abs.parent_path();
  }

  Result<Kubeconfig> parse(const YAML::Node& root) {
    Kubeconfig out;
    out.files.push_back(path_);
    if (!root || root.IsNull()) return out;  // an empty file is an empty config, as in client-go
    if (!root.IsMap()) return usage_error("a kubeconfig must be a map (apiVersion, clusters, users, contexts, ...), not " + std::string(shape_of(root)), at(root));

    std::string api_version = text(root, "apiVersion", "the kubeconfig");
    if (!api_version.empty() && api_version != "v1")
      fail(root["apiVersion"], "kubeconfig apiVersion '" + api_version + "' is not supported (client-go reads v1)");
    std::string kind = text(root, "kind", "the kubeconfig");
    if (!kind.empty() && kind != "Config") fail(root["kind"], "kind '" + kind + "' is not a kubeconfig (kind: Config)");

    out.current_context = text(root, "current-context", "the kubeconfig");
    if (!out.current_context.empty()) out.current_context_where = at(root["current-context"]);

    for_each_named(root, "clusters", "cluster", [&](const std::string& name, const YAML::Node& entry, const YAML::Node& body) {
      KubeconfigCluster c = cluster(name, body);
      c.where = at(entry);
      if (!out.clusters.emplace(name, std::move(c)).second) twice(entry, "cluster", name, out.clusters.at(name).where);
    });
    for_each_named(root, "users", "user", [&](const std::string& name, const YAML::Node& entry, const YAML::Node& body) {
      KubeconfigUser u = user(name, body);
      u.where = at(entry);
      if (!out.users.emplace(name, std::move(u)).second) twice(entry, "user", name, out.users.at(name).where);
    });
    for_each_named(root, "contexts", "context", [&](const std::string& name, const YAML::Node& entry, const YAML::Node& body) {
      KubeconfigContext c = context(name, body);
      c.where = at(entry);
      if (!out.contexts.emplace(name, std::move(c)).second) twice(entry, "context", name, out.contexts.at(name).where);
    });
    if (error_) return *error_;
    return out;
  }

 private:
  SourceLocation at(const YAML::Node& n) const {
    YAML::Mark m = n.Mark();
    if (m.is_null() || m.line < 0) return SourceLocation{path_, 0, 0};
    return SourceLocation{path_, m.line + 1, m.column + 1};
  }
  void fail(const YAML::Node& n, std::string message) {
    if (!error_) error_ = usage_error(std::move(message), at(n));
  }
  void twice(const YAML::Node& entry, const std::string& kind, const std::string& name, const SourceLocation& first) {
    // client-go refuses this too ("duplicate name ... in list").
    fail(entry, kind + " '" + name + "' is defined twice in this file (first at line " + std::to_string(first.line) + ")");
  }

  // "clusters: [{name: x, cluster: {...}}]" and its kin.
  template <typename Fn>
  void for_each_named(const YAML::Node& root, const char* list_key, const char* body_key, Fn&& fn) {
    YAML::Node list = root[list_key];
    if (!list || list.IsNull()) return;
    if (!list.IsSequence()) {
      fail(list, std::string(list_key) + " must be a list of {name: ..., " + body_key + ": {...}}, not " + shape_of(list));
      return;
    }
    for (const auto& entry : list) {
      if (!entry.IsMap()) {
        fail(entry, std::string("an item of ") + list_key + " must be a map with name and " + body_key + ", not " + shape_of(entry));
        continue;
      }
      std::string name = text(entry, "name", std::string("an item of ") + list_key);
      if (name.empty()) {
        fail(entry, std::string("an item of ") + list_key + " has no name");
        continue;
      }
      YAML::Node body = entry[body_key];
      if (body && !body.IsNull() && !body.IsMap()) {
        fail(body, std::string(body_key) + " of '" + name + "' must be a map, not " + shape_of(body));
        continue;
      }
      fn(name, entry, body);
    }
  }

  // A string field; absent or null is "". Any scalar counts, as
  // sigs.k8s.io/yaml turns `namespace: 123` into the string "123".
  std::string text(const YAML::Node& map, const char* key, const std::string& what) {
    if (!map || !map.IsMap()) return "";
    YAML::Node n = map[key];
    if (!n || n.IsNull()) return "";
    if (!n.IsScalar()) {
      fail(n, std::string(key) + " of " + what + " must be a single value, not " + shape_of(n));
      return "";
    }
    return n.Scalar();
  }
  bool flag(const YAML::Node& map, const char* key, const std::string& what) {
    if (!map || !map.IsMap()) return false;
    YAML::Node n = map[key];
    if (!n || n.IsNull()) return false;
    bool value = false;
    if (!n.IsScalar() || !YAML::convert<bool>::decode(n, value))
      fail(n, std::string(key) + " of " + what + " must be true or false");
    return value;
  }
  std::vector<std::string> strings(const YAML::Node& map, const char* key, const std::string& what) {
    std::vector<std::string> out;
    if (!map || !map.IsMap()) return out;
    YAML::Node n = map[key];
    if (!n || n.IsNull()) return out;
    if (!n.IsSequence()) {
      fail(n, std::string(key) + " of " + what + " must be a list of strings, not " + shape_of(n));
      return out;
    }
    for (const auto& item : n) {
      if (!item.IsScalar()) {
        fail(item, "an item of " + std::string(key) + " of " + what + " must be a string, not " + shape_of(item));
        continue;
      }
      out.push_back(item.Scalar());
    }
    return out;
  }
  // A *-data field: base64 of PEM. kubectl refuses the whole file when one
  // does not decode (the []byte field fails to unmarshal), wherever it is.
  std::optional<std::string> data(const YAML::Node& map, const char* key, const std::string& what) {
    std::string encoded = text(map, key, what);
    if (encoded.empty()) return std::nullopt;
    auto decoded = decode_base64(encoded);
    if (!decoded) {
      fail(map[key], std::string(key) + " of " + what + " is " + decoded.error().message);
      return std::nullopt;
    }
    return std::move(*decoded);
  }
  // A file reference, resolved against this kubeconfig's directory.
  std::string path(const std::string& written) const {
    if (written.empty()) return "";
    fs::path p(written);
    if (p.is_absolute()) return p.lexically_normal().string();
    return (base_dir_ / p).lexically_normal().string();
  }

  KubeconfigCluster cluster(const std::string& name, const YAML::Node& body) {
    KubeconfigCluster c;
    c.name = name;
    std::string what = "cluster '" + name + "'";
    c.server = text(body, "server", what);
    c.certificate_authority_as_written = text(body, "certificate-authority", what);
    c.certificate_authority = path(c.certificate_authority_as_written);
    c.certificate_authority_data = data(body, "certificate-authority-data", what);
    c.tls_server_name = text(body, "tls-server-name", what);
    c.insecure_skip_tls_verify = flag(body, "insecure-skip-tls-verify", what);
    c.proxy_url = text(body, "proxy-url", what);
    c.disable_compression = flag(body, "disable-compression", what);
    if (body && body.IsMap()) {
      YAML::Node extensions = body["extensions"];
      if (extensions && extensions.IsSequence()) {
        for (const auto& ext : extensions) {
          if (ext.IsMap() && text(ext, "name", what) == kExecExtensionName && ext["extension"])
            c.exec_extension = yaml_to_json(ext["extension"], YamlDialect::Kubectl);  // passed on as kubectl would
        }
      }
    }
    return c;
  }

  KubeconfigUser user(const std::string& name, const YAML::Node& body) {
    KubeconfigUser u;
    u.name = name;
    std::string what = "user '" + name + "'";
    u.client_certificate_as_written = text(body, "client-certificate", what);
    u.client_certificate = path(u.client_certificate_as_written);
    u.client_certificate_data = data(body, "client-certificate-data", what);
    u.client_key_as_written = text(body, "client-key", what);
    u.client_key = path(u.client_key_as_written);
    u.client_key_data = data(body, "client-key-data", what);
    u.token = text(body, "token", what);
    u.token_file_as_written = text(body, "tokenFile", what);
    u.token_file = path(u.token_file_as_written);
    u.username = text(body, "username", what);
    u.password = text(body, "password", what);
    if (!body || !body.IsMap()) return u;
    for (const char* key : {"as", "as-uid", "as-groups", "as-user-extra"}) {
      YAML::Node n = body[key];
      if (n && !n.IsNull() && !(n.IsSequence() && n.size() == 0) && !(n.IsMap() && n.size() == 0)) u.impersonation.push_back(key);
    }
    YAML::Node provider = body["auth-provider"];
    if (provider && !provider.IsNull()) {
      u.has_auth_provider = true;
      u.auth_provider = provider.IsMap() ? text(provider, "name", what + " auth-provider") : "";
    }
    YAML::Node exec = body["exec"];
    if (exec && !exec.IsNull()) {
      if (!exec.IsMap()) {
        fail(exec, "exec of " + what + " must be a map (command, args, env, apiVersion, ...), not " + shape_of(exec));
        return u;
      }
      u.exec = exec_config(what, exec);
    }
    return u;
  }

  KubeconfigExec exec_config(const std::string& user_what, const YAML::Node& exec) {
    KubeconfigExec e;
    std::string what = "the exec plugin of " + user_what;
    e.where = at(exec);
    e.api_version = text(exec, "apiVersion", what);
    e.command = text(exec, "command", what);
    // Only a command with a path separator is a file reference; a bare name
    // is looked up in PATH when it runs (GetAuthInfoFileReferences).
    if (e.command.find('/') != std::string::npos) e.command = path(e.command);
    e.args = strings(exec, "args", what);
    e.install_hint = text(exec, "installHint", what);
    e.interactive_mode = text(exec, "interactiveMode", what);
    e.provide_cluster_info = flag(exec, "provideClusterInfo", what);
    YAML::Node env = exec["env"];
    if (env && !env.IsNull()) {
      if (!env.IsSequence()) {
        fail(env, "env of " + what + " must be a list of {name: ..., value: ...}, not " + shape_of(env));
      } else {
        for (const auto& item : env) {
          if (!item.IsMap()) {
            fail(item, "an item of env of " + what + " must be a map with name and value");
            continue;
          }
          e.env.push_back({text(item, "name", what + " env"), text(item, "value", what + " env")});
        }
      }
    }
    return e;
  }

  KubeconfigContext context(const std::string& name, const YAML::Node& body) {
    KubeconfigContext c;
    c.name = name;
    std::string what = "context '" + name + "'";
    c.cluster = text(body, "cluster", what);
    c.user = text(body, "user", what);
    c.namespace_ = text(body, "namespace", what);
    return c;
  }

  std::string path_;
  fs::path base_dir_;
  std::optional<Error> error_;
};

}  // namespace

Result<Kubeconfig> parse_kubeconfig(const std::string& text, const std::string& path) {
  // yaml-cpp reports with exceptions; none leaves this function.
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::ParserException& e) {
    return usage_error("YAML syntax error in kubeconfig: " + e.msg, SourceLocation{path, e.mark.line + 1, e.mark.column + 1});
  } catch (const YAML::Exception& e) {
    return usage_error("cannot read kubeconfig as YAML: " + e.msg, SourceLocation{path, 0, 0});
  }
  try {
    return Parser(path).parse(root);
  } catch (const YAML::Exception& e) {
    return usage_error("malformed kubeconfig: " + e.msg, SourceLocation{path, e.mark.line + 1, e.mark.column + 1});
  } catch (const std::exception& e) {
    return usage_error(std::string("cannot read kubeconfig: ") + e.what(), SourceLocation{path, 0, 0});
  }
}

Result<Kubeconfig> read_kubeconfig_file(const std::string& path) {
  std::error_code ec;
  fs::file_status st = fs::status(path, ec);
  if (!fs::exists(st)) return usage_error("kubeconfig " + path + " does not exist");
  if (fs::is_directory(st)) return usage_error("kubeconfig " + path + " is a directory, not a file");
  std::ifstream in(path, std::ios::binary);
  if (!in) return usage_error("cannot read kubeconfig " + path + ": " + std::strerror(errno));
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return usage_error("cannot read kubeconfig " + path + ": " + std::strerror(errno));
  return parse_kubeconfig(text.str(), path);
}

void merge_kubeconfig(Kubeconfig& merged, Kubeconfig next) {
  merged.files.insert(merged.files.end(), next.files.begin(), next.files.end());
  if (merged.current_context.empty() && !next.current_context.empty()) {
    merged.current_context = std::move(next.current_context);
    merged.current_context_where = std::move(next.current_context_where);
  }
  // map::insert keeps an existing entry: the earlier file's wins whole.
  for (auto& kv : next.clusters) merged.clusters.insert(std::move(kv));
  for (auto& kv : next.users) merged.users.insert(std::move(kv));
  for (auto& kv : next.contexts) merged.contexts.insert(std::move(kv));
}

}  // namespace kapture
