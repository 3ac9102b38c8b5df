#pragma once
// The webapp for a run on the embedded and local targets (topology: webapp:
// {}): this engine's own `serve webapp` as a child process on a free
// loopback port, in front of the run's Kafka; ready when it answers HTTP,
// stopped at the end of the run. On Kubernetes, manifests/webapp.yaml.
#include <map>
#include <string>

#include "common/Error.h"
#include "targets/ChildProcess.h"

namespace kapture {

struct WebAppLaunch {
  std::string bootstrap;
  std::map<std::string, std::string> kafka_properties;
  std::string acks = "all";
  std::string log_file;
  int ready_timeout_ms = 20000;
};

class WebAppProcess {
 public:
  Status start(const WebAppLaunch& launch);
  std::string url() const { return url_; }  // http://127.0.0.1:PORT
  pid_t pid() const { return process_.pid(); }
  void stop() { process_.stop(); }

 private:
  ChildProcess process_;
  std::string url_;
};

}  // namespace kapture
