// The kubeconfig reader: how the engine finds and authenticates to a
// Kubernetes API server, the way kubectl (client-go) does. Real files in
// temporary directories, real plugin processes; nothing is mocked.
#include <doctest/doctest.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "drivers/kube/Base64.h"
#include "drivers/kube/ExecCredential.h"
#include "drivers/kube/KubeConfig.h"

using namespace kapture;
namespace fs = std::filesystem;
using std::chrono::system_clock;

namespace {

const std::string kFixtures = std::string(KAPTURE_TEST_DATA) + "/tests/unit/fixtures/kube";

const std::string kCaPem =
    "-----BEGIN CERTIFICATE-----\n"
    "ZmFrZSBDQSBmb3Iga2FwdHVyZSBrdWJlY29uZmlnIHRlc3Rz\n"
    "-----END CERTIFICATE-----\n";
const std::string kCertPem =
    "-----BEGIN CERTIFICATE-----\n"
    "Y2xpZW50IGNlcnRpZmljYXRl\n"
    "-----END CERTIFICATE-----\n";
const std::string kKeyPem =
    "-----BEGIN EC PRIVATE KEY-----\n"
    "Y2xpZW50IGtleQ==\n"
    "-----END EC PRIVATE KEY-----\n";

bool contains(const std::string& haystack, const std::string& needle) { return haystack.find(needle) != std::string::npos; }

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// A directory under /tmp, removed with everything in it at scope exit.
class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/kapture-kube-test-XXXXXX";
    REQUIRE(mkdtemp(tmpl) != nullptr);
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  std::string at(const std::string& name) const { return path_ + "/" + name; }
  // Writes (or replaces) a file below the directory; returns its path.
  std::string write(const std::string& name, const std::string& text, bool executable = false) const {
    std::string p = at(name);
    fs::create_directories(fs::path(p).parent_path());
    {
      std::ofstream out(p, std::ios::trunc);
      out << text;
    }
    if (executable) chmod(p.c_str(), 0755);
    return p;
  }

 private:
  std::string path_;
};

// An environment with no KUBECONFIG, a HOME without .kube and no pod: each
// test says what it wants on top.
KubeEnvironment isolated_env(const TempDir& dir) {
  KubeEnvironment env;
  env.home = dir.at("home");
  env.service_account_dir = dir.at("no-service-account");
  return env;
}

// A clock the test moves by hand.
struct ManualClock {
  std::shared_ptr<system_clock::time_point> now = std::make_shared<system_clock::time_point>();
  void set(const std::string& rfc3339) {
    auto t = parse_rfc3339(rfc3339);
    REQUIRE(t.has_value());
    *now = *t;
  }
  WallClock fn() const {
    auto shared = now;
    return [shared] { return *shared; };
  }
};

Result<KubeAccess> resolve_file(const std::string& path, const KubeEnvironment& env, const std::string& context = "") {
  KubeConfigOptions options;
  options.kubeconfig = path;
  options.context = context;
  return resolve_kube_access(options, env);
}

std::string error_of(const Result<KubeAccess>& r) {
  REQUIRE_FALSE(r.ok());
  return r.error().describe();
}

std::string error_of(const Result<Credential>& r) {
  REQUIRE_FALSE(r.ok());
  return r.error().describe();
}

// A one-context kubeconfig around `user_body` (the YAML under `user:`,
// indented by 4).
std::string kubeconfig_with_user(const std::string& user_body, const std::string& cluster_extra = "") {
  return "apiVersion: v1\n"
         "kind: Config\n"
         "current-context: main\n"
         "clusters:\n"
         "- name: c\n"
         "  cluster:\n"
         "    server: https://k8s.example:6443\n" +
         cluster_extra +
         "contexts:\n"
         "- name: main\n"
         "  context: {cluster: c, user: u}\n"
         "users:\n"
         "- name: u\n"
         "  user:\n" +
         user_body;
}

// A client-go credential plugin: counts its runs, records its arguments and
// the KUBERNETES_EXEC_INFO it was given, and prints an ExecCredential whose
// expirationTimestamp is the content of $EXPIRY_FILE.
const std::string kPluginScript =
    "#!/bin/sh\n"
    "n=$(cat \"$COUNT_FILE\" 2>/dev/null || echo 0)\n"
    "n=$((n + 1))\n"
    "echo \"$n\" > \"$COUNT_FILE\"\n"
    "printf '%s' \"$KUBERNETES_EXEC_INFO\" > \"$INFO_FILE\"\n"
    "printf '%s\\n' \"$@\" > \"$ARGS_FILE\"\n"
    "expiry=$(cat \"$EXPIRY_FILE\")\n"
    "printf '{\"apiVersion\":\"%s\",\"kind\":\"ExecCredential\",\"status\":{\"token\":\"exec-token-%s\","
    "\"expirationTimestamp\":\"%s\"}}\\n' \"$PLUGIN_API_VERSION\" \"$n\" \"$expiry\"\n";

