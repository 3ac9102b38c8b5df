// The Kubernetes API client: requests over pooled libcurl easy handles (one
// keep-alive connection each), client-go's retries (KubeRetry.h), messages
// built from the API's Status (KubeApiErrors.h), watch streams parsed by
// KubeWatchStream.h, and discovery cached per group/version.
#include "drivers/kube/KubeClient.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>
#include <map>
#include <mutex>
#include <random>
#include <thread>

#include "drivers/http/CurlHandles.h"
#include "drivers/kube/KubeApiErrors.h"
#include "drivers/kube/KubeResources.h"
#include "drivers/kube/KubeRetry.h"
#include "drivers/kube/KubeWatchStream.h"

namespace kapture {

namespace {

using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

constexpr const char* kFieldManager = "kapture-engine";
constexpr size_t kPoolMax = 16;  // idle handles kept; more are closed

// An error raised before anything was sent (a bad argument).
KubeApiError local_error(std::string reason, std::string message) {
  KubeApiError e;
  e.reason = std::move(reason);
  e.message = std::move(message);
  return e;
}

std::string json_str(const json& j, const char* key) {
  if (!j.is_object()) return "";
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : "";
}

std::string resource_version_of(const json& obj) {
  return obj.is_object() && obj.contains("metadata") ? json_str(obj["metadata"], "resourceVersion") : "";
}

// Waits up to `d`, returning early (false) when `stop` becomes true.
bool sleep_unless_stopped(std::chrono::milliseconds d, const std::atomic<bool>* stop) {
  const auto until = Clock::now() + d;
  while (Clock::now() < until) {
    if (stop && stop->load()) return false;
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - Clock::now());
    std::this_thread::sleep_for(std::min(left, std::chrono::milliseconds(50)));
  }
  return !(stop && stop->load());
}

// One discovered resource of a group/version.
struct DiscoveredResource {
  std::string name, singular, kind;
  std::vector<std::string> short_names;
  bool namespaced = true;
};

struct CallOptions {
  bool retry_throttled = true;              // false: a 429 is an answer (eviction)
  const std::atomic<bool>* stop = nullptr;  // cuts retry waits short
};

}  // namespace

struct KubeClient::Impl {
  KubeAccess access;
  KubeClientOptions options;
  std::string base_url;    // where paths are appended: the server, its host replaced by tls_server_name
  std::string connect_to;  // CURLOPT_CONNECT_TO entry when tls_server_name is set

  struct Pooled {
    CurlEasy handle;
    uint64_t generation = 0;  // of the credential its connection was made with
  };
  std::mutex pool_mu;
  std::vector<Pooled> pool;

  std::mutex rng_mu;
  std::mt19937 rng{std::random_device{}()};

  std::atomic<uint64_t> requests{0}, retries{0}, throttled{0};

  std::mutex discovery_mu;
  std::map<std::string, std::vector<DiscoveredResource>> discovery;  // by groupVersion

  // What one attempt brought back.
  struct Answer {
    long status = 0;
    std::string body;  // the whole answer, or (streaming) only a failed answer's
    std::optional<int64_t> retry_after;
    KubeAttemptOutcome outcome;
    std::string transport_error;  // curl's words when no (complete) answer
    bool aborted = false;         // stopped by the stop flag or the stream's consumer
  };
  using Sink = std::function<bool(std::string_view)>;

  double unit_random() {
    std::lock_guard<std::mutex> lock(rng_mu);
    return std::uniform_real_distribution<double>(0.0, 1.0)(rng);
  }

  Pooled take(uint64_t generation) {
    std::lock_guard<std::mutex> lock(pool_mu);
    while (!pool.empty()) {
      Pooled p = std::move(pool.back());
      pool.pop_back();
      // A connection made with another credential (a rotated client
      // certificate) must not carry this request.
      if (p.generation == generation) return p;
    }
    return Pooled{CurlEasy(curl_easy_init()), generation};
  }
  void give(Pooled p) {
    curl_easy_reset(p.handle.get());
    std::lock_guard<std::mutex> lock(pool_mu);
    if (pool.size() < kPoolMax) pool.push_back(std::move(p));
  }

