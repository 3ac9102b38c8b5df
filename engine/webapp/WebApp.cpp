#include "webapp/WebApp.h"

#include <httplib.h>

#include <chrono>
#include <thread>

#include <nlohmann/json.hpp>

#include "webapp/TopicStream.h"

namespace kapture {

namespace {

void json_error(httplib::Response& res, int status, const std::string& message) {
  res.status = status;
  res.set_content(nlohmann::json{{"error", message}}.dump() + "\n", "application/json");
}

// A query parameter as a bounded integer; false (and a 400) when it is not one.
bool int_param(const httplib::Request& req, httplib::Response& res, const char* name, int64_t fallback, int64_t lo, int64_t hi,
               int64_t& out) {
  out = fallback;
  if (!req.has_param(name)) return true;
  std::string v = req.get_param_value(name);
  char* end = nullptr;
  long long x = std::strtoll(v.c_str(), &end, 10);
  if (v.empty() || *end || x < lo || x > hi) {
    json_error(res, 400, std::string(name) + " must be an integer from " + std::to_string(lo) + " to " + std::to_string(hi));
    return false;
  }
  out = x;
  return true;
}

}  // namespace

Result<std::unique_ptr<WebApp>> WebApp::start(const ListenAddress& address, const WebAppOptions& options) {
  std::unique_ptr<WebApp> app(new WebApp(options));
  auto props = options.kafka_properties;
  props["acks"] = options.acks;
  // A POST waits for its delivery report: with the brokers gone it should
  // answer 503 within half a minute, not librdkafka's default five.
  props.try_emplace("message.timeout.ms", "30000");
  auto publisher = KafkaPublisher::open(options.bootstrap, props);
  if (!publisher) return publisher.error();
  app->publisher_ = std::move(*publisher);
  app->routes();
  if (auto err = app->listener_.start(address, "--listen")) return *err;
  return app;
}

WebApp::~WebApp() { stopping_ = true; }  // event streams end; the listener then stops

void WebApp::routes() {
  auto& s = listener_.server();
  s.Post(R"(/api/topics/([A-Za-z0-9._-]+))", [this](const httplib::Request& req, httplib::Response& res) {
    std::string topic = req.matches[1];
    auto d = publisher_->publish(topic, req.get_param_value("key"), req.body);
    if (!d) return json_error(res, 503, d.error().message);
    res.set_content(nlohmann::json{{"topic", topic}, {"partition", d->partition}, {"offset", d->offset}}.dump() + "\n", "application/json");
  });
  s.Get(R"(/api/topics/([A-Za-z0-9._-]+))", [this](const httplib::Request& req, httplib::Response& res) {
    auto opened = TopicStream::open(options_.bootstrap, options_.kafka_properties, req.matches[1], req.get_param_value("from") == "beginning");
    if (!opened) return json_error(res, opened.error().kind == ErrorKind::Usage ? 404 : 503, opened.error().message);
    std::shared_ptr<TopicStream> stream = std::move(*opened);
    res.set_header("Cache-Control", "no-cache");
    // Called again and again while it returns true; a reader that went away
    // makes the write fail (the keep-alive comments make sure one comes).
    res.set_chunked_content_provider("text/event-stream", [this, stream](size_t, httplib::DataSink& sink) {
      if (stopping_) return false;
      std::string events = stream->poll(200);
      return events.empty() || sink.write(events.data(), events.size());
    });
  });
  s.Get("/blocks", [this](const httplib::Request& req, httplib::Response& res) {
    int64_t size = 0, n = 0, period_ms = 0;
    if (!int_param(req, res, "size", 1024, 0, 64 << 20, size) || !int_param(req, res, "n", 1, 1, 1000000, n) ||
        !int_param(req, res, "periodMS", 0, 0, 3600000, period_ms))
      return;
    auto block = std::make_shared<std::string>(static_cast<size_t>(size), 'k');
    if (n == 1) {
      res.set_content(*block, "application/octet-stream");  // one block: a plain response with a length
      return;
    }
    auto sent = std::make_shared<int64_t>(0);
    res.set_chunked_content_provider("application/octet-stream", [this, block, sent, n, period_ms](size_t, httplib::DataSink& sink) {
      if (stopping_) return false;
      if (*sent > 0 && period_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(period_ms));
      if (!sink.write(block->data(), block->size())) return false;
      if (++*sent == n) sink.done();
      return true;
    });
  });
}

}  // namespace kapture
