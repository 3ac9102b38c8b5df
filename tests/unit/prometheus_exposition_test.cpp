// The Prometheus text exposition of the metrics store and the live status:
// names and units, which seconds count, summaries, labels and their escaping.
#include <doctest/doctest.h>

#include <algorithm>
#include <sstream>
#include <string>
#include <vector>

#include "metrics/MetricsEndpoint.h"
#include "metrics/PrometheusExposition.h"

using namespace kapture;

namespace {

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

bool has_line(const std::string& text, const std::string& line) {
  for (const auto& l : lines_of(text))
    if (l == line) return true;
  return false;
}

// Lines of one family, HELP and TYPE included, in output order.
std::vector<std::string> family(const std::string& text, const std::string& name) {
  std::vector<std::string> out;
  for (const auto& l : lines_of(text)) {
    bool sample = l.rfind(name, 0) == 0 && (l.size() == name.size() || l[name.size()] == ' ' || l[name.size()] == '{' ||
                                              l.compare(name.size(), 4, "_sum") == 0 || l.compare(name.size(), 6, "_count") == 0);
    if (sample || l.rfind("# HELP " + name + " ", 0) == 0 || l.rfind("# TYPE " + name + " ", 0) == 0) out.push_back(l);
  }
  return out;
}

SecondSample counter(const char* name, int64_t v) {
  SecondSample s;
  s.counters[name] = v;
  return s;
}

SecondSample gauge(const char* name, double v) {
  SecondSample s;
  s.gauges[name] = v;
  return s;
}

SecondSample histogram(const std::string& name, std::vector<int64_t> values) {
  Histogram h;
  for (int64_t v : values) h.record(v);
  SecondSample s;
  s.histograms.emplace(name, h.compact());
  return s;
}

LiveSnapshot running() {
  LiveSnapshot live;
  live.phase = "steady";
  live.phase_index = 1;
  live.elapsed_us = 3500000;
  live.planned_us = 20000000;
  live.target_rates["tx"] = 500;
  return live;
}

// A counter, a gauge and a labeled latency histogram over seconds 0-3; second
// 3 is the newest, still being filled while the run goes on.
void fill(MetricsStore& store) {
  store.add(0, counter("produce.acked", 10));
  store.add(1, counter("produce.acked", 20));
  store.add(2, counter("produce.acked", 30));
  store.add(3, counter("produce.acked", 40));
  store.add(0, gauge("kafka.brokers", 3));
  store.add(2, gauge("kafka.brokers", 2));
  store.add(3, gauge("kafka.brokers", 1));
  // Below 128us the histogram is exact: quantiles come out as recorded.
  store.add(1, histogram("produce.latency{topic=\"bps.texas\"}", {100, 100, 100, 100, 100, 100, 100, 100, 100, 100}));
  store.add(2, histogram("produce.latency{topic=\"bps.texas\"}", {120}));
  store.add(3, histogram("produce.latency{topic=\"bps.texas\"}", {5000}));
}

std::string sample_exposition(const LiveSnapshot& live) {
  MetricsStore store;
  fill(store);
  return prometheus_exposition(store, live);
}

}  // namespace

TEST_CASE("counters are _total over the completed seconds, gauges the last completed second's value") {
  std::string text = sample_exposition(running());
  CHECK(family(text, "kapture_produce_acked_total") ==
        std::vector<std::string>{"# HELP kapture_produce_acked_total records acknowledged by the brokers",
                                 "# TYPE kapture_produce_acked_total counter", "kapture_produce_acked_total 60"});
  CHECK(family(text, "kapture_kafka_brokers") ==
        std::vector<std::string>{"# HELP kapture_kafka_brokers brokers the cluster's metadata lists as alive",
                                 "# TYPE kapture_kafka_brokers gauge", "kapture_kafka_brokers 2"});
  // Catalog counters nobody recorded yet are there at 0, the ledger's are not.
  CHECK(has_line(text, "kapture_produce_failed_total 0"));
  CHECK(has_line(text, "kapture_produce_bytes_total 0"));
  CHECK(text.find("kapture_ledger_") == std::string::npos);
}