  struct Transfer {
    CURL* easy = nullptr;
    Answer* answer = nullptr;
    const Sink* sink = nullptr;
    const std::atomic<bool>* stop = nullptr;
  };
  static size_t on_body(char* data, size_t size, size_t n, void* userp) {
    auto* t = static_cast<Transfer*>(userp);
    const size_t len = size * n;
    if (t->sink) {
      long status = 0;
      curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &status);
      if (status >= 200 && status < 300) {
        if (!(*t->sink)(std::string_view(data, len))) {
          t->answer->aborted = true;
          return 0;  // ends the transfer
        }
        return len;
      }
    }
    t->answer->body.append(data, len);
    return len;
  }
  static size_t on_header(char* data, size_t size, size_t n, void* userp) {
    auto* t = static_cast<Transfer*>(userp);
    std::string_view line(data, size * n);
    if (line.rfind("HTTP/", 0) == 0) t->answer->retry_after.reset();  // a new (final) answer starts
    constexpr std::string_view name = "retry-after:";
    if (line.size() > name.size()) {
      bool match = true;
      for (size_t i = 0; i < name.size() && match; ++i)
        match = std::tolower(static_cast<unsigned char>(line[i])) == name[i];
      if (match) t->answer->retry_after = parse_retry_after(line.substr(name.size()));
    }
    return size * n;
  }
  static int on_progress(void* userp, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
    auto* t = static_cast<Transfer*>(userp);
    if (t->stop && t->stop->load()) {
      t->answer->aborted = true;
      return 1;
    }
    return 0;
  }

  // One HTTP exchange, no retries. With a sink, a 2xx answer's body goes to
  // it as it arrives (watch) instead of into Answer::body.
  Answer perform(const std::string& verb, const std::string& path, const std::string& body, const std::string& content_type,
                 const Credential& cred, const Sink* sink = nullptr, const std::atomic<bool>* stop = nullptr,
                 std::chrono::milliseconds timeout = std::chrono::milliseconds(0)) {
    Answer answer;
    Pooled pooled = take(cred.generation);
    CURL* e = pooled.handle.get();
    if (!e) {
      answer.outcome.transport = KubeAttemptOutcome::Transport::ConnectFailed;
      answer.transport_error = "curl_easy_init failed";
      return answer;
    }
    Transfer t{e, &answer, sink, stop};
    char errbuf[CURL_ERROR_SIZE] = {0};
    const std::string url = base_url + path;
    curl_easy_setopt(e, CURLOPT_URL, url.c_str());
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(e, CURLOPT_HTTP_VERSION, CURL_HTTP_VERSION_1_1);
    curl_easy_setopt(e, CURLOPT_USERAGENT, options.user_agent.c_str());
    curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(e, CURLOPT_TCP_NODELAY, 1L);
    const auto request_timeout = timeout.count() > 0 ? timeout : options.request_timeout;
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, static_cast<long>(request_timeout.count()));
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(std::min<int64_t>(options.request_timeout.count(), 10000)));
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, &Impl::on_body);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, &t);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, &Impl::on_header);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, &t);
    if (stop) {
      curl_easy_setopt(e, CURLOPT_NOPROGRESS, 0L);
      curl_easy_setopt(e, CURLOPT_XFERINFOFUNCTION, &Impl::on_progress);
      curl_easy_setopt(e, CURLOPT_XFERINFODATA, &t);
    }

    CurlSlist connect_to_list;
    if (!connect_to.empty()) {
      connect_to_list.reset(curl_slist_append(nullptr, connect_to.c_str()));
      curl_easy_setopt(e, CURLOPT_CONNECT_TO, connect_to_list.get());
    }
    const KubeEndpoint& ep = access.endpoint;
    if (ep.insecure) {
      curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 0L);
      curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L);
    } else if (!ep.ca_pem.empty()) {
      curl_blob ca{const_cast<char*>(ep.ca_pem.data()), ep.ca_pem.size(), CURL_BLOB_COPY};
      curl_easy_setopt(e, CURLOPT_CAINFO_BLOB, &ca);
    }
    if (cred.has_client_certificate()) {
      curl_blob cert{const_cast<char*>(cred.client_cert_pem.data()), cred.client_cert_pem.size(), CURL_BLOB_COPY};
      curl_blob key{const_cast<char*>(cred.client_key_pem.data()), cred.client_key_pem.size(), CURL_BLOB_COPY};
      curl_easy_setopt(e, CURLOPT_SSLCERT_BLOB, &cert);
      curl_easy_setopt(e, CURLOPT_SSLCERTTYPE, "PEM");
      curl_easy_setopt(e, CURLOPT_SSLKEY_BLOB, &key);
      curl_easy_setopt(e, CURLOPT_SSLKEYTYPE, "PEM");
    }

    CurlSlist headers;
    auto add_header = [&](const std::string& h) {
      curl_slist* l = curl_slist_append(headers.get(), h.c_str());
      if (l) {
        (void)headers.release();
        headers.reset(l);
      }
    };
    add_header("Accept: application/json");
    add_header("Expect:");  // no 100-continue round trip for larger bodies
    if (!body.empty()) add_header("Content-Type: " + content_type);
    const std::string authorization = cred.authorization();
    if (!authorization.empty()) add_header("Authorization: " + authorization);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, headers.get());

    if (verb == "GET") {
      curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
    } else {
      if (verb == "POST" || !body.empty()) {
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, body.data());
      }
      if (verb != "POST") curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, verb.c_str());
    }

    ++requests;
    const CURLcode rc = curl_easy_perform(e);
    curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &answer.status);
    if (rc != CURLE_OK && !answer.aborted) {
      using T = KubeAttemptOutcome::Transport;
      curl_off_t pretransfer = 0;
      curl_easy_getinfo(e, CURLINFO_PRETRANSFER_TIME_T, &pretransfer);
      switch (rc) {
        case CURLE_COULDNT_CONNECT:
        case CURLE_COULDNT_RESOLVE_HOST:
        case CURLE_COULDNT_RESOLVE_PROXY:
          answer.outcome.transport = T::ConnectFailed;
          break;
        case CURLE_SSL_CONNECT_ERROR:
        case CURLE_PEER_FAILED_VERIFICATION:
        case CURLE_SSL_CERTPROBLEM:
        case CURLE_SSL_CIPHER:
        case CURLE_SSL_CACERT_BADFILE:
        case CURLE_SSL_ISSUER_ERROR:
        case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
        case CURLE_SSL_INVALIDCERTSTATUS:
        case CURLE_SSL_CRL_BADFILE:
          answer.outcome.transport = T::Tls;
          break;
        default:
          // Timed out or broken: never sent when the transfer had not begun.
          answer.outcome.transport = pretransfer == 0 ? T::ConnectFailed : T::Broken;
      }
      answer.transport_error = errbuf[0] ? errbuf : curl_easy_strerror(rc);
      answer.status = 0;
    }
    answer.outcome.http_status = answer.status;
    // A TLS failure is a misconfiguration, not an outage; a stop is ours.
    if (options.faults && !answer.aborted) {
      if (answer.status > 0) options.faults->ok("kubernetes", access.endpoint.server);
      else if (answer.outcome.transport != KubeAttemptOutcome::Transport::Tls)
        options.faults->failed("kubernetes", access.endpoint.server, answer.transport_error);
    }
    give(std::move(pooled));
    return answer;
  }

  // The error for an attempt that failed (an answer outside 2xx or none).
  KubeApiError error_of(const std::string& verb, const std::string& path, const Answer& a) const {
    if (a.status == 0) {
      using T = KubeAttemptOutcome::Transport;
      return kube_transport_error(verb, access.endpoint.server, path, a.outcome.transport != T::Broken, a.transport_error);
    }
    return kube_api_error(verb, path, a.status, a.body, a.retry_after);
  }

  // The credential to send now, or the error saying why there is none.
  std::variant<Credential, KubeApiError> credential(const std::string& verb, const std::string& path) {
    auto c = access.credentials->current();
    if (!c) {
      return local_error("Unauthorized", verb + " " + access.endpoint.server + path_without_query(path) +
                                             ": no credential: " + c.error().describe());
    }
    return std::move(*c);
  }

  // A request with the retries: the parsed JSON answer (null when empty, a
  // JSON string when not JSON) or the error.
  KubeResult<json> call(const std::string& verb, const std::string& path, const std::string& body = "",
                        const std::string& content_type = "application/json", CallOptions copts = {}) {
    const bool idempotent = kube_idempotent(verb, content_type);
    const int max_attempts = std::max(1, options.retry.max_attempts);
    bool reauthenticated = false;
    for (int attempt = 1;; ++attempt) {
      auto cred = credential(verb, path);
      if (cred.index() == 1) return std::get<1>(std::move(cred));
      const Credential& c = std::get<0>(cred);
      Answer a = perform(verb, path, body, content_type, c, nullptr, nullptr);
      if (a.status >= 200 && a.status < 300) {
        if (a.body.empty()) return json(nullptr);
        json j = json::parse(a.body, nullptr, false);
        if (j.is_discarded()) return json(a.body);
        return j;
      }
      if (a.status == 429) ++throttled;
      if (a.status == 401 && !reauthenticated) {
        // The credential expired or rotated: fetch it again, once (client-go
        // does so for exec plugins).
        reauthenticated = true;
        access.credentials->invalidate(c.generation);
        ++retries;
        --attempt;
        continue;
      }
      if (attempt < max_attempts && kube_should_retry(a.outcome, idempotent, copts.retry_throttled)) {
        auto delay = kube_retry_delay(options.retry, attempt, a.status ? a.retry_after : std::nullopt, unit_random());
        ++retries;
        spdlog::debug("kube: {} (attempt {} of {}; again in {} ms)", error_of(verb, path, a).message, attempt, max_attempts,
                      delay.count());
        if (!sleep_unless_stopped(delay, copts.stop)) return error_of(verb, path, a);
        continue;
      }
      KubeApiError err = error_of(verb, path, a);
      if (attempt > 1) err.message += " (after " + std::to_string(attempt) + " attempts)";
      return err;
    }
  }

  // All pages of a list (client-go's pager: an expired continue token
  // falls back to one unpaged list).
  KubeResult<json> list_all(const KubeObjectRef& collection, const KubeListOptions& o, const std::atomic<bool>* stop = nullptr) {
    json result;
    std::string cont;
    int limit = std::max(0, o.limit);
    for (;;) {
      const std::string path = collection.path() + url_query({{"labelSelector", o.label_selector},
                                                              {"fieldSelector", o.field_selector},
                                                              {"limit", limit > 0 ? std::to_string(limit) : ""},
                                                              {"continue", cont}});
      auto r = call("GET", path, "", "application/json", CallOptions{true, stop});
      if (!kube_ok(r)) {
        if (kube_error(r).http_status == 410 && !cont.empty()) {
          cont.clear();
          result = json();
          limit = 0;
          continue;
        }
        return r;
      }
      json page = std::move(std::get<0>(r));
      if (!page.is_object()) return local_error("InternalError", "GET " + path_without_query(path) + ": the answer is not a list");
      if (!page.contains("items") || !page["items"].is_array()) page["items"] = json::array();
      std::string next = page.contains("metadata") ? json_str(page["metadata"], "continue") : "";
      if (result.is_null()) {
        result = std::move(page);
      } else {
        for (auto& item : page["items"]) result["items"].push_back(std::move(item));
        result["metadata"]["resourceVersion"] = resource_version_of(page);
      }
      cont = std::move(next);
      if (cont.empty()) break;
    }
    if (result.contains("metadata") && result["metadata"].is_object()) {
      result["metadata"].erase("continue");
      result["metadata"].erase("remainingItemCount");
    }
    return result;
  }

  // The resources of a group/version, from the cache or the API server
  // (`refresh` asks again: the cache may predate a new CRD).
  std::variant<std::vector<DiscoveredResource>, KubeApiError> discover(const std::string& gv, bool refresh) {
    if (!refresh) {
      std::lock_guard<std::mutex> lock(discovery_mu);
      auto it = discovery.find(gv);
      if (it != discovery.end()) return it->second;
    }
    const std::string path = gv.find('/') == std::string::npos ? "/api/" + gv : "/apis/" + gv;
    auto r = call("GET", path);
    if (!kube_ok(r)) {
      KubeApiError e = kube_error(r);
      if (e.http_status == 404) e.message += " (the API server does not serve " + gv + ")";
      return e;
    }
    std::vector<DiscoveredResource> out;
    const json& list = kube_value(r);
    if (list.is_object() && list.contains("resources") && list["resources"].is_array()) {
      for (const auto& res : list["resources"]) {
        DiscoveredResource d;
        d.name = json_str(res, "name");
        if (d.name.empty() || d.name.find('/') != std::string::npos) continue;  // subresources
        d.singular = json_str(res, "singularName");
        d.kind = json_str(res, "kind");
        d.namespaced = res.value("namespaced", true);
        if (res.contains("shortNames") && res["shortNames"].is_array())
          for (const auto& s : res["shortNames"])
            if (s.is_string()) d.short_names.push_back(s.get<std::string>());
        out.push_back(std::move(d));
      }
    }
    std::lock_guard<std::mutex> lock(discovery_mu);
    discovery[gv] = out;
    return out;
  }

  static KubeResourceType type_of(const std::string& gv, const DiscoveredResource& d) {
    KubeResourceType t;
    auto slash = gv.find('/');
    if (slash == std::string::npos) {
      t.version = gv;
    } else {
      t.group = gv.substr(0, slash);
      t.version = gv.substr(slash + 1);
    }
    t.resource = d.name;
    t.kind = d.kind;
    t.namespaced = d.namespaced;
    return t;
  }
};

