#include "common/Redact.h"

#include <algorithm>
#include <mutex>
#include <vector>

namespace kapture {

namespace {

constexpr size_t kMinSecretLength = 4;

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

bool contains(const std::string& haystack, std::string_view needle) { return haystack.find(needle) != std::string::npos; }

// Header names whose whole value is a credential ("Authorization: Bearer x").
// A short list: "token: x" in free text is as often a parser's message.
bool is_secret_header(std::string_view name) {
  static const char* const headers[] = {"authorization", "proxy-authorization", "cookie", "set-cookie",
                                        "x-api-key",     "api-key",             "x-auth-token", "private-token"};
  std::string n = lower(name);
  return std::any_of(std::begin(headers), std::end(headers), [&](const char* h) { return n == h; });
}

bool name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
}

bool value_end(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '&' || c == ',' || c == ';' || c == ')' || c == '"' || c == '\'' ||
         c == '<' || c == '>';
}

struct Span {
  size_t start = 0, length = 0;
};

// The password of every scheme://user:password@host in the text.
void url_password_spans(std::string_view text, std::vector<Span>& out) {
  for (size_t scheme = text.find("://"); scheme != std::string_view::npos; scheme = text.find("://", scheme + 3)) {
    size_t start = scheme + 3, end = start;
    while (end < text.size() && !value_end(text[end]) && text[end] != '/' && text[end] != '?' && text[end] != '#') ++end;
    std::string_view authority = text.substr(start, end - start);
    size_t at = authority.rfind('@');
    if (at == std::string_view::npos) continue;
    size_t colon = authority.substr(0, at).find(':');
    if (colon == std::string_view::npos || colon + 1 == at) continue;
    out.push_back({start + colon + 1, at - colon - 1});
  }
}

// The value of every `name=value` whose name is a secret's (libpq conninfo
// "password=x", a query's "?token=x", "Kafka property sasl.password=x").
void key_value_spans(std::string_view text, std::vector<Span>& out) {
  for (size_t eq = text.find('='); eq != std::string_view::npos; eq = text.find('=', eq + 1)) {
    if (eq + 1 < text.size() && text[eq + 1] == '=') {
      ++eq;  // "==": a comparison
      continue;
    }
    size_t name_start = eq;
    while (name_start > 0 && name_char(text[name_start - 1])) --name_start;
    if (name_start == eq || !is_secret_name(text.substr(name_start, eq - name_start))) continue;
    size_t start = eq + 1, end = start;
    if (start < text.size() && (text[start] == '\'' || text[start] == '"')) {  // conninfo quotes values with spaces
      size_t close = text.find(text[start], start + 1);
      end = close == std::string_view::npos ? text.size() : close;
      ++start;
    } else {
      while (end < text.size() && !value_end(text[end])) ++end;
    }
    if (end > start) out.push_back({start, end - start});
  }
}

// The rest of the line after "Authorization: " and the like.
void header_spans(std::string_view text, std::vector<Span>& out) {
  for (size_t colon = text.find(':'); colon != std::string_view::npos; colon = text.find(':', colon + 1)) {
    size_t name_start = colon;
    while (name_start > 0 && name_char(text[name_start - 1])) --name_start;
    if (name_start == colon || !is_secret_header(text.substr(name_start, colon - name_start))) continue;
    size_t start = colon + 1;
    while (start < text.size() && text[start] == ' ') ++start;
    size_t end = start;
    while (end < text.size() && text[end] != '\r' && text[end] != '\n' && text[end] != '"' && text[end] != '\'') ++end;
    if (end > start) out.push_back({start, end - start});
  }
}

std::vector<Span> secret_spans(std::string_view text) {
  std::vector<Span> spans;
  url_password_spans(text, spans);
  key_value_spans(text, spans);
  header_spans(text, spans);
  // Already redacted text stays as it is.
  std::erase_if(spans, [&](const Span& s) { return text.substr(s.start, s.length) == kRedacted; });
  std::sort(spans.begin(), spans.end(), [](const Span& a, const Span& b) { return a.start < b.start; });
  return spans;
}

std::string percent_decode(std::string_view s) {
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && hex(s[i + 1]) >= 0 && hex(s[i + 2]) >= 0) {
      out += static_cast<char>(hex(s[i + 1]) * 16 + hex(s[i + 2]));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

// Secrets met so far, longest first (a secret containing another is
// replaced whole). Shared by every thread that writes.
struct Registry {
  std::mutex mu;
  std::vector<std::string> secrets;
};

Registry& registry() {
  static Registry r;
  return r;
}

std::vector<std::string> registered() {
  Registry& r = registry();
  std::lock_guard lock(r.mu);
  return r.secrets;
}

void replace_all(std::string& s, std::string_view what, std::string_view with) {
  for (size_t at = s.find(what); at != std::string::npos; at = s.find(what, at + with.size())) s.replace(at, what.size(), with);
}

}  // namespace

bool is_secret_name(std::string_view name) {
  static const char* const marks[] = {"password", "passwd",   "secret",     "token",        "credential", "jaas",
                                      "oauthbearer.config", "authorization", "cookie", "api-key", "api_key", "apikey",
                                      "private",  "key.pem",  "key-data",   "key_data",     "keystore.key"};
  std::string n = lower(name);
  return std::any_of(std::begin(marks), std::end(marks), [&](const char* m) { return contains(n, m); });
}

void register_secret(std::string_view value) {
  if (value.size() < kMinSecretLength || value == kRedacted) return;
  Registry& r = registry();
  std::lock_guard lock(r.mu);
  if (std::find(r.secrets.begin(), r.secrets.end(), value) != r.secrets.end()) return;
  r.secrets.emplace_back(value);
  std::stable_sort(r.secrets.begin(), r.secrets.end(), [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
}

void register_secret_properties(const std::map<std::string, std::string>& properties) {
  for (const auto& [name, value] : properties) {
    if (is_secret_name(name)) register_secret(value);
    // "Bearer abc": the token alone can show up too.
    if (is_secret_header(name))
      if (auto space = value.find(' '); space != std::string::npos) register_secret(value.substr(space + 1));
  }
}

void register_url_secrets(std::string_view url) {
  for (const Span& s : secret_spans(url)) {
    std::string_view raw = url.substr(s.start, s.length);
    register_secret(raw);
    register_secret(percent_decode(raw));
  }
}

std::string redact(std::string_view text) {
  std::string out(text);
  for (const auto& secret : registered()) replace_all(out, secret, kRedacted);
  // Right to left, so earlier spans keep their offsets; overlaps are skipped.
  std::vector<Span> spans = secret_spans(out);
  size_t limit = out.size();
  for (auto it = spans.rbegin(); it != spans.rend(); ++it) {
    if (it->start + it->length > limit) continue;
    out.replace(it->start, it->length, kRedacted);
    limit = it->start;
  }
  return out;
}

nlohmann::json redact_json(const nlohmann::json& value) {
  if (value.is_string()) return redact(value.get_ref<const std::string&>());
  if (value.is_array()) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& item : value) out.push_back(redact_json(item));
    return out;
  }
  if (!value.is_object()) return value;
  nlohmann::json out = nlohmann::json::object();
  for (auto it = value.begin(); it != value.end(); ++it) {
    bool hide = is_secret_name(it.key()) && it.value().is_string() && !it.value().get_ref<const std::string&>().empty();
    out[it.key()] = hide ? nlohmann::json(kRedacted) : redact_json(it.value());
  }
  return out;
}

std::map<std::string, std::string> redact_properties(const std::map<std::string, std::string>& properties) {
  std::map<std::string, std::string> out;
  for (const auto& [name, value] : properties) out[name] = is_secret_name(name) ? std::string(kRedacted) : redact(value);
  return out;
}

void clear_registered_secrets() {
  Registry& r = registry();
  std::lock_guard lock(r.mu);
  r.secrets.clear();
}

}  // namespace kapture
