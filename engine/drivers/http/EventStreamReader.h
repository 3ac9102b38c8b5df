#pragma once
// One reader of a server-sent event stream (text/event-stream) over libcurl:
// connects, hands every complete event to a callback, and returns when the
// stream ends, fails, or the stop flag is set. Reconnecting is the caller's
// choice (it knows what it has seen).
#include <atomic>
#include <functional>
#include <string>

#include "common/Error.h"

namespace kapture {

struct ServerSentEvent {
  std::string id;    // the last "id:" line of the event ("" if none)
  std::string data;  // the "data:" lines joined with "\n"
};

struct EventStreamOptions {
  std::string url;
  bool insecure = false;         // skip TLS verification
  int connect_timeout_ms = 5000;
};

class EventStreamReader {
 public:
  using OnEvent = std::function<void(const ServerSentEvent&)>;
  explicit EventStreamReader(EventStreamOptions options) : options_(std::move(options)) {}

  // Reads one connection to its end. `connected` is called once the server
  // answered 200; `tick` at least once a second, events or not (on the
  // reading thread). nullopt when `stop` ended it; otherwise the error
  // (refused, non-200 with the server's message, the stream cut).
  // `last_event_id`, if any, is sent as Last-Event-ID (a reconnect).
  Status read(const std::atomic<bool>& stop, const OnEvent& on_event, const std::function<void()>& connected,
              const std::function<void()>& tick, const std::string& last_event_id = "");

 private:
  EventStreamOptions options_;
};

// Splits a text/event-stream byte stream into events; bytes may arrive in
// any pieces. Kept apart from the transport so it can be tested alone.
class EventStreamParser {
 public:
  void feed(const char* data, size_t n, const EventStreamReader::OnEvent& on_event);

 private:
  void line(std::string_view l, const EventStreamReader::OnEvent& on_event);
  std::string partial_;  // an incomplete line
  ServerSentEvent event_;
  bool has_data_ = false;
};

}  // namespace kapture