// The exec stanza running `command` with the plugin's files in `dir`.
std::string exec_user(const TempDir& dir, const std::string& command, const std::string& api_version = "client.authentication.k8s.io/v1",
                      const std::string& extra = "      interactiveMode: Never\n") {
  return "    exec:\n"
         "      apiVersion: " + api_version + "\n"
         "      command: " + command + "\n"
         "      args: [\"--cluster\", \"c\"]\n"
         "      installHint: 'install it with: apt-get install kapture-test-plugin'\n" +
         extra +
         "      env:\n"
         "      - {name: COUNT_FILE, value: " + dir.at("count") + "}\n"
         "      - {name: INFO_FILE, value: " + dir.at("info.json") + "}\n"
         "      - {name: ARGS_FILE, value: " + dir.at("args") + "}\n"
         "      - {name: EXPIRY_FILE, value: " + dir.at("expiry") + "}\n"
         "      - {name: PLUGIN_API_VERSION, value: " + api_version + "}\n";
}

int runs_of(const TempDir& dir) {
  std::string n = slurp(dir.at("count"));
  return n.empty() ? 0 : std::stoi(n);
}

}  // namespace

// ---------------------------------------------------------------- loading

TEST_CASE("kubeconfig: KUBECONFIG files merge, the first to define a name or current-context wins") {
  TempDir dir;
  KubeEnvironment env = isolated_env(dir);
  env.kubeconfig = kFixtures + "/a.yaml:" + dir.at("missing.yaml") + "::" + kFixtures + "/b.yaml:" + kFixtures + "/a.yaml";
  KubeConfigOptions options;

  // Missing and empty entries are skipped, the repeated one read once.
  auto paths = kubeconfig_paths(options, env);
  CHECK(paths == std::vector<std::string>{kFixtures + "/a.yaml", dir.at("missing.yaml"), kFixtures + "/b.yaml"});

  auto access = resolve_kube_access(options, env);
  REQUIRE_MESSAGE(access.ok(), access.error().describe());
  const KubeEndpoint& alpha = access->endpoint;
  CHECK(alpha.context == "alpha");  // a.yaml's current-context, not b.yaml's
  CHECK(alpha.server == "https://alpha.example:6443");
  CHECK(alpha.insecure);
  CHECK(alpha.namespace_ == "team-a");
  CHECK(alpha.kubeconfig_files == std::vector<std::string>{kFixtures + "/a.yaml", kFixtures + "/b.yaml"});
  auto cred = access->credentials->current();
  REQUIRE(cred.ok());
  CHECK(cred->bearer_token == "alpha-token");

  // "shared" is in both files: a.yaml's entries win whole, namespace included.
  options.context = "shared";
  auto shared = resolve_kube_access(options, env);
  REQUIRE_MESSAGE(shared.ok(), shared.error().describe());
  CHECK(shared->endpoint.server == "https://a.example:6443");
  CHECK(shared->endpoint.namespace_ == "default");
  CHECK(shared->endpoint.ca_pem == kCaPem);
  CHECK(shared->credentials->current()->bearer_token == "shared-token-from-a");

  // An entry only b.yaml has is there too.
  options.context = "beta";
  auto beta = resolve_kube_access(options, env);
  REQUIRE_MESSAGE(beta.ok(), beta.error().describe());
  CHECK(beta->endpoint.server == "https://beta.example:443");  // no scheme + a CA: https
  CHECK(beta->endpoint.ca_pem == "-----BEGIN CERTIFICATE-----\nYmV0YSBDQQ==\n-----END CERTIFICATE-----\n");
  auto basic = beta->credentials->current();
  REQUIRE(basic.ok());
  CHECK(basic->basic_username == "admin");
  CHECK(basic->authorization() == "Basic " + encode_base64("admin:beta-password"));

  // The other order: b.yaml's current-context and entries win.
  env.kubeconfig = kFixtures + "/b.yaml:" + kFixtures + "/a.yaml";
  options.context = "";
  auto reversed = resolve_kube_access(options, env);
  REQUIRE_MESSAGE(reversed.ok(), reversed.error().describe());
  CHECK(reversed->endpoint.context == "beta");
  options.context = "shared";
  auto shared_b = resolve_kube_access(options, env);
  REQUIRE(shared_b.ok());
  CHECK(shared_b->endpoint.server == "https://b.example:6443");
  CHECK(shared_b->endpoint.namespace_ == "from-b");
  CHECK(shared_b->credentials->current()->bearer_token == "shared-token-from-b");
}