TEST_CASE("a labeled latency histogram is a summary in seconds") {
  std::string text = sample_exposition(running());
  CHECK(family(text, "kapture_produce_latency_seconds") ==
        std::vector<std::string>{
            "# HELP kapture_produce_latency_seconds intended send time (from the arrival schedule) to delivery report: "
            "coordinated-omission free (quantiles over the last 10 completed seconds; _sum and _count over the run)",
            "# TYPE kapture_produce_latency_seconds summary",
            "kapture_produce_latency_seconds{topic=\"bps.texas\",quantile=\"0.5\"} 0.0001",
            "kapture_produce_latency_seconds{topic=\"bps.texas\",quantile=\"0.9\"} 0.0001",
            "kapture_produce_latency_seconds{topic=\"bps.texas\",quantile=\"0.99\"} 0.00012",
            "kapture_produce_latency_seconds{topic=\"bps.texas\",quantile=\"0.999\"} 0.00012",
            "kapture_produce_latency_seconds_sum{topic=\"bps.texas\"} 0.00112",
            "kapture_produce_latency_seconds_count{topic=\"bps.texas\"} 11",
        });
}

TEST_CASE("once the timeline is over, the newest second counts too") {
  LiveSnapshot over;
  over.elapsed_us = 4000000;  // phase_index -1 with time elapsed: the run ended
  std::string text = sample_exposition(over);
  CHECK(has_line(text, "kapture_produce_acked_total 100"));
  CHECK(has_line(text, "kapture_kafka_brokers 1"));
  CHECK(has_line(text, "kapture_produce_latency_seconds_count{topic=\"bps.texas\"} 12"));
  CHECK(has_line(text, "kapture_produce_latency_seconds{topic=\"bps.texas\",quantile=\"0.999\"} 0.005"));
  CHECK(text.find("kapture_phase_info") == std::string::npos);
  CHECK(has_line(text, "kapture_phase_index -1"));
}

TEST_CASE("quantiles cover the last 10 completed seconds; with no samples there they are NaN") {
  MetricsStore store;
  store.add(0, histogram("etl.latency", {50}));
  store.add(20, counter("produce.acked", 1));  // second 20 is the newest: 19 is the last completed
  std::string text = prometheus_exposition(store, running());
  CHECK(has_line(text, "kapture_etl_latency_seconds{quantile=\"0.5\"} NaN"));
  CHECK(has_line(text, "kapture_etl_latency_seconds_count 1"));
  CHECK(has_line(text, "kapture_etl_latency_seconds_sum 5e-05"));
}

TEST_CASE("the live series") {
  LiveSnapshot live = running();
  live.target_rates["etl"] = 0;
  live.expectations_failing = 2;
  std::string text = prometheus_exposition(MetricsStore{}, live);
  CHECK(family(text, "kapture_phase_info") ==
        std::vector<std::string>{"# HELP kapture_phase_info the phase running now (1; no series outside the timeline)",
                                 "# TYPE kapture_phase_info gauge", "kapture_phase_info{phase=\"steady\"} 1"});
  CHECK(has_line(text, "kapture_phase_index 1"));
  CHECK(has_line(text, "kapture_elapsed_seconds 3.5"));
  CHECK(has_line(text, "kapture_planned_seconds 20"));
  CHECK(has_line(text, "kapture_target_rate{workload=\"etl\"} 0"));
  CHECK(has_line(text, "kapture_target_rate{workload=\"tx\"} 500"));
  CHECK(has_line(text, "kapture_expectations_failing 2"));
  CHECK(has_line(text, "kapture_aborted 0"));
}

