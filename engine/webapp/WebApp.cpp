#include "webapp/WebApp.h"

#include <httplib.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <thread>
#include <variant>

#include <nlohmann/json.hpp>

#include "webapp/Routes.h"
#include "webapp/TopicStream.h"

namespace kapture {

namespace {

using namespace std::chrono_literals;

// An HTTP/2 event stream whose client is this far behind stops taking
// events from Kafka until it caught up (Kafka keeps them meanwhile).
constexpr size_t kMaxEventBacklog = 4u << 20;

void reply(httplib::Response& res, const Answer& answer) {
  res.status = answer.status;
  res.set_content(answer.body, answer.content_type);
}

Http2Head head_of(const Answer& answer) {
  return Http2Head{answer.status, {{"content-type", answer.content_type}, {"content-length", std::to_string(answer.body.size())}}};
}

std::unique_ptr<Http2Response> respond(const Answer& answer) { return static_response(answer.status, answer.content_type, answer.body); }

// httplib's thread pool, counting the connections it is given: httplib hands
// every accepted connection to its task queue, and has no other hook for them.
class CountingTaskQueue : public httplib::TaskQueue {
 public:
  CountingTaskQueue(size_t threads, std::atomic<int64_t>& connections) : pool_(threads), connections_(connections) {}
  void enqueue(std::function<void()> fn) override {
    ++connections_;
    pool_.enqueue(std::move(fn));
  }
  void shutdown() override { pool_.shutdown(); }

 private:
  httplib::ThreadPool pool_;
  std::atomic<int64_t>& connections_;
};

// /blocks over HTTP/2. The next block is due `period` after the previous one
// went out, as the HTTP/1.1 route sleeps between writes; meanwhile the
// connection serves its other streams. The bytes are written straight into
// the frames: a block is never whole in memory.
class BlocksResponse : public Http2Response {
 public:
  explicit BlocksResponse(const BlocksQuery& query) : query_(query) {}

  std::optional<Http2Head> head() override {
    return Http2Head{200, {{"content-type", "application/octet-stream"}, {"content-length", std::to_string(query_.size * query_.n)}}};
  }

  BodyRead read(std::span<uint8_t> buf, Http2Clock::time_point now) override {
    if (left_in_block_ == 0) {  // between two blocks
      if (sent_ == query_.n) return {0, true};
      if (now < due_) return {};
      left_in_block_ = static_cast<size_t>(query_.size);
    }
    size_t n = std::min(buf.size(), left_in_block_);
    std::memset(buf.data(), 'k', n);
    left_in_block_ -= n;
    if (left_in_block_ == 0) {
      ++sent_;
      due_ = now + std::chrono::milliseconds(query_.period_ms);
    }
    return {n, sent_ == query_.n};
  }

  Http2Clock::time_point due() const override { return due_; }

 private:
  BlocksQuery query_;
  int64_t sent_ = 0;          // whole blocks
  size_t left_in_block_ = 0;  // bytes of the block being sent
  Http2Clock::time_point due_{};
};

}  // namespace

WebApp::WebApp(const WebAppOptions& options)
    : options_(options), event_readers_(static_cast<size_t>(options.workers)), listener_(options.workers) {}

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
  // HTTP/2 first: a bad certificate is refused before anything listens.
  if (options.h2_listen) {
    WebApp* raw = app.get();
    app->h2_listener_ = std::make_unique<Http2Listener>(
        [raw](const Http2Request& request, Http2Waker wake) { return raw->http2_route(request, std::move(wake)); },
        static_cast<size_t>(options.workers));
    if (auto err = app->h2_listener_->start(*options.h2_listen, options.tls, "--h2-listen")) return *err;
  }
  app->http1_routes();
  if (auto err = app->listener_.start(address, "--listen")) return *err;
  return app;
}

WebApp::~WebApp() { stopping_ = true; }  // event streams end; the listeners then stop

std::string WebApp::stats_json() const {
  Http2Stats h2 = h2_listener_ ? h2_listener_->stats() : Http2Stats{};
  nlohmann::json stats{
      {"http1", {{"connections", http1_connections_.load()}, {"requests", http1_requests_.load()}}},
      {"http2", {{"connections", h2.connections}, {"streams", h2.streams}, {"max_concurrent_streams_seen", h2.max_concurrent_streams_seen}}}};
  return stats.dump() + "\n";
}

