#include "slo/PrometheusQuery.h"

#include <curl/curl.h>

#include <charconv>
#include <memory>
#include <mutex>

#include <nlohmann/json.hpp>

#include "drivers/http/CurlHandles.h"

namespace kapture {

namespace {

constexpr const char* kNoData = "no data: ";

struct CurlFree {
  void operator()(char* p) const { curl_free(p); }
};
CurlEasy easy_handle() {
  curl_global_once();
  return CurlEasy(curl_easy_init());
}

size_t append(char* data, size_t size, size_t n, void* out) {
  static_cast<std::string*>(out)->append(data, size * n);
  return size * n;
}

// Prometheus writes sample values as strings: "0.25", "NaN", "+Inf".
std::optional<double> sample_value(const nlohmann::json& v) {
  if (!v.is_string()) return std::nullopt;
  std::string s = v.get<std::string>();
  if (!s.empty() && s[0] == '+') s.erase(0, 1);  // from_chars takes no plus sign
  double d = 0;
  auto r = std::from_chars(s.data(), s.data() + s.size(), d);
  if (r.ec != std::errc() || r.ptr != s.data() + s.size()) return std::nullopt;
  return d;
}

// Prometheus' JSON envelope: {"status", "data": {"resultType", "result"}}
// or {"status": "error", "errorType", "error"}. Throws on fields of the
// wrong type; the caller turns that into an error.
Result<double> interpret(const nlohmann::json& j, const std::string& where, const std::string& promql, const std::string& when) {
  if (j.at("status") != "success") {
    std::string type = j.value("errorType", "error");
    Error e = runtime_error(where + " refused '" + promql + "': " + type + ": " + j.value("error", "(no message)"));
    if (type == "bad_data") e.kind = ErrorKind::Usage;  // the query itself is wrong
    return e;
  }
  const nlohmann::json& data = j.at("data");
  std::string kind = data.value("resultType", "");
  const nlohmann::json& result = data.at("result");
  std::optional<double> value;
  if (kind == "scalar" && result.is_array() && result.size() == 2) {
    value = sample_value(result[1]);
  } else if (kind == "vector" && result.is_array()) {
    if (result.empty()) return runtime_error(kNoData + where + " has no series for '" + promql + "' " + when);
    if (result.size() > 1)
      return runtime_error("'" + promql + "' returned " + std::to_string(result.size()) + " series from " + where +
                           "; an expectation needs one number: aggregate them, e.g. sum(...), max(...) or avg(...)");
    const nlohmann::json& sample = result[0].at("value");
    if (sample.is_array() && sample.size() == 2) value = sample_value(sample[1]);
  } else if (kind == "matrix") {
    return runtime_error("'" + promql + "' is a range vector; an expectation needs one number: apply a function such as " +
                         "rate(...) or max_over_time(...) to it");
  } else {
    return runtime_error("'" + promql + "' gave a " + (kind.empty() ? std::string("missing") : kind) + " result from " + where +
                         "; an expectation needs a number");
  }
  if (!value) return runtime_error(where + " sent a sample for '" + promql + "' that is not a number: " + result.dump().substr(0, 200));
  return *value;
}

}  // namespace

bool is_prometheus_no_data(const Error& e) { return e.message.rfind(kNoData, 0) == 0; }

Result<double> prometheus_instant(const std::string& base_url, const std::string& promql, std::optional<double> at_unix_s) {
  std::string where = "Prometheus at " + base_url;
  CurlEasy curl = easy_handle();
  if (!curl) return runtime_error("cannot create a libcurl handle to query " + where);
  std::unique_ptr<char, CurlFree> query(curl_easy_escape(curl.get(), promql.c_str(), static_cast<int>(promql.size())));
  if (!query) return runtime_error("cannot URL-encode the query '" + promql + "'");
  std::string url = base_url;
  while (!url.empty() && url.back() == '/') url.pop_back();
  url += "/api/v1/query?query=";
  url += query.get();
  std::string when = "now";
  if (at_unix_s) {
    char buf[40];
    auto r = std::to_chars(buf, buf + sizeof buf, *at_unix_s, std::chars_format::fixed, 3);
    when = "at time " + std::string(buf, r.ptr);
    url += "&time=";
    url.append(buf, r.ptr);
  }

  std::string body;
  char curl_error[CURL_ERROR_SIZE] = "";
  curl_easy_setopt(curl.get(), CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl.get(), CURLOPT_WRITEFUNCTION, append);
  curl_easy_setopt(curl.get(), CURLOPT_WRITEDATA, &body);
  curl_easy_setopt(curl.get(), CURLOPT_ERRORBUFFER, curl_error);
  curl_easy_setopt(curl.get(), CURLOPT_NOSIGNAL, 1L);  // no SIGALRM for timeouts: the engine has threads
  curl_easy_setopt(curl.get(), CURLOPT_CONNECTTIMEOUT_MS, 5000L);
  curl_easy_setopt(curl.get(), CURLOPT_TIMEOUT_MS, 30000L);
  CURLcode rc = curl_easy_perform(curl.get());
  if (rc != CURLE_OK)
    return unreachable_error(where + " is unreachable: " + (curl_error[0] ? curl_error : curl_easy_strerror(rc)));
  long status = 0;
  curl_easy_getinfo(curl.get(), CURLINFO_RESPONSE_CODE, &status);

  nlohmann::json j = nlohmann::json::parse(body, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("status")) {
    // Not Prometheus' API (a proxy's error page, a wrong path): say what came back.
    return runtime_error(where + " answered HTTP " + std::to_string(status) + " without an API response (is that Prometheus?): " +
                         body.substr(0, 200));
  }
  try {
    return interpret(j, where, promql, when);
  } catch (const nlohmann::json::exception&) {
    // A field of an unexpected type: nothing to compare with.
    return runtime_error(where + " sent an answer to '" + promql + "' this client does not understand: " + body.substr(0, 200));
  }
}

}  // namespace kapture
