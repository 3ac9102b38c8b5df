// The /metrics endpoint over real HTTP on loopback: what it serves, with
// which content type, what a bind failure says, and that it stops promptly.
#include <curl/curl.h>
#include <doctest/doctest.h>

#include <chrono>
#include <memory>
#include <string>

#include "metrics/MetricsEndpoint.h"

using namespace kapture;

namespace {

struct Reply {
  long status = 0;
  std::string content_type;
  std::string body;
};

size_t append(char* data, size_t size, size_t n, void* out) {
  static_cast<std::string*>(out)->append(data, size * n);
  return size * n;
}

Reply get(const std::string& url) {
  std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> c(curl_easy_init(), curl_easy_cleanup);
  REQUIRE(c);
  Reply r;
  curl_easy_setopt(c.get(), CURLOPT_URL, url.c_str());
  curl_easy_setopt(c.get(), CURLOPT_WRITEFUNCTION, append);
  curl_easy_setopt(c.get(), CURLOPT_WRITEDATA, &r.body);
  curl_easy_setopt(c.get(), CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c.get(), CURLOPT_TIMEOUT_MS, 5000L);
  REQUIRE(curl_easy_perform(c.get()) == CURLE_OK);
  curl_easy_getinfo(c.get(), CURLINFO_RESPONSE_CODE, &r.status);
  char* type = nullptr;
  curl_easy_getinfo(c.get(), CURLINFO_CONTENT_TYPE, &type);
  if (type) r.content_type = type;
  return r;
}

std::string base(const MetricsEndpoint& e) { return "http://127.0.0.1:" + std::to_string(e.port()); }

}  // namespace

TEST_SUITE("endpoint") {
  TEST_CASE("GET /metrics serves the exposition; GET / points there") {
    MetricsStore store;
    SecondSample s;
    s.counters["produce.acked"] = 5;
    store.add(0, s);
    LiveStatus live;
    LiveSnapshot snap;
    snap.phase = "warmup";
    snap.phase_index = 0;
    live.set(snap);
    auto e = MetricsEndpoint::start("127.0.0.1:0", store, live);
    REQUIRE(e);
    CHECK((*e)->port() > 0);
    CHECK((*e)->url() == base(**e) + "/metrics");

    Reply m = get((*e)->url());
    CHECK(m.status == 200);
    CHECK(m.content_type == "text/plain; version=0.0.4; charset=utf-8");
    CHECK(m.body.find("kapture_phase_info{phase=\"warmup\"} 1\n") != std::string::npos);
    CHECK(m.body.find("# TYPE kapture_produce_acked_total counter\n") != std::string::npos);

    // Each scrape sees the live status as it is then.
    snap.phase = "steady";
    snap.phase_index = 1;
    live.set(snap);
    CHECK(get((*e)->url()).body.find("kapture_phase_info{phase=\"steady\"} 1\n") != std::string::npos);

    Reply root = get(base(**e) + "/");
    CHECK(root.status == 200);
    CHECK(root.body.find("/metrics") != std::string::npos);
    CHECK(get(base(**e) + "/nothing").status == 404);
  }

  TEST_CASE("an address that cannot be bound is an error naming it") {
    MetricsStore store;
    LiveStatus live;
    auto first = MetricsEndpoint::start("127.0.0.1:0", store, live);
    REQUIRE(first);
    std::string taken = "127.0.0.1:" + std::to_string((*first)->port());
    auto second = MetricsEndpoint::start(taken, store, live);
    REQUIRE_FALSE(second);
    CAPTURE(second.error().message);
    CHECK(second.error().message.find("cannot listen on " + taken) != std::string::npos);
    CHECK(second.error().message.find("in use") != std::string::npos);

    // TEST-NET-1: an address this machine does not have.
    auto foreign = MetricsEndpoint::start("192.0.2.1:9464", store, live);
    REQUIRE_FALSE(foreign);
    CHECK(foreign.error().message.find("192.0.2.1:9464") != std::string::npos);

    auto malformed = MetricsEndpoint::start("localhost", store, live);
    REQUIRE_FALSE(malformed);
    CHECK(malformed.error().kind == ErrorKind::Usage);
  }

  TEST_CASE("the destructor stops it promptly, also right after the start and after a scrape") {
    MetricsStore store;
    LiveStatus live;
    for (int i = 0; i < 20; ++i) REQUIRE(MetricsEndpoint::start("127.0.0.1:0", store, live));
    auto e = MetricsEndpoint::start("127.0.0.1:0", store, live);
    REQUIRE(e);
    std::string url = (*e)->url();
    // A handle that keeps its connection open, as Prometheus does.
    std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> c(curl_easy_init(), curl_easy_cleanup);
    std::string body;
    curl_easy_setopt(c.get(), CURLOPT_URL, url.c_str());
    curl_easy_setopt(c.get(), CURLOPT_WRITEFUNCTION, append);
    curl_easy_setopt(c.get(), CURLOPT_WRITEDATA, &body);
    curl_easy_setopt(c.get(), CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c.get(), CURLOPT_TIMEOUT_MS, 5000L);
    REQUIRE(curl_easy_perform(c.get()) == CURLE_OK);
    CHECK(body.find("kapture_aborted 0") != std::string::npos);
    auto t0 = std::chrono::steady_clock::now();
    e->reset();
    CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(3));
    // Nobody listens any more.
    curl_easy_setopt(c.get(), CURLOPT_FRESH_CONNECT, 1L);
    CHECK(curl_easy_perform(c.get()) == CURLE_COULDNT_CONNECT);
  }
}
