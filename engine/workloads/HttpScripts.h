#pragma once
// The Lua side of an http workload, wrk's scripting model: request(seq,
// now_ms) builds each request ({method, path | url, headers, body}, or a
// string: the body), response(status, headers, body) checks each reply and
// returns ok[, message]. Each runs in its own sandboxed state, owned by one
// worker thread; errors come back as values with the script's file:line.
#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "drivers/http/HttpClient.h"
#include "lua/LuaState.h"
#include "scenario/Scenario.h"

namespace kapture {

class HttpScript {
 public:
  // Loads `spec` (a request or a response function) for worker `worker` of `workers`.
  static Result<std::unique_ptr<HttpScript>> create(const GeneratorSpec& spec, const std::vector<std::string>& allow, uint64_t seed,
                                                    int worker, int workers, const char* calls, bool probe = false);

  // request(seq, now_ms): fills method, url, headers and body of `out` from
  // what it returns over the workload's own (headers merge, Lua's win).
  // `origin` is "scheme://host:port", what a returned `path` is appended to.
  Status build_request(int64_t seq, int64_t now_ms, const HttpWorkloadSpec& spec, const std::string& origin, HttpRequest& out);
  // response(status, headers, body) -> ok[, message]: false with the message.
  Result<std::pair<bool, std::string>> check_response(long status, const std::map<std::string, std::string>& headers,
                                                      const std::string& body);

  const std::atomic<int64_t>& busy_since_ms() const { return busy_since_ms_; }

 private:
  HttpScript(const GeneratorSpec& spec, LuaSandbox sandbox) : spec_(spec), lua_(sandbox) {}
  Error script_error(const std::string& message) const;

  GeneratorSpec spec_;
  LuaState lua_;
  std::atomic<int64_t> busy_since_ms_{0};
};

// "http://host:8080/a/b?c" -> "http://host:8080".
std::string url_origin(const std::string& url);

// Validation: load both scripts in probe mode and build a few requests.
Status probe_http_scripts(const HttpWorkloadSpec& spec, uint64_t seed);

}  // namespace kapture