KubeClient::KubeClient(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
KubeClient::~KubeClient() = default;

Result<std::unique_ptr<KubeClient>> KubeClient::create(KubeAccess access, KubeClientOptions options) {
  curl_global_once();
  std::string server = access.endpoint.server;
  while (!server.empty() && server.back() == '/') server.pop_back();
  if (server.rfind("https://", 0) != 0 && server.rfind("http://", 0) != 0)
    return usage_error("Kubernetes API server '" + server + "' is not an http:// or https:// URL");
  if (!access.credentials) access.credentials = std::make_shared<KubeCredentials>(CredentialSpec{});
  auto impl = std::make_unique<Impl>();
  impl->base_url = server;
  const std::string& sni = access.endpoint.tls_server_name;
  if (!sni.empty()) {
    // TLS (SNI and verification) for tls_server_name while connecting to
    // the server's address: the URL names tls_server_name, CONNECT_TO maps it.
    CURLU* u = curl_url();
    char *host = nullptr, *port = nullptr, *url = nullptr;
    bool ok = u && curl_url_set(u, CURLUPART_URL, server.c_str(), 0) == CURLUE_OK &&
              curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK &&
              curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) == CURLUE_OK &&
              curl_url_set(u, CURLUPART_HOST, sni.c_str(), 0) == CURLUE_OK && curl_url_get(u, CURLUPART_URL, &url, 0) == CURLUE_OK;
    if (ok && sni != host) {
      impl->connect_to = sni + ":" + port + ":" + host + ":" + port;
      impl->base_url = url;
      while (!impl->base_url.empty() && impl->base_url.back() == '/') impl->base_url.pop_back();
    }
    curl_free(host);
    curl_free(port);
    curl_free(url);
    if (u) curl_url_cleanup(u);
    if (!ok) return usage_error("Kubernetes API server '" + server + "' with tls-server-name '" + sni + "': not a valid URL");
  }
  access.endpoint.server = server;
  impl->access = std::move(access);
  impl->options = std::move(options);
  return std::unique_ptr<KubeClient>(new KubeClient(std::move(impl)));
}