TEST_CASE("kubeconfig: an explicit path overrides KUBECONFIG and ~/.kube/config, an explicit context current-context") {
  TempDir dir;
  KubeEnvironment env = isolated_env(dir);
  dir.write("home/.kube/config", kubeconfig_with_user("    token: from-home\n"));
  env.kubeconfig = kFixtures + "/a.yaml";

  KubeConfigOptions options;
  options.kubeconfig = kFixtures + "/b.yaml";
  CHECK(kubeconfig_paths(options, env) == std::vector<std::string>{kFixtures + "/b.yaml"});
  auto b = resolve_kube_access(options, env);
  REQUIRE(b.ok());
  CHECK(b->endpoint.context == "beta");
  CHECK(b->endpoint.kubeconfig_files == std::vector<std::string>{kFixtures + "/b.yaml"});

  options.context = "shared";
  options.namespace_ = "override-ns";  // like --namespace
  auto shared = resolve_kube_access(options, env);
  REQUIRE(shared.ok());
  CHECK(shared->endpoint.context == "shared");
  CHECK(shared->endpoint.server == "https://b.example:6443");
  CHECK(shared->endpoint.namespace_ == "override-ns");

  // Without KUBECONFIG nor a path: ~/.kube/config.
  env.kubeconfig.clear();
  auto home = resolve_kube_access(KubeConfigOptions{}, env);
  REQUIRE_MESSAGE(home.ok(), home.error().describe());
  CHECK(home->endpoint.kubeconfig_files == std::vector<std::string>{dir.at("home/.kube/config")});
  CHECK(home->credentials->current()->bearer_token == "from-home");
}

TEST_CASE("kubeconfig: relative file paths are relative to the kubeconfig file that names them") {
  TempDir dir;
  // Two files in different directories, each naming ca.crt relatively; the
  // second file's cluster must read the second directory's ca.crt.
  dir.write("one/ca.crt", kCaPem);
  dir.write("two/ca.crt", kCertPem);  // any PEM certificate; tells the two apart
  dir.write("two/creds/client.crt", kCertPem);
  dir.write("two/creds/client.key", kKeyPem);
  dir.write("two/creds/token", "  token-from-file\n");
  dir.write("one/config",
            "current-context: one\n"
            "clusters: [{name: one, cluster: {server: 'https://one:6443', certificate-authority: ca.crt}}]\n"
            "contexts: [{name: one, context: {cluster: one, user: one}}]\n"
            "users: [{name: one, user: {token: t}}]\n");
  dir.write("two/config",
            "clusters: [{name: two, cluster: {server: 'https://two:6443', certificate-authority: ./ca.crt}}]\n"
            "contexts: [{name: two, context: {cluster: two, user: two}}]\n"
            "users:\n"
            "- name: two\n"
            "  user:\n"
            "    client-certificate: creds/client.crt\n"
            "    client-key: creds/../creds/client.key\n"
            "    tokenFile: creds/token\n");
  KubeEnvironment env = isolated_env(dir);
  env.kubeconfig = dir.at("one/config") + ":" + dir.at("two/config");
  KubeConfigOptions options;
  auto one = resolve_kube_access(options, env);
  REQUIRE_MESSAGE(one.ok(), one.error().describe());
  CHECK(one->endpoint.ca_pem == kCaPem);
  CHECK(one->endpoint.ca_source == dir.at("one/ca.crt"));

  options.context = "two";
  auto two = resolve_kube_access(options, env);
  REQUIRE_MESSAGE(two.ok(), two.error().describe());
  CHECK(two->endpoint.ca_pem == kCertPem);
  CHECK(two->endpoint.ca_source == dir.at("two/ca.crt"));
  auto cred = two->credentials->current();
  REQUIRE_MESSAGE(cred.ok(), cred.error().describe());
  CHECK(cred->client_cert_pem == kCertPem);
  CHECK(cred->client_key_pem == kKeyPem);
  CHECK(cred->bearer_token == "token-from-file");  // trimmed, as client-go does
}

TEST_CASE("kubeconfig: -data fields are base64 of PEM and may be folded over lines") {
  TempDir dir;
  std::string ca = encode_base64(kCaPem);
  std::string folded = ca.substr(0, 20) + "\n      " + ca.substr(20);  // a plain scalar continued on the next line
  std::string path = dir.write("config", kubeconfig_with_user("    client-certificate-data: " + encode_base64(kCertPem) +
                                                                   "\n    client-key-data: " + encode_base64(kKeyPem) + "\n",
                                                               "    certificate-authority-data: " + folded + "\n"
                                                               "    tls-server-name: api.internal\n"));
  auto access = resolve_file(path, isolated_env(dir));
  REQUIRE_MESSAGE(access.ok(), access.error().describe());
  CHECK(access->endpoint.ca_pem == kCaPem);
  CHECK(access->endpoint.tls_server_name == "api.internal");
  CHECK_FALSE(access->endpoint.insecure);
  auto cred = access->credentials->current();
  REQUIRE(cred.ok());
  CHECK(cred->client_cert_pem == kCertPem);
  CHECK(cred->client_key_pem == kKeyPem);
  CHECK(cred->bearer_token.empty());
  CHECK(cred->authorization().empty());
}

