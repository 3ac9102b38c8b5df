#include "drivers/kube/KubeApiErrors.h"

#include <string_view>
#include <vector>

namespace kapture {

const char* http_reason_phrase(long status) {
  switch (status) {
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 406: return "Not Acceptable";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 410: return "Gone";
    case 413: return "Request Entity Too Large";
    case 415: return "Unsupported Media Type";
    case 422: return "Unprocessable Entity";
    case 429: return "Too Many Requests";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    default: return "";
  }
}

std::string reason_for_status(long status) {
  switch (status) {
    case 400: return "BadRequest";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "NotFound";
    case 405: return "MethodNotAllowed";
    case 406: return "NotAcceptable";
    case 409: return "Conflict";
    case 410: return "Expired";
    case 413: return "RequestEntityTooLarge";
    case 415: return "UnsupportedMediaType";
    case 422: return "Invalid";
    case 429: return "TooManyRequests";
    case 500: return "InternalError";
    case 503: return "ServiceUnavailable";
    case 504: return "Timeout";
    default: return "";
  }
}

std::string path_without_query(const std::string& path) { return path.substr(0, path.find('?')); }

namespace {

// The parts of an API path: /api/v1/namespaces/NS/RESOURCE/NAME/SUB or
// /apis/GROUP/VERSION/...
struct ApiPath {
  bool ok = false;
  std::string group, ns, resource, name, sub;
  bool watch = false;
};

ApiPath parse_api_path(const std::string& full) {
  ApiPath p;
  const std::string path = path_without_query(full);
  p.watch = full.find("watch=true", path.size()) != std::string::npos || full.find("watch=1", path.size()) != std::string::npos;
  std::vector<std::string> seg;
  size_t i = 0;
  while (i < path.size()) {
    size_t j = path.find('/', i);
    if (j == std::string::npos) j = path.size();
    if (j > i) seg.push_back(path.substr(i, j - i));
    i = j + 1;
  }
  size_t at;
  if (seg.size() >= 2 && seg[0] == "api") {
    at = 2;
  } else if (seg.size() >= 3 && seg[0] == "apis") {
    p.group = seg[1];
    at = 3;
  } else {
    return p;
  }
  std::vector<std::string> rest(seg.begin() + static_cast<long>(at), seg.end());
  if (rest.empty()) return p;
  size_t r = 0;
  if (rest.size() >= 3 && rest[0] == "namespaces") {
    p.ns = rest[1];
    r = 2;
  }
  p.resource = rest[r];
  if (rest.size() > r + 1) p.name = rest[r + 1];
  if (rest.size() > r + 2) p.sub = rest[r + 2];
  p.ok = true;
  return p;
}

// The RBAC verb an HTTP request needs.
std::string rbac_verb(const std::string& verb, const ApiPath& p) {
  if (verb == "GET" || verb == "HEAD") return p.watch ? "watch" : p.name.empty() ? "list" : "get";
  if (verb == "POST") return "create";
  if (verb == "PUT") return "update";
  if (verb == "PATCH") return "patch";
  if (verb == "DELETE") return p.name.empty() ? "deletecollection" : "delete";
  return verb;
}

std::string dq(const std::string& s) { return "\"" + s + "\""; }

std::string hint(const std::string& verb, const std::string& resource, const std::string& group,
                 const std::optional<std::string>& ns) {
  std::string out = " (needs verb " + dq(verb) + " on " + dq(resource) + " in API group " + dq(group);
  out += ns ? " in namespace " + dq(*ns) : std::string(" at cluster scope");
  return out + ")";
}

std::string json_string(const nlohmann::json& j, const char* key) {
  if (!j.is_object()) return "";
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : "";
}

// The first line of a non-JSON answer, shortened.
std::string text_excerpt(const std::string& body) {
  std::string s = body.substr(0, body.find('\n'));
  while (!s.empty() && (s.back() == '\r' || s.back() == ' ')) s.pop_back();
  if (s.size() > 300) s = s.substr(0, 300) + "...";
  return s;
}

// A cursor over a message, for the authorizer's fixed phrases.
class Words {
 public:
  explicit Words(std::string_view s) : s_(s) {}
  // A run of characters up to a space.
  bool token(std::string& out) {
    size_t n = 0;
    while (n < s_.size() && s_[n] != ' ') ++n;
    if (n == 0) return false;
    out = std::string(s_.substr(0, n));
    s_.remove_prefix(n);
    return true;
  }
  bool literal(std::string_view lit) {
    if (s_.substr(0, lit.size()) != lit) return false;
    s_.remove_prefix(lit.size());
    return true;
  }
  // Up to the closing quote (consumed).
  bool until_quote(std::string& out) {
    size_t q = s_.find('"');
    if (q == std::string_view::npos) return false;
    out = std::string(s_.substr(0, q));
    s_.remove_prefix(q + 1);
    return true;
  }