const KubeEndpoint& KubeClient::endpoint() const { return impl_->access.endpoint; }

KubeClient::Counters KubeClient::counters() const {
  return Counters{impl_->requests.load(), impl_->retries.load(), impl_->throttled.load()};
}

KubeResult<json> KubeClient::request(const std::string& verb, const std::string& path, const std::string& body,
                                     const std::string& content_type) {
  return impl_->call(verb, path, body, content_type);
}

KubeResult<KubeResourceType> KubeClient::resource_type(const std::string& api_version, const std::string& kind) {
  if (auto t = builtin_resource_type(api_version, kind)) return *t;
  if (api_version.empty() || kind.empty())
    return local_error("Invalid", "an object needs apiVersion and kind (got '" + api_version + "' and '" + kind + "')");
  std::string served;
  bool was_cached;
  {
    std::lock_guard<std::mutex> lock(impl_->discovery_mu);
    was_cached = impl_->discovery.count(api_version) > 0;
  }
  // A cached group/version may predate the kind (a CRD just added): ask again.
  for (bool refresh : {false, true}) {
    if (refresh && !was_cached) break;
    auto d = impl_->discover(api_version, refresh);
    if (d.index() == 1) return std::get<1>(std::move(d));
    served.clear();
    for (const auto& r : std::get<0>(d)) {
      if (r.kind == kind) return Impl::type_of(api_version, r);
      served += (served.empty() ? "" : ", ") + r.kind;
    }
  }
  KubeApiError e = local_error("NotFound", "no kind \"" + kind + "\" in " + api_version + ": the API server serves " +
                                               (served.empty() ? std::string("nothing there") : served));
  e.http_status = 404;
  return e;
}