TEST_CASE("kubeconfig: a token file is re-read on every use, since it rotates") {
  TempDir dir;
  std::string token_path = dir.write("token", "first-token\n");
  std::string path = dir.write("config", kubeconfig_with_user("    tokenFile: " + token_path + "\n"));
  auto access = resolve_file(path, isolated_env(dir));
  REQUIRE_MESSAGE(access.ok(), access.error().describe());
  auto& creds = *access->credentials;

  auto first = creds.current();
  REQUIRE(first.ok());
  CHECK(first->bearer_token == "first-token");
  CHECK(creds.current()->generation == first->generation);  // unchanged file, same credential

  dir.write("token", "second-token\n");
  auto second = creds.current();
  REQUIRE(second.ok());
  CHECK(second->bearer_token == "second-token");
  CHECK(second->generation > first->generation);

  // Briefly gone (kubelet swaps a symlink): the last token read stays in use.
  fs::remove(token_path);
  auto during = creds.current();
  REQUIRE(during.ok());
  CHECK(during->bearer_token == "second-token");
  CHECK(contains(creds.describe(), "bearer token from file " + token_path));
}

TEST_CASE("kubeconfig: in-cluster config comes from the service account directory") {
  TempDir dir;
  KubeEnvironment env = isolated_env(dir);
  env.service_account_dir = dir.at("sa");
  CHECK_FALSE(in_cluster_possible(env));

  dir.write("sa/token", "sa-token-1\n");
  dir.write("sa/ca.crt", kCaPem);
  dir.write("sa/namespace", "payments\n");
  env.service_host = "10.96.0.1";
  env.service_port = "443";
  REQUIRE(in_cluster_possible(env));

  // No kubeconfig anywhere: kubectl falls back to the pod's service account.
  auto access = resolve_kube_access(KubeConfigOptions{}, env);
  REQUIRE_MESSAGE(access.ok(), access.error().describe());
  const KubeEndpoint& ep = access->endpoint;
  CHECK(ep.in_cluster);
  CHECK(ep.server == "https://10.96.0.1:443");
  CHECK(ep.ca_pem == kCaPem);
  CHECK(ep.ca_source == dir.at("sa/ca.crt"));
  CHECK(ep.namespace_ == "payments");
  CHECK(ep.warnings.empty());
  CHECK(contains(ep.describe(), "in-cluster"));
  CHECK(access->credentials->current()->bearer_token == "sa-token-1");

  // The kubelet rotates the projected token: the next request uses the new one.
  dir.write("sa/token", "sa-token-2\n");
  CHECK(access->credentials->current()->bearer_token == "sa-token-2");

  // $POD_NAMESPACE beats the file; an IPv6 service host gets brackets; a
  // missing ca.crt means the system's CA store, said in a warning.
  env.pod_namespace = "from-env";
  env.service_host = "fd00::1";
  fs::remove(dir.at("sa/ca.crt"));
  auto v6 = resolve_in_cluster(KubeConfigOptions{}, env);
  REQUIRE(v6.ok());
  CHECK(v6->endpoint.server == "https://[fd00::1]:443");
  CHECK(v6->endpoint.namespace_ == "from-env");
  CHECK(v6->endpoint.ca_pem.empty());
  REQUIRE(v6->endpoint.warnings.size() == 1);
  CHECK(contains(v6->endpoint.warnings[0], "system's CA store"));

  // A kubeconfig, when there is one, wins over the pod.
  dir.write("home/.kube/config", kubeconfig_with_user("    token: t\n"));
  auto kubeconfig = resolve_kube_access(KubeConfigOptions{}, env);
  REQUIRE(kubeconfig.ok());
  CHECK_FALSE(kubeconfig->endpoint.in_cluster);

  // A context asked for by name needs a kubeconfig.
  fs::remove(dir.at("home/.kube/config"));
  KubeConfigOptions with_context;
  with_context.context = "prod";
  std::string msg = error_of(resolve_kube_access(with_context, env));
  CHECK(contains(msg, "context 'prod' was asked for"));
}

// ----------------------------------------------------------------- errors

