#pragma once
// `kapture-engine serve webapp`: the web front end of the chaos hands-on and
// of Kapture's architecture, in front of Kafka.
//   POST /api/topics/{topic}   produce the body (key: ?key=), answer after the
//                              brokers acknowledged it: {"partition","offset"}
//   GET  /api/topics/{topic}   the topic as server-sent events (new messages;
//                              ?from=beginning for all)
//   GET  /blocks?size=&n=&periodMS=   n blocks of size bytes, one every period
//   GET  /stats                connections and requests served since start,
//                              per HTTP version (proves HTTP/2 multiplexing)
// over HTTP/1.1 (--listen) and, with --h2-listen, over HTTP/2 as well.
#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "common/Error.h"
#include "drivers/http/HttpListener.h"
#include "webapp/Http2Listener.h"
#include "webapp/KafkaPublisher.h"
#include "webapp/ThreadSet.h"

namespace kapture {

struct WebAppOptions {
  std::string bootstrap;
  std::map<std::string, std::string> kafka_properties;  // for every client (security.protocol, sasl.*, ...)
  std::string acks = "all";
  // HTTP/1.1: request threads; each open event stream holds one. HTTP/2: at
  // most this many connections (a thread each) and as many event streams (a
  // reader thread each).
  int workers = 64;
  std::optional<ListenAddress> h2_listen;  // none: HTTP/1.1 only
  TlsFiles tls;                            // for h2_listen; none: cleartext h2c
};

class WebApp {
 public:
  static Result<std::unique_ptr<WebApp>> start(const ListenAddress& address, const WebAppOptions& options);
  ~WebApp();
  std::string base_url() const { return listener_.base_url(); }
  // "" without --h2-listen.
  std::string h2_base_url() const { return h2_listener_ ? h2_listener_->base_url() : ""; }

 private:
  explicit WebApp(const WebAppOptions& options);
  void http1_routes();
  std::unique_ptr<Http2Response> http2_route(const Http2Request& request, Http2Waker wake);
  std::unique_ptr<Http2Response> http2_events(const std::string& topic, bool from_beginning, Http2Waker wake);
  std::string stats_json() const;

  WebAppOptions options_;
  std::unique_ptr<KafkaPublisher> publisher_;  // outlives the listeners' request threads and its own delivery reports
  std::atomic<bool> stopping_{false};
  std::atomic<int64_t> http1_connections_{0};
  std::atomic<int64_t> http1_requests_{0};
  ThreadSet event_readers_;  // HTTP/2 event streams' Kafka readers; joined after the HTTP/2 connections ended
  HttpListener listener_;
  std::unique_ptr<Http2Listener> h2_listener_;  // stops first: its connections use everything above
};

}  // namespace kapture