KubeResult<KubeResourceType> KubeClient::resource_by_name(const std::string& name) {
  if (auto t = builtin_resource_by_name(name)) return *t;
  auto groups = impl_->call("GET", "/apis");
  if (!kube_ok(groups)) return kube_error(groups);
  // Candidate group/versions: the core's, then each group's preferred one.
  std::vector<std::pair<std::string, std::string>> gvs{{"", "v1"}};  // group, groupVersion
  const json& gl = kube_value(groups);
  if (gl.is_object() && gl.contains("groups") && gl["groups"].is_array()) {
    for (const auto& g : gl["groups"]) {
      std::string gname = json_str(g, "name");
      std::string preferred = g.contains("preferredVersion") ? json_str(g["preferredVersion"], "groupVersion") : "";
      if (!gname.empty() && !preferred.empty()) gvs.emplace_back(gname, preferred);
    }
  }
  {
    // Group/versions discovered before but not (yet) in the group list: a
    // new CRD's group shows up there a moment after its own endpoint.
    std::lock_guard<std::mutex> lock(impl_->discovery_mu);
    for (const auto& [gv, resources] : impl_->discovery) {
      auto slash = gv.find('/');
      if (slash == std::string::npos) continue;
      std::string group = gv.substr(0, slash);
      bool listed = std::any_of(gvs.begin(), gvs.end(), [&](const auto& p) { return p.first == group; });
      if (!listed) gvs.emplace_back(group, gv);
    }
  }
  for (const auto& want : parse_resource_name(name)) {
    for (const auto& [group, preferred] : gvs) {
      if (want.group_given && want.group != group) continue;
      std::string gv = want.version.empty() ? preferred : (group.empty() ? want.version : group + "/" + want.version);
      auto d = impl_->discover(gv, false);
      if (d.index() == 1) continue;
      for (const auto& r : std::get<0>(d)) {
        bool short_match = std::find(r.short_names.begin(), r.short_names.end(), want.resource) != r.short_names.end();
        if (r.name == want.resource || r.singular == want.resource || short_match) return Impl::type_of(gv, r);
      }
    }
  }
  KubeApiError e = local_error("NotFound", "the API server has no resource type \"" + name + "\"");
  e.http_status = 404;
  return e;
}