TEST_CASE("kubeconfig errors: missing files, YAML syntax, no configuration at all") {
  TempDir dir;
  KubeEnvironment env = isolated_env(dir);

  std::string missing = error_of(resolve_file(dir.at("nope.yaml"), env));
  CHECK(contains(missing, "kubeconfig " + dir.at("nope.yaml") + " does not exist"));

  // yaml-cpp's mark: file:line:column.
  std::string syntax = error_of(resolve_file(kFixtures + "/syntax_error.yaml", env));
  CHECK(syntax == kFixtures + "/syntax_error.yaml:6:6: YAML syntax error in kubeconfig: end of sequence flow not found");

  std::string wrong_type = error_of(resolve_file(
      dir.write("types.yaml", "clusters:\n- name: c\n  cluster:\n    server: https://x\n    insecure-skip-tls-verify: maybe\n"), env));
  CHECK(wrong_type == dir.at("types.yaml") + ":5:31: insecure-skip-tls-verify of cluster 'c' must be true or false");

  std::string twice = error_of(resolve_file(
      dir.write("twice.yaml", "users:\n- name: u\n  user: {token: a}\n- name: u\n  user: {token: b}\n"), env));
  CHECK(twice == dir.at("twice.yaml") + ":4:3: user 'u' is defined twice in this file (first at line 2)");

  std::string none = error_of(resolve_kube_access(KubeConfigOptions{}, env));
  CHECK(contains(none, "no Kubernetes configuration found: KUBECONFIG is not set and " + dir.at("home/.kube/config") +
                           " does not exist, and not running in a pod"));

  env.kubeconfig = dir.at("a") + ":" + dir.at("b");
  CHECK(contains(error_of(resolve_kube_access(KubeConfigOptions{}, env)),
                 "none of the files in KUBECONFIG (" + env.kubeconfig + ") exists"));
}

TEST_CASE("kubeconfig errors: unknown context, and contexts naming what is not there") {
  TempDir dir;
  KubeEnvironment env = isolated_env(dir);
  env.kubeconfig = kFixtures + "/a.yaml:" + kFixtures + "/b.yaml";
  KubeConfigOptions options;
  options.context = "gamma";
  std::string unknown = error_of(resolve_kube_access(options, env));
  CHECK(unknown == "context 'gamma' is not defined in kubeconfigs " + kFixtures + "/a.yaml, " + kFixtures +
                       "/b.yaml; known contexts: alpha, beta, shared");

  std::string path = dir.write("config",
                               "current-context: ghost\n"
                               "clusters: [{name: c, cluster: {server: 'https://x'}}]\n"
                               "users: [{name: u, user: {token: t}}]\n"
                               "contexts:\n"
                               "- name: no-cluster\n"
                               "  context: {cluster: elsewhere, user: u}\n"
                               "- name: no-user\n"
                               "  context: {cluster: c, user: nobody}\n"
                               "- name: anonymous\n"
                               "  context: {cluster: c}\n");
  CHECK(error_of(resolve_file(path, env)) ==
        path + ":1:18: current-context 'ghost' is not defined in kubeconfig " + path +
            "; known contexts: anonymous, no-cluster, no-user");
  CHECK(error_of(resolve_file(path, env, "no-cluster")) ==
        path + ":5:3: context 'no-cluster' names cluster 'elsewhere', which is not defined in kubeconfig " + path +
            "; known clusters: c");
  CHECK(error_of(resolve_file(path, env, "no-user")) ==
        path + ":7:3: context 'no-user' names user 'nobody', which is not defined in kubeconfig " + path +
            "; known users: u");
  // A context without a user is anonymous, not an error.
  auto anonymous = resolve_file(path, env, "anonymous");
  REQUIRE(anonymous.ok());
  CHECK(anonymous->credentials->current()->anonymous());
  CHECK(contains(anonymous->endpoint.describe(), "user 'none: anonymous'"));
}

TEST_CASE("kubeconfig errors: unreadable certificate authority and bad base64") {
  TempDir dir;
  KubeEnvironment env = isolated_env(dir);
  std::string path = dir.write("sub/config", kubeconfig_with_user("    token: t\n", "    certificate-authority: certs/ca.crt\n"));
  std::string ca = error_of(resolve_file(path, env));
  CHECK(ca == path + ":5:3: cannot read certificate-authority certs/ca.crt of cluster 'c' (" + dir.at("sub/certs/ca.crt") +
                  ": a relative path is relative to the directory of the kubeconfig file that holds it, " + path +
                  "): No such file or directory");

  dir.write("sub/certs/ca.crt", "not a certificate\n");
  CHECK(contains(error_of(resolve_file(path, env)), "is not a PEM certificate"));

  std::string secret = "c2VjcmV0!!";
  std::string b64 = dir.write("b64.yaml", kubeconfig_with_user("    client-key-data: " + secret + "\n"));
  std::string bad = error_of(resolve_file(b64, env));
  CHECK(bad == b64 + ":14:22: client-key-data of user 'u' is not valid base64: a character that is not in the base64 "
                     "alphabet at offset 8");
  CHECK_FALSE(contains(bad, secret));

  std::string both = dir.write("both.yaml", kubeconfig_with_user("    token: t\n", "    certificate-authority: /x\n"
                                                                                 "    certificate-authority-data: " +
                                                                                     encode_base64(kCaPem) + "\n"));
  CHECK(contains(error_of(resolve_file(both, env)),
                 "certificate-authority-data and certificate-authority are both specified for cluster 'c'"));

  std::string insecure = dir.write("insecure.yaml", kubeconfig_with_user("    token: t\n", "    insecure-skip-tls-verify: true\n"
                                                                                         "    certificate-authority-data: " +
                                                                                             encode_base64(kCaPem) + "\n"));
  CHECK(contains(error_of(resolve_file(insecure, env)), "specifying a root certificates file with the insecure flag is not allowed"));
}

