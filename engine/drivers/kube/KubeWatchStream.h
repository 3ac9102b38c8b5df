#pragma once
// One watch connection's answer: newline-delimited JSON, one event a line,
// {"type": "ADDED", "object": {...}}. KubeWatchStream takes the bytes as
// they arrive (in any pieces), hands each ADDED, MODIFIED, DELETED and
// BOOKMARK to the caller and remembers the last resourceVersion seen, so
// the next connection resumes after it. An ERROR event (its object a
// Status) ends the stream: code 410 means the resourceVersion is too old
// (gone() — list again), anything else is an error the client retries.
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "drivers/kube/KubeClient.h"

namespace kapture {

class KubeWatchStream {
 public:
  enum class End {
    None,      // still going
    Callback,  // the callback returned false
    Gone,      // ERROR event with a 410 Status: list again
    Error,     // ERROR event with another Status (error_status())
    Garbage,   // a line that is not a watch event (garbage_line())
  };

  explicit KubeWatchStream(std::string resource_version) : resource_version_(std::move(resource_version)) {}

  // Feeds bytes. Returns false once the stream has ended (end() says why);
  // bytes fed after that are ignored.
  bool feed(std::string_view bytes, const std::function<bool(const KubeWatchEvent&)>& on_event);

  End end() const { return end_; }
  const std::string& resource_version() const { return resource_version_; }
  const nlohmann::json& error_status() const { return error_status_; }
  const std::string& garbage_line() const { return garbage_; }
  uint64_t events() const { return events_; }  // delivered, bookmarks included

 private:
  bool line(std::string_view text, const std::function<bool(const KubeWatchEvent&)>& on_event);

  std::string resource_version_;
  std::string buf_;
  End end_ = End::None;
  nlohmann::json error_status_;
  std::string garbage_;
  uint64_t events_ = 0;
};

// The HTTP-like code of a watch ERROR event's Status (410 for "too old
// resource version"), 0 when it has none.
long watch_status_code(const nlohmann::json& status);

}  // namespace kapture