KubeResult<json> KubeClient::apply(const json& object, const std::string& ns) {
  if (!object.is_object()) return local_error("Invalid", "apply: the object is not a JSON object");
  const std::string api_version = json_str(object, "apiVersion"), kind = json_str(object, "kind");
  const json metadata = object.value("metadata", json::object());
  const std::string name = json_str(metadata, "name");
  if (api_version.empty() || kind.empty() || name.empty())
    return local_error("Invalid", "apply: the object needs apiVersion, kind and metadata.name (got '" + api_version + "', '" +
                                      kind + "', '" + name + "')");
  auto type = resource_type(api_version, kind);
  if (!kube_ok(type)) return kube_error(type);
  KubeObjectRef ref{kube_value(type), "", name};
  if (ref.type.namespaced) {
    ref.namespace_ = json_str(metadata, "namespace");
    if (ref.namespace_.empty()) ref.namespace_ = ns.empty() ? impl_->access.endpoint.namespace_ : ns;
  }
  const std::string path = ref.path() + url_query({{"fieldManager", kFieldManager}, {"force", "true"}});
  return impl_->call("PATCH", path, object.dump(), "application/apply-patch+yaml");
}

KubeResult<json> KubeClient::get(const KubeObjectRef& ref) { return impl_->call("GET", ref.path()); }