TEST_CASE("kubeconfig errors: users the engine cannot authenticate as") {
  TempDir dir;
  KubeEnvironment env = isolated_env(dir);
  auto error_for = [&](const std::string& user_body) {
    return error_of(resolve_file(dir.write("config", kubeconfig_with_user(user_body)), env));
  };
  std::string provider = error_for("    auth-provider:\n      name: gcp\n      config: {access-token: ya29.secret}\n");
  CHECK(contains(provider, ":12:3: user 'u' authenticates with auth-provider 'gcp', which the engine does not support"));
  CHECK(contains(provider, "exec plugin"));
  CHECK_FALSE(contains(provider, "ya29.secret"));

  CHECK(contains(error_for("    token: t\n    username: admin\n    password: p\n"),
                 "more than one authentication method found for user 'u': token, basicAuth"));
  CHECK(contains(error_for("    client-certificate-data: " + encode_base64(kCertPem) + "\n"),
                 "client-key-data or client-key must be specified for user 'u'"));
  CHECK(contains(error_for("    client-certificate: " + dir.at("missing.crt") + "\n    client-key: " + dir.at("missing.key") + "\n"),
                 "cannot read client-certificate " + dir.at("missing.crt") + " of user 'u': No such file or directory"));
  CHECK(contains(error_for("    tokenFile: " + dir.at("missing-token") + "\n"),
                 "cannot read tokenFile of user 'u': " + dir.at("missing-token") + ": No such file or directory"));
  CHECK(contains(error_for("    as: someone-else\n    token: t\n"), "sets as (impersonation)"));
  // exec stanzas are checked as client-go checks them.
  CHECK(contains(error_for("    exec:\n      apiVersion: client.authentication.k8s.io/v1\n      command: x\n"),
                 "interactiveMode must be specified for u to use exec authentication plugin"));
  CHECK(contains(error_for("    exec:\n      apiVersion: client.authentication.k8s.io/v1\n      command: x\n      interactiveMode: Always\n"),
                 "the engine runs plugins without a terminal"));
  CHECK(contains(error_for("    exec:\n      apiVersion: client.authentication.k8s.io/v1alpha1\n      command: x\n"),
                 "has apiVersion 'client.authentication.k8s.io/v1alpha1'"));
  CHECK(contains(error_for("    exec:\n      apiVersion: client.authentication.k8s.io/v1\n      interactiveMode: Never\n"),
                 "has no command"));
}

// ----------------------------------------------------------- exec plugins

TEST_CASE("kubeconfig exec plugin: runs once, cached until expiry, re-run after invalidate() and after expiry") {
  TempDir dir;
  dir.write("plugin.sh", kPluginScript, true);
  dir.write("expiry", "2030-01-01T00:00:00Z");
  // A relative command with a '/' is relative to the kubeconfig's directory.
  std::string cluster_extra = "    certificate-authority-data: " + encode_base64(kCaPem) + "\n" +
                              "    extensions:\n"
                              "    - name: client.authentication.k8s.io/exec\n"
                              "      extension: {audience: kapture, retries: 3, quoted: '3'}\n";
  std::string path = dir.write("config", kubeconfig_with_user(exec_user(dir, "./plugin.sh", "client.authentication.k8s.io/v1",
                                                                        "      interactiveMode: IfAvailable\n"
                                                                        "      provideClusterInfo: true\n"),
                                                              cluster_extra));
  ManualClock clock;
  clock.set("2029-12-31T23:00:00Z");
  KubeConfigOptions options;
  options.kubeconfig = path;
  options.clock = clock.fn();
  auto access = resolve_kube_access(options, isolated_env(dir));
  REQUIRE_MESSAGE(access.ok(), access.error().describe());
  KubeCredentials& creds = *access->credentials;
  CHECK(runs_of(dir) == 0);  // resolving does not run the plugin
  CHECK(creds.describe() == "exec plugin " + dir.at("plugin.sh") + " (client.authentication.k8s.io/v1) of user 'u'");

  auto first = creds.current();
  REQUIRE_MESSAGE(first.ok(), first.error().describe());
  CHECK(first->bearer_token == "exec-token-1");
  REQUIRE(first->expires.has_value());
  CHECK(format_rfc3339(*first->expires) == "2030-01-01T00:00:00Z");
  CHECK(runs_of(dir) == 1);
  CHECK(slurp(dir.at("args")) == "--cluster\nc\n");

  // What the plugin was told, as client-go tells it.
  auto info = nlohmann::json::parse(slurp(dir.at("info.json")));
  CHECK(info["apiVersion"] == "client.authentication.k8s.io/v1");
  CHECK(info["kind"] == "ExecCredential");
  CHECK(info["spec"]["interactive"] == false);
  CHECK(info["spec"]["cluster"]["server"] == "https://k8s.example:6443");
  CHECK(info["spec"]["cluster"]["certificate-authority-data"] == encode_base64(kCaPem));
  CHECK(info["spec"]["cluster"]["config"] == nlohmann::json{{"audience", "kapture"}, {"retries", 3}, {"quoted", "3"}});

  // Cached while unexpired.
  clock.set("2029-12-31T23:59:59Z");
  auto cached = creds.current();
  REQUIRE(cached.ok());
  CHECK(cached->bearer_token == "exec-token-1");
  CHECK(cached->generation == first->generation);
  CHECK(runs_of(dir) == 1);

  // A 401: invalidate() makes the next request run the plugin again ...
  creds.invalidate(first->generation);
  auto second = creds.current();
  REQUIRE(second.ok());
  CHECK(second->bearer_token == "exec-token-2");
  CHECK(second->generation > first->generation);
  CHECK(runs_of(dir) == 2);
  // ... but a late 401 for the credential already replaced does not.
  creds.invalidate(first->generation);
  CHECK(creds.current()->bearer_token == "exec-token-2");
  CHECK(runs_of(dir) == 2);

  // Past the expiry: run again.
  dir.write("expiry", "2031-01-01T00:00:00Z");
  clock.set("2030-01-01T00:00:01Z");
  auto third = creds.current();
  REQUIRE_MESSAGE(third.ok(), third.error().describe());
  CHECK(third->bearer_token == "exec-token-3");
  CHECK(runs_of(dir) == 3);

  creds.invalidate();
  CHECK(creds.current()->bearer_token == "exec-token-4");

  // The credential prints without its token.
  CHECK(third->describe() == "bearer token, expires 2031-01-01T00:00:00Z");
  CHECK_FALSE(contains(access->endpoint.describe(), "exec-token"));
}