void WebApp::http1_routes() {
  auto& s = listener_.server();
  // The pool HttpListener sets up, counting connections for /stats.
  s.new_task_queue = [this] { return new CountingTaskQueue(static_cast<size_t>(options_.workers), http1_connections_); };
  s.set_pre_routing_handler([this](const httplib::Request&, httplib::Response&) {
    ++http1_requests_;
    return httplib::Server::HandlerResponse::Unhandled;
  });
  s.Post(kTopicRoute, [this](const httplib::Request& req, httplib::Response& res) {
    std::string topic = req.matches[1];
    reply(res, delivery_answer(topic, publisher_->publish(topic, req.get_param_value("key"), req.body)));
  });
  s.Get(kTopicRoute, [this](const httplib::Request& req, httplib::Response& res) {
    auto opened = TopicStream::open(options_.bootstrap, options_.kafka_properties, req.matches[1], req.get_param_value("from") == "beginning");
    if (!opened) return reply(res, stream_refused(opened.error()));
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
    auto parsed = parse_blocks(req.params);
    if (auto* bad = std::get_if<Answer>(&parsed)) return reply(res, *bad);
    BlocksQuery q = std::get<BlocksQuery>(parsed);
    auto block = std::make_shared<std::string>(static_cast<size_t>(q.size), 'k');
    if (q.n == 1) {
      res.set_content(*block, "application/octet-stream");  // one block: a plain response with a length
      return;
    }
    auto sent = std::make_shared<int64_t>(0);
    res.set_chunked_content_provider("application/octet-stream", [this, block, sent, q](size_t, httplib::DataSink& sink) {
      if (stopping_) return false;
      if (*sent > 0 && q.period_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(q.period_ms));
      if (!sink.write(block->data(), block->size())) return false;
      if (++*sent == q.n) sink.done();
      return true;
    });
  });
  s.Get("/stats", [this](const httplib::Request&, httplib::Response& res) { res.set_content(stats_json(), "application/json"); });
}

std::unique_ptr<Http2Response> WebApp::http2_route(const Http2Request& request, Http2Waker wake) {
  bool get = request.method == "GET" || request.method == "HEAD";
  QueryParams query = parse_query(request.query);
  if (request.path == "/stats" && get) return respond(Answer{200, "application/json", stats_json()});
  if (request.path == "/blocks" && get) {
    auto parsed = parse_blocks(query);
    if (auto* bad = std::get_if<Answer>(&parsed)) return respond(*bad);
    return std::make_unique<BlocksResponse>(std::get<BlocksQuery>(parsed));
  }
  if (auto topic = topic_in_path(request.path)) {
    if (request.method == "POST") {
      // Answered by the delivery report, on the publisher's thread; the
      // connection serves its other streams meanwhile.
      auto feed = std::make_shared<Http2Feed>(std::move(wake));
      publisher_->publish_async(*topic, query_value(query, "key"), request.body, [feed, topic = *topic](Result<Delivery> delivery) {
        Answer answer = delivery_answer(topic, delivery);
        feed->answer(head_of(answer), answer.body);
      });
      return feed_response(feed);
    }
    if (get) return http2_events(*topic, query_value(query, "from") == "beginning", std::move(wake));
  }
  return respond(json_error(404, "no route for " + request.method + " " + request.path));
}

// Opening a topic asks Kafka for metadata and reading it waits for messages:
// that is done on a reader thread of its own, which feeds the stream.
std::unique_ptr<Http2Response> WebApp::http2_events(const std::string& topic, bool from_beginning, Http2Waker wake) {
  auto feed = std::make_shared<Http2Feed>(std::move(wake));
  bool started = event_readers_.start([this, feed, topic, from_beginning] {
    auto opened = TopicStream::open(options_.bootstrap, options_.kafka_properties, topic, from_beginning);
    if (!opened) {
      Answer refused = stream_refused(opened.error());
      feed->answer(head_of(refused), refused.body);
      return;
    }
    feed->set_head(Http2Head{200, {{"content-type", "text/event-stream"}, {"cache-control", "no-cache"}}});
    while (!stopping_ && !feed->abandoned()) {
      if (feed->backlog() > kMaxEventBacklog) {
        std::this_thread::sleep_for(200ms);
        continue;
      }
      std::string events = (*opened)->poll(200);
      if (!events.empty()) feed->append(events);
    }
    feed->end();
  });
  if (!started) return respond(json_error(503, "too many event streams (" + std::to_string(options_.workers) + " at once)"));
  return feed_response(feed);
}

}  // namespace kapture
