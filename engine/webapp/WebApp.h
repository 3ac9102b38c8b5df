#pragma once
// `kapture-engine serve webapp`: the web front end of the chaos hands-on and
// of Kapture's architecture, in front of Kafka.
//   POST /api/topics/{topic}   produce the body (key: ?key=), answer after the
//                              brokers acknowledged it: {"partition","offset"}
//   GET  /api/topics/{topic}   the topic as server-sent events (new messages;
//                              ?from=beginning for all)
//   GET  /blocks?size=&n=&periodMS=   n blocks of size bytes, one every period
#include <atomic>
#include <map>
#include <memory>
#include <string>

#include "common/Error.h"
#include "drivers/http/HttpListener.h"
#include "webapp/KafkaPublisher.h"

namespace kapture {

struct WebAppOptions {
  std::string bootstrap;
  std::map<std::string, std::string> kafka_properties;  // for every client (security.protocol, sasl.*, ...)
  std::string acks = "all";
  int workers = 64;  // request threads; each open event stream holds one
};

class WebApp {
 public:
  static Result<std::unique_ptr<WebApp>> start(const ListenAddress& address, const WebAppOptions& options);
  ~WebApp();
  std::string base_url() const { return listener_.base_url(); }

 private:
  explicit WebApp(const WebAppOptions& options) : options_(options), listener_(options.workers) {}
  void routes();

  WebAppOptions options_;
  std::unique_ptr<KafkaPublisher> publisher_;  // outlives the listener's request threads
  std::atomic<bool> stopping_{false};
  HttpListener listener_;
};

}  // namespace kapture