TEST_CASE("kubeconfig exec plugin: concurrent requests run it once") {
  TempDir dir;
  dir.write("plugin.sh", kPluginScript, true);
  dir.write("expiry", "");  // no expiry: kept until invalidated
  std::string path = dir.write("config", kubeconfig_with_user(exec_user(dir, dir.at("plugin.sh"), "client.authentication.k8s.io/v1beta1",
                                                                        "")));  // v1beta1: interactiveMode defaults
  auto access = resolve_file(path, isolated_env(dir));
  REQUIRE_MESSAGE(access.ok(), access.error().describe());
  std::vector<std::thread> threads;
  std::vector<std::string> tokens(4);
  for (size_t i = 0; i < tokens.size(); ++i)
    threads.emplace_back([&, i] {
      auto c = access->credentials->current();
      if (c.ok()) tokens[i] = c->bearer_token;
    });
  for (auto& t : threads) t.join();
  for (const auto& t : tokens) CHECK(t == "exec-token-1");
  CHECK(runs_of(dir) == 1);
  auto info = nlohmann::json::parse(slurp(dir.at("info.json")));
  CHECK(info["apiVersion"] == "client.authentication.k8s.io/v1beta1");
  CHECK_FALSE(info["spec"].contains("cluster"));  // provideClusterInfo was not set
}

TEST_CASE("kubeconfig exec plugin: client certificates, and static credentials taking precedence") {
  TempDir dir;
  nlohmann::json cred = {{"apiVersion", "client.authentication.k8s.io/v1"},
                         {"kind", "ExecCredential"},
                         {"status", {{"clientCertificateData", kCertPem}, {"clientKeyData", kKeyPem}}}};
  dir.write("cred.json", cred.dump());
  dir.write("cert-plugin.sh", "#!/bin/sh\ncat " + dir.at("cred.json") + "\n", true);
  std::string path = dir.write("config", kubeconfig_with_user(exec_user(dir, dir.at("cert-plugin.sh"))));
  auto access = resolve_file(path, isolated_env(dir));
  REQUIRE_MESSAGE(access.ok(), access.error().describe());
  auto c = access->credentials->current();
  REQUIRE_MESSAGE(c.ok(), c.error().describe());
  CHECK(c->client_cert_pem == kCertPem);
  CHECK(c->client_key_pem == kKeyPem);
  CHECK(c->bearer_token.empty());
  CHECK_FALSE(c->expires.has_value());

  // A token next to the exec stanza: kubectl never runs the plugin then.
  dir.write("plugin.sh", kPluginScript, true);
  std::string both = dir.write("both", kubeconfig_with_user("    token: static-token\n" + exec_user(dir, dir.at("plugin.sh"))));
  auto with_token = resolve_file(both, isolated_env(dir));
  REQUIRE(with_token.ok());
  CHECK(with_token->credentials->current()->bearer_token == "static-token");
  CHECK(runs_of(dir) == 0);
  REQUIRE(with_token->endpoint.warnings.size() == 1);
  CHECK(contains(with_token->endpoint.warnings[0], "does not run the plugin"));
}

