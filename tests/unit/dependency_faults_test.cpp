// DependencyFaults: one outage per endpoint from the first failure to the
// next success, with the events that mark both ends.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "metrics/DependencyFaults.h"
#include "report/EventLog.h"

using namespace kapture;

TEST_CASE("an outage runs from the first failure to the next success of the same endpoint") {
  RunClock clock;
  DependencyFaults faults(clock, nullptr);
  faults.ok("redis", "127.0.0.1:6379");  // nothing down: nothing happens
  CHECK(faults.outages().empty());
  faults.failed("redis", "127.0.0.1:6379", "Connection refused");
  faults.failed("redis", "127.0.0.1:6379", "Connection reset");
  faults.failed("postgres", "127.0.0.1:5432", "timeout");
  faults.ok("redis", "127.0.0.1:6380");  // another endpoint: does not close it
  faults.ok("redis", "127.0.0.1:6379");
  faults.ok("redis", "127.0.0.1:6379");  // already closed
  auto o = faults.outages();
  REQUIRE(o.size() == 2);
  CHECK(o[0].dependency == "redis");
  CHECK(o[0].failures == 2);
  CHECK(o[0].error == "Connection refused");  // the first failure's words
  CHECK(o[0].to_us >= o[0].from_us);
  CHECK(o[1].to_us == -1);  // PostgreSQL never came back
  auto j = faults.to_json();
  CHECK(j[0]["to_s"].is_number());
  CHECK(j[1]["to_s"].is_null());
  CHECK(j[1]["duration_s"].get<double>() >= 0);
  // Down again later: a second outage of the same endpoint.
  faults.failed("redis", "127.0.0.1:6379", "Connection refused");
  CHECK(faults.outages().size() == 3);
}

TEST_CASE("each outage is a dependency_down and a dependency_up event") {
  auto path = std::filesystem::temp_directory_path() / "kapture-dependency-faults-events.jsonl";
  {
    RunClock clock;
    EventLog events(path.string(), clock);
    DependencyFaults faults(clock, &events);
    faults.failed("kafka", "127.0.0.1:9093/2", "Connect failed");
    faults.failed("kafka", "127.0.0.1:9093/2", "Connect failed");
    faults.ok("kafka", "127.0.0.1:9093/2");
  }
  std::ifstream in(path);
  std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::filesystem::remove(path);
  CHECK(all.find("\"type\":\"dependency_down\"") != std::string::npos);
  CHECK(all.find("\"type\":\"dependency_up\"") != std::string::npos);
  CHECK(all.find("\"failures\":2") != std::string::npos);
}
