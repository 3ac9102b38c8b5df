#pragma once
// What one HTTP/2 stream answers. A connection's thread carries all of its
// streams, so a response never blocks it: one that waits for something (a
// Kafka acknowledgement, the next event of a topic, the next paced block)
// says "not yet", and the connection asks again after it was woken or at the
// time the response named.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace kapture {

using Http2Clock = std::chrono::steady_clock;

// Wakes the connection that carries a stream. Callable from any thread, and
// still harmless after the connection is gone.
using Http2Waker = std::function<void()>;

struct Http2Request {
  std::string method;
  std::string path;   // without the query
  std::string query;  // what followed '?', still percent-encoded
  std::string body;
};

struct Http2Head {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;  // names in lowercase, as HTTP/2 wants them
};

// What read() produced: some bytes of the body, or none yet.
struct BodyRead {
  size_t size = 0;   // bytes written into the buffer
  bool end = false;  // the body is complete with these bytes
};

class Http2Response {
 public:
  virtual ~Http2Response() = default;
  // The status and headers once they are known; asked again after every
  // wake until then. Asked for once they were given.
  virtual std::optional<Http2Head> head() = 0;
  // Up to buf.size() bytes of the body that are ready now. Nothing (and not
  // the end): asked again after a wake, or at due().
  virtual BodyRead read(std::span<uint8_t> buf, Http2Clock::time_point now) = 0;
  // When read() will have bytes without a wake (a paced body).
  virtual Http2Clock::time_point due() const { return Http2Clock::time_point::max(); }
};

// An answer complete at once, with its Content-Length.
std::unique_ptr<Http2Response> static_response(int status, std::string content_type, std::string body);

// A response that another thread fills: the delivery report of a Kafka
// message, the reader of an event stream. Every change wakes the connection.
class Http2Feed {
 public:
  explicit Http2Feed(Http2Waker wake) : wake_(std::move(wake)) {}
  void set_head(Http2Head head);
  void append(std::string_view data);
  void end();
  // The three at once, with one wake.
  void answer(Http2Head head, std::string_view body);

  // Body bytes given and not yet sent: a slow reader's backlog.
  size_t backlog() const;
  // The stream is gone (the client reset it, or the connection closed):
  // nobody will read what is given any more.
  bool abandoned() const { return abandoned_; }

 private:
  friend class FeedResponse;
  mutable std::mutex mutex_;
  std::optional<Http2Head> head_;
  std::string body_;
  size_t sent_ = 0;  // of body_
  bool ended_ = false;
  std::atomic<bool> abandoned_{false};
  Http2Waker wake_;
};

// The response that reads `feed`; destroying it abandons the feed.
std::unique_ptr<Http2Response> feed_response(std::shared_ptr<Http2Feed> feed);

}  // namespace kapture
