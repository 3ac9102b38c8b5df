#include "targets/KafkaDistribution.h"

#include <cstdlib>
#include <filesystem>

#include "targets/ChildProcess.h"

namespace fs = std::filesystem;

namespace kapture {

namespace {

std::string cache_dir() {
  if (const char* c = std::getenv("KAPTURE_CACHE"); c && *c) return c;
  const char* home = std::getenv("HOME");
  return std::string(home && *home ? home : "/tmp") + "/.cache/kapture";
}

// The newest complete kafka-* directory in the cache, or "".
std::string cached_home() {
  std::error_code ec;
  std::string best;
  for (const auto& e : fs::directory_iterator(cache_dir(), ec)) {
    std::string name = e.path().filename().string();
    if (name.rfind("kafka-", 0) != 0 || !fs::exists(e.path() / ".complete", ec)) continue;
    if (best.empty() || name > fs::path(best).filename().string()) best = e.path().string();
  }
  return best;
}

}  // namespace

Result<KafkaDistribution> find_kafka_distribution() {
  KafkaDistribution d;
  auto java = find_binary("java", {"/usr/bin", "/usr/lib/jvm/default-java/bin"}, "openjdk-17-jre-headless");
  if (!java) return java.error();
  d.java = *java;
  if (const char* h = std::getenv("KAPTURE_KAFKA_HOME"); h && *h) {
    d.home = h;
    std::error_code ec;
    if (!fs::is_directory(d.home + "/libs", ec))
      return usage_error("KAPTURE_KAFKA_HOME=" + d.home + " has no libs/ directory (run scripts/fetch-kafka, or unset it)");
    return d;
  }
  d.home = cached_home();
  if (!d.home.empty()) return d;
  // First use on this machine: resolve Kafka from Maven Central.
  std::string script = std::string(KAPTURE_SOURCE_DIR) + "/scripts/fetch-kafka";
  std::error_code ec;
  if (!fs::exists(script, ec))
    return unreachable_error("Apache Kafka is not in " + cache_dir() + " and " + script +
                             " is missing: set KAPTURE_KAFKA_HOME to a directory with Kafka's jars in libs/");
  fs::create_directories(cache_dir(), ec);
  std::string log = cache_dir() + "/fetch-kafka.log";
  if (auto err = run_to_completion({"/bin/bash", script}, log, "", 20 * 60 * 1000))
    return unreachable_error("fetching Apache Kafka from Maven Central failed (" + err->message + ")");
  d.home = cached_home();
  if (d.home.empty()) return unreachable_error(script + " ran but left no Kafka in " + cache_dir() + " (log: " + log + ")");
  return d;
}

}  // namespace kapture