KubeResult<json> KubeClient::list(const KubeObjectRef& collection, const KubeListOptions& options) {
  KubeObjectRef c = collection;
  c.name.clear();
  return impl_->list_all(c, options);
}

KubeResult<json> KubeClient::create(const KubeObjectRef& collection, const json& object) {
  KubeObjectRef c = collection;
  c.name.clear();
  return impl_->call("POST", c.path(), object.dump());
}

KubeResult<json> KubeClient::remove(const KubeObjectRef& ref, const KubeDeleteOptions& options, bool missing_ok) {
  std::string body;
  if (options.grace_period_s || !options.propagation.empty()) {
    json d{{"apiVersion", "v1"}, {"kind", "DeleteOptions"}};
    if (options.grace_period_s) d["gracePeriodSeconds"] = *options.grace_period_s;
    if (!options.propagation.empty()) d["propagationPolicy"] = options.propagation;
    body = d.dump();
  }
  auto r = impl_->call("DELETE", ref.path(), body);
  if (!kube_ok(r) && missing_ok && kube_error(r).http_status == 404) return json(nullptr);
  return r;
}

KubeResult<json> KubeClient::patch(const KubeObjectRef& ref, const json& patch, const std::string& patch_type,
                                   const std::string& sub) {
  std::string content_type;
  if (patch_type == "merge") content_type = "application/merge-patch+json";
  else if (patch_type == "strategic") content_type = "application/strategic-merge-patch+json";
  else if (patch_type == "json") content_type = "application/json-patch+json";
  else return local_error("Invalid", "patch " + ref.describe() + ": unknown patch type '" + patch_type + "' (merge, strategic or json)");
  return impl_->call("PATCH", ref.path(sub), patch.dump(), content_type);
}

KubeResult<int> KubeClient::get_scale(const KubeObjectRef& ref) {
  auto r = impl_->call("GET", ref.path("scale"));
  if (!kube_ok(r)) return kube_error(r);
  const json& scale = kube_value(r);
  if (scale.is_object() && scale.contains("spec") && scale["spec"].is_object()) {
    auto it = scale["spec"].find("replicas");
    if (it != scale["spec"].end() && it->is_number_integer()) return it->get<int>();
  }
  return 0;  // spec.replicas left out: zero
}

KubeResult<json> KubeClient::set_scale(const KubeObjectRef& ref, int replicas) {
  return impl_->call("PATCH", ref.path("scale"), json{{"spec", {{"replicas", replicas}}}}.dump(), "application/merge-patch+json");
}

KubeResult<json> KubeClient::evict(const std::string& ns, const std::string& pod, std::optional<int64_t> grace_period_s) {
  json eviction{{"apiVersion", "policy/v1"}, {"kind", "Eviction"}, {"metadata", {{"name", pod}, {"namespace", ns}}}};
  if (grace_period_s) eviction["deleteOptions"] = {{"gracePeriodSeconds", *grace_period_s}};
  KubeObjectRef ref{*builtin_resource_type("v1", "Pod"), ns, pod};
  return impl_->call("POST", ref.path("eviction"), eviction.dump(), "application/json", CallOptions{false, nullptr});
}