TEST_CASE("kubeconfig exec plugin errors: not found, failing, bad output, expired, too slow") {
  TempDir dir;
  KubeEnvironment env = isolated_env(dir);
  auto credential_error = [&](const std::string& command, int timeout_ms = 60000) {
    std::string path = dir.write("config", kubeconfig_with_user(exec_user(dir, command)));
    KubeConfigOptions options;
    options.kubeconfig = path;
    options.exec_timeout_ms = timeout_ms;
    auto access = resolve_kube_access(options, env);
    REQUIRE_MESSAGE(access.ok(), access.error().describe());
    return error_of(access->credentials->current());
  };

  CHECK(credential_error("kapture-test-no-such-plugin") ==
        "exec plugin kapture-test-no-such-plugin of user 'u': executable kapture-test-no-such-plugin not found in PATH"
        "\n\ninstall it with: apt-get install kapture-test-plugin");
  CHECK(contains(credential_error("./missing-plugin.sh"), "executable " + dir.at("missing-plugin.sh") + " not found"));

  dir.write("failing.sh",
            "#!/bin/sh\n"
            "echo 'fetching a token for the cluster' >&2\n"
            "echo 'error: the identity provider said 403 Forbidden' >&2\n"
            "exit 3\n",
            true);
  CHECK(credential_error(dir.at("failing.sh")) ==
        "exec plugin " + dir.at("failing.sh") + " of user 'u' exited with status 3; the end of its stderr:\n"
        "fetching a token for the cluster\n"
        "error: the identity provider said 403 Forbidden");

  dir.write("garbage.sh", "#!/bin/sh\necho '{\"status\": {\"token\": \"leaked-secret-token\"'\n", true);
  std::string garbage = credential_error(dir.at("garbage.sh"));
  CHECK(contains(garbage, "its output is not an ExecCredential: not valid JSON (error at byte"));
  CHECK_FALSE(contains(garbage, "leaked-secret-token"));

  dir.write("wrong-version.sh",
            "#!/bin/sh\necho '{\"apiVersion\":\"client.authentication.k8s.io/v1beta1\",\"kind\":\"ExecCredential\","
            "\"status\":{\"token\":\"t\"}}'\n",
            true);
  CHECK(contains(credential_error(dir.at("wrong-version.sh")),
                 "exec plugin is configured to use API version client.authentication.k8s.io/v1, plugin returned version "
                 "client.authentication.k8s.io/v1beta1"));

  dir.write("no-status.sh", "#!/bin/sh\necho '{\"apiVersion\":\"client.authentication.k8s.io/v1\",\"kind\":\"ExecCredential\"}'\n", true);
  CHECK(contains(credential_error(dir.at("no-status.sh")), "exec plugin didn't return a status field"));

  dir.write("plugin.sh", kPluginScript, true);
  dir.write("expiry", "2001-02-03T04:05:06Z");
  std::string expired = credential_error(dir.at("plugin.sh"));
  CHECK(contains(expired, "returned a credential that expired at 2001-02-03T04:05:06Z"));
  CHECK_FALSE(contains(expired, "exec-token"));

  dir.write("slow.sh", "#!/bin/sh\nsleep 30\n", true);
  auto started = std::chrono::steady_clock::now();
  CHECK(contains(credential_error(dir.at("slow.sh"), 300), "did not finish within 300 ms and was killed"));
  CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(10));
}

// ------------------------------------------------------------ small parts

TEST_CASE("kubeconfig parts: base64 and RFC 3339 times") {
  CHECK(*decode_base64("Zm9vYmFy") == "foobar");
  CHECK(*decode_base64("Zm9v\nYmE=") == "fooba");
  CHECK(*decode_base64("Zm9vYg") == "foob");  // padding left off
  CHECK(encode_base64("fooba") == "Zm9vYmE=");
  CHECK(encode_base64("") == "");
  CHECK_FALSE(decode_base64("Zm9vY").ok());
  CHECK_FALSE(decode_base64("Zm=9").ok());

  CHECK(format_rfc3339(*parse_rfc3339("2024-05-01T12:00:00Z")) == "2024-05-01T12:00:00Z");
  CHECK(format_rfc3339(*parse_rfc3339("2024-05-01T14:30:00+02:30")) == "2024-05-01T12:00:00Z");
  CHECK(*parse_rfc3339("2024-05-01T12:00:00.250Z") - *parse_rfc3339("2024-05-01T12:00:00Z") == std::chrono::milliseconds(250));
  CHECK_FALSE(parse_rfc3339("2024-02-30T00:00:00Z").has_value());
  CHECK_FALSE(parse_rfc3339("2024-05-01 12:00:00Z").has_value());
  CHECK_FALSE(parse_rfc3339("2024-05-01T12:00:00").has_value());
}