TEST_CASE("label values are escaped, unknown metrics exported with a generic help") {
  MetricsStore store;
  // In the store name the value is written as PromQL writes it: a"b\c<newline>d.
  store.add(0, counter("custom.things{path=\"a\\\"b\\\\c\\nd\",kind=\"x\"}", 7));
  store.add(0, gauge("engine.rss_bytes", 1048576));
  store.add(1, SecondSample{});  // the newest second, still being filled: second 0 is complete
  LiveSnapshot live;
  live.phase = "say \"hi\"\\";
  live.phase_index = 0;
  std::string text = prometheus_exposition(store, live);
  CHECK(family(text, "kapture_custom_things_total") ==
        std::vector<std::string>{"# HELP kapture_custom_things_total kapture-engine metric 'custom.things' (not in the engine's catalog)",
                                 "# TYPE kapture_custom_things_total counter",
                                 "kapture_custom_things_total{path=\"a\\\"b\\\\c\\nd\",kind=\"x\"} 7"});
  CHECK(has_line(text, "kapture_engine_rss_bytes 1048576"));
  CHECK(has_line(text, "kapture_phase_info{phase=\"say \\\"hi\\\"\\\\\"} 1"));
}

TEST_CASE("every family has one HELP and one TYPE, before its samples") {
  std::string text = sample_exposition(running());
  std::string current;
  std::vector<std::string> seen;
  for (const auto& l : lines_of(text)) {
    if (l.rfind("# HELP ", 0) == 0) {
      current = l.substr(7, l.find(' ', 7) - 7);
      CHECK(std::find(seen.begin(), seen.end(), current) == seen.end());
      seen.push_back(current);
    } else if (l.rfind("# TYPE ", 0) == 0) {
      CHECK(l.substr(7, l.find(' ', 7) - 7) == current);
    } else {
      CAPTURE(l);
      CHECK(l.rfind(current, 0) == 0);
    }
  }
  CHECK(seen.size() > 30);
}

TEST_CASE("store names with label sets") {
  auto plain = parse_series_name("produce.latency");
  REQUIRE(plain);
  CHECK(plain->metric == "produce.latency");
  CHECK(plain->labels.empty());
  auto two = parse_series_name("etl.lag{group=\"g\", topic = \"bps.texas\",}");
  REQUIRE(two);
  CHECK(two->metric == "etl.lag");
  CHECK(two->labels == std::vector<std::pair<std::string, std::string>>{{"group", "g"}, {"topic", "bps.texas"}});
  for (const char* bad : {"{a=\"b\"}", "x{a=\"b\"", "x{a=b}", "x{a=\"b}", "x{1a=\"b\"}", "x{a=\"b\" c=\"d\"}"}) {
    CAPTURE(bad);
    CHECK_FALSE(parse_series_name(bad));
  }
  // Exported all the same, with the braces' characters made safe.
  MetricsStore store;
  store.add(0, counter("odd{name", 1));
  LiveSnapshot over;
  over.elapsed_us = 1;
  CHECK(has_line(prometheus_exposition(store, over), "kapture_odd_name_total 1"));
}

TEST_CASE("--metrics-addr forms") {
  auto v4 = parse_listen_address("127.0.0.1:9464");
  REQUIRE(v4);
  CHECK(v4->host == "127.0.0.1");
  CHECK(v4->port == 9464);
  auto any = parse_listen_address(":0");
  REQUIRE(any);
  CHECK(any->host == "0.0.0.0");
  CHECK(any->port == 0);
  auto v6 = parse_listen_address("[::1]:80");
  REQUIRE(v6);
  CHECK(v6->host == "::1");
  for (const char* bad : {"localhost", "127.0.0.1:", "127.0.0.1:x", "127.0.0.1:70000", "::1:80", "h:-1"}) {
    CAPTURE(bad);
    auto r = parse_listen_address(bad);
    REQUIRE_FALSE(r);
    CHECK(r.error().message.find(bad) != std::string::npos);
  }
}
