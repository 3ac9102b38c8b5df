#include "targets/WebAppProcess.h"

#include <unistd.h>

#include <chrono>
#include <thread>

#include "drivers/http/CurlHandles.h"

namespace kapture {

namespace {

size_t discard(char*, size_t size, size_t n, void*) { return size * n; }

// A one-byte block answered 200: listening, with its Kafka producer made.
bool answers(const std::string& url) {
  curl_global_once();
  CurlEasy c(curl_easy_init());
  if (!c) return false;
  std::string probe = url + "/blocks?size=1&n=1";
  curl_easy_setopt(c.get(), CURLOPT_URL, probe.c_str());
  curl_easy_setopt(c.get(), CURLOPT_WRITEFUNCTION, discard);
  curl_easy_setopt(c.get(), CURLOPT_TIMEOUT_MS, 1000L);
  curl_easy_setopt(c.get(), CURLOPT_NOSIGNAL, 1L);
  long status = 0;
  if (curl_easy_perform(c.get()) != CURLE_OK) return false;
  curl_easy_getinfo(c.get(), CURLINFO_RESPONSE_CODE, &status);
  return status == 200;
}

Result<std::string> own_binary() {
  char buf[4096];
  ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0) return runtime_error("cannot find the engine's own binary (/proc/self/exe) to start the webapp");
  return std::string(buf, static_cast<size_t>(n));
}

}  // namespace

Status WebAppProcess::start(const WebAppLaunch& launch) {
  auto binary = own_binary();
  if (!binary) return binary.error();
  auto port = free_loopback_port();
  if (!port) return port.error();
  std::string listen = "127.0.0.1:" + std::to_string(*port);
  std::vector<std::string> argv = {*binary, "serve", "webapp", "--kafka", launch.bootstrap, "--listen", listen, "--acks", launch.acks};
  for (const auto& [k, v] : launch.kafka_properties) {
    argv.push_back("--kafka-prop");
    argv.push_back(k + "=" + v);
  }
  if (auto err = process_.start(std::move(argv), launch.log_file)) return err;
  url_ = "http://" + listen;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(launch.ready_timeout_ms);
  while (!answers(url_)) {
    if (!process_.running())
      return unreachable_error("webapp (serve webapp on " + listen + ") exited at start: " + tail_of_file(launch.log_file));
    if (std::chrono::steady_clock::now() > deadline) {
      process_.stop();
      return unreachable_error("webapp on " + listen + " did not answer GET /blocks within " +
                               std::to_string(launch.ready_timeout_ms / 1000) + " s; its log: " + tail_of_file(launch.log_file));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return std::nullopt;
}

}  // namespace kapture