Status KubeClient::watch(const KubeObjectRef& collection, const KubeWatchOptions& options,
                         const std::function<bool(const KubeWatchEvent&)>& on_event, const std::atomic<bool>& stop) {
  Impl& im = *impl_;
  KubeObjectRef c = collection;
  c.name.clear();
  std::string rv = options.resource_version;
  bool callback_stopped = false;
  auto deliver = [&](const KubeWatchEvent& ev) {
    if (callback_stopped) return false;
    if (!on_event(ev)) callback_stopped = true;
    return !callback_stopped;
  };

  // Lists; `initial`: each item as ADDED (when asked), else one RELISTED.
  auto relist = [&](bool initial) -> Status {
    auto r = im.list_all(c, options.list, &stop);
    if (!kube_ok(r)) return to_error(kube_error(r));
    const json& list = kube_value(r);
    rv = resource_version_of(list);
    if (!initial) {
      deliver(KubeWatchEvent{"RELISTED", list});
    } else if (options.send_initial_list) {
      for (const auto& item : list["items"])
        if (!deliver(KubeWatchEvent{"ADDED", item})) break;
    }
    return std::nullopt;
  };

  if (rv.empty()) {
    if (auto err = relist(true)) return stop.load() ? std::nullopt : err;
  }
  const int max_attempts = std::max(1, im.options.retry.max_attempts);
  int failures = 0;
  bool reauthenticated = false;
  while (!stop.load() && !callback_stopped) {
    const std::string path =
        c.path() + url_query({{"watch", "true"},
                              {"resourceVersion", rv},
                              {"allowWatchBookmarks", "true"},
                              {"timeoutSeconds", std::to_string(std::max(1, options.timeout_s))},
                              {"labelSelector", options.list.label_selector},
                              {"fieldSelector", options.list.field_selector}});
    auto cred = im.credential("GET", path);
    if (cred.index() == 1) return to_error(std::get<1>(cred));
    const Credential& credential = std::get<0>(cred);
    KubeWatchStream stream(rv);
    Impl::Sink sink = [&](std::string_view bytes) { return stream.feed(bytes, deliver); };
    const auto started = Clock::now();
    Impl::Answer a = im.perform("GET", path, "", "", credential, &sink, &stop,
                                std::chrono::milliseconds((std::max(1, options.timeout_s) + 60) * 1000LL));
    rv = stream.resource_version();
    if (stop.load() || callback_stopped) break;

    std::optional<KubeApiError> failure;
    if (a.status == 401 && !reauthenticated) {
      reauthenticated = true;
      im.access.credentials->invalidate(credential.generation);
      ++im.retries;
      continue;
    }
    if (a.status == 410 || stream.end() == KubeWatchStream::End::Gone) {
      // The resourceVersion is too old (compacted): list again.
      spdlog::debug("kube: watch {}: resourceVersion {} is gone, listing again", path_without_query(path), rv);
      if (auto err = relist(false)) return stop.load() ? std::nullopt : err;
      failures = 0;
      continue;
    }
    if (stream.end() == KubeWatchStream::End::Error) {
      // An ERROR event with another Status: an error like any answer's.
      long code = watch_status_code(stream.error_status());
      failure = kube_api_error("GET", path, code > 0 ? code : 500, stream.error_status().dump());
    } else if (stream.end() == KubeWatchStream::End::Garbage) {
      failure = local_error("InternalError", "GET " + path_without_query(path) + ": not a watch event: " + stream.garbage_line());
      failure->http_status = 500;
    } else if ((a.status >= 200 && a.status < 300) || stream.events() > 0) {
      // The server ended the watch (timeoutSeconds) or the connection broke
      // after events: resume from the last resourceVersion seen.
      failures = 0;
      reauthenticated = false;
      if (stream.events() == 0 && Clock::now() - started < std::chrono::seconds(1))
        sleep_unless_stopped(std::chrono::milliseconds(200), &stop);
      continue;
    } else {
      failure = im.error_of("GET", path, a);
    }
    ++failures;
    if (a.status == 429) ++im.throttled;
    KubeAttemptOutcome outcome = a.outcome;
    if (outcome.transport == KubeAttemptOutcome::Transport::None) outcome.http_status = failure->http_status;
    if (failures >= max_attempts || !kube_should_retry(outcome, true)) {
      if (failures > 1) failure->message += " (after " + std::to_string(failures) + " attempts)";
      return to_error(*failure);
    }
    auto delay = kube_retry_delay(im.options.retry, failures, failure->retry_after_s, im.unit_random());
    ++im.retries;
    spdlog::debug("kube: watch: {} (again in {} ms)", failure->message, delay.count());
    sleep_unless_stopped(delay, &stop);
  }
  return std::nullopt;
}

Error to_error(const KubeApiError& e) { return runtime_error(e.message); }

}  // namespace kapture
