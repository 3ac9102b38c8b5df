#include "webapp/Http2Response.h"

#include <algorithm>
#include <cstring>

namespace kapture {

namespace {

class StaticResponse : public Http2Response {
 public:
  StaticResponse(int status, std::string content_type, std::string body) : body_(std::move(body)) {
    head_.status = status;
    head_.headers = {{"content-type", std::move(content_type)}, {"content-length", std::to_string(body_.size())}};
  }
  std::optional<Http2Head> head() override { return head_; }
  BodyRead read(std::span<uint8_t> buf, Http2Clock::time_point) override {
    size_t n = std::min(buf.size(), body_.size() - sent_);
    std::memcpy(buf.data(), body_.data() + sent_, n);
    sent_ += n;
    return {n, sent_ == body_.size()};
  }

 private:
  Http2Head head_;
  std::string body_;
  size_t sent_ = 0;
};

}  // namespace

std::unique_ptr<Http2Response> static_response(int status, std::string content_type, std::string body) {
  return std::make_unique<StaticResponse>(status, std::move(content_type), std::move(body));
}

void Http2Feed::set_head(Http2Head head) {
  {
    std::lock_guard lock(mutex_);
    head_ = std::move(head);
  }
  wake_();
}

void Http2Feed::append(std::string_view data) {
  {
    std::lock_guard lock(mutex_);
    body_ += data;
  }
  wake_();
}

void Http2Feed::end() {
  {
    std::lock_guard lock(mutex_);
    ended_ = true;
  }
  wake_();
}

void Http2Feed::answer(Http2Head head, std::string_view body) {
  {
    std::lock_guard lock(mutex_);
    head_ = std::move(head);
    body_ += body;
    ended_ = true;
  }
  wake_();
}

size_t Http2Feed::backlog() const {
  std::lock_guard lock(mutex_);
  return body_.size() - sent_;
}

class FeedResponse : public Http2Response {
 public:
  explicit FeedResponse(std::shared_ptr<Http2Feed> feed) : feed_(std::move(feed)) {}
  ~FeedResponse() override { feed_->abandoned_ = true; }

  std::optional<Http2Head> head() override {
    std::lock_guard lock(feed_->mutex_);
    return feed_->head_;
  }

  BodyRead read(std::span<uint8_t> buf, Http2Clock::time_point) override {
    Http2Feed& f = *feed_;
    std::lock_guard lock(f.mutex_);
    size_t n = std::min(buf.size(), f.body_.size() - f.sent_);
    std::memcpy(buf.data(), f.body_.data() + f.sent_, n);
    f.sent_ += n;
    if (f.sent_ == f.body_.size()) {  // all sent: the memory can go
      f.body_.clear();
      f.sent_ = 0;
    }
    return {n, f.ended_ && f.body_.empty()};
  }

 private:
  std::shared_ptr<Http2Feed> feed_;
};

std::unique_ptr<Http2Response> feed_response(std::shared_ptr<Http2Feed> feed) {
  return std::make_unique<FeedResponse>(std::move(feed));
}

}  // namespace kapture