 private:
  std::string_view s_;
};

}  // namespace

std::string forbidden_hint(const nlohmann::json& status, const std::string& verb, const std::string& path) {
  const std::string message = json_string(status, "message");
  // The authorizer's own words (apiserver's responsewriters.forbiddenMessage):
  //   cannot VERB resource "R" in API group "G" in the namespace "NS"
  //   cannot VERB resource "R" in API group "G" at the cluster scope
  //   cannot VERB path "/P"
  for (size_t at = message.find("cannot "); at != std::string::npos; at = message.find("cannot ", at + 1)) {
    Words w(std::string_view(message).substr(at + 7));
    std::string v, resource, group, ns, p;
    if (!w.token(v)) continue;
    if (w.literal(" resource \"") && w.until_quote(resource) && w.literal(" in API group \"") && w.until_quote(group)) {
      std::optional<std::string> in_ns;
      if (w.literal(" in the namespace \"") && w.until_quote(ns)) in_ns = ns;
      return hint(v, resource, group, in_ns);
    }
    Words again(std::string_view(message).substr(at + 7));
    again.token(v);
    if (again.literal(" path \"") && again.until_quote(p)) return " (needs verb " + dq(v) + " on path " + dq(p) + ")";
  }
  // Not in the words the authorizer uses: an authorization denial still
  // says "cannot"; an admission plugin's 403 does not name a permission.
  if (message.find("cannot") == std::string::npos && !message.empty()) return "";
  const ApiPath p = parse_api_path(path);
  if (!p.ok) return "";
  const nlohmann::json details = status.is_object() ? status.value("details", nlohmann::json::object()) : nlohmann::json::object();
  std::string resource = json_string(details, "kind");
  if (resource.empty()) resource = p.resource;
  if (!p.sub.empty() && resource.find('/') == std::string::npos) resource += "/" + p.sub;
  std::string group = details.contains("group") ? json_string(details, "group") : p.group;
  std::optional<std::string> ns;
  if (!p.ns.empty()) ns = p.ns;
  return hint(rbac_verb(verb, p), resource, group, ns);
}

KubeApiError kube_api_error(const std::string& verb, const std::string& path, long http_status, const std::string& body,
                            std::optional<int64_t> retry_after_s) {
  KubeApiError e;
  e.http_status = http_status;
  e.retry_after_s = retry_after_s;
  nlohmann::json status = nlohmann::json::parse(body, nullptr, false);
  const bool is_status = status.is_object() && (status.contains("message") || json_string(status, "kind") == "Status");
  std::string api_message;
  if (is_status) {
    api_message = json_string(status, "message");
    e.reason = json_string(status, "reason");
    auto details = status.find("details");
    if (details != status.end() && details->is_object()) {
      auto ra = details->find("retryAfterSeconds");
      if (!e.retry_after_s && ra != details->end() && ra->is_number_integer() && ra->get<int64_t>() > 0)
        e.retry_after_s = ra->get<int64_t>();
      // Causes the message does not already say (a PodDisruptionBudget's
      // "needs 2 healthy pods and has 2 currently").
      auto causes = details->find("causes");
      if (causes != details->end() && causes->is_array()) {
        std::string extra;
        for (const auto& c : *causes) {
          std::string cm = json_string(c, "message");
          if (cm.empty() || api_message.find(cm) != std::string::npos || extra.find(cm) != std::string::npos) continue;
          extra += (extra.empty() ? "" : "; ") + cm;
        }
        if (!extra.empty()) api_message += (api_message.empty() ? "" : " ") + ("(" + extra + ")");
      }
    }
  } else {
    api_message = text_excerpt(body);
  }
  if (e.reason.empty()) e.reason = reason_for_status(http_status);

  std::string m = verb + " " + path_without_query(path) + ": " + std::to_string(http_status);
  if (const char* phrase = http_reason_phrase(http_status); *phrase) m += std::string(" ") + phrase;
  if (!api_message.empty()) m += ": " + api_message;
  if (http_status == 403) m += forbidden_hint(is_status ? status : nlohmann::json::object(), verb, path);
  e.message = std::move(m);
  return e;
}

KubeApiError kube_transport_error(const std::string& verb, const std::string& server, const std::string& path,
                                  bool connect_failed, const std::string& detail) {
  KubeApiError e;
  e.http_status = 0;
  e.message = verb + " " + server + path_without_query(path) + (connect_failed ? ": cannot connect: " : ": no answer: ") + detail;
  return e;
}

}  // namespace kapture
