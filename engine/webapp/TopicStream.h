#pragma once
// One server-sent-events reader of a topic: its own consumer, assigned every
// partition (no group, so readers do not share messages), from the end (new
// messages only) or the beginning.
#include <map>
#include <memory>
#include <string>

#include "common/Error.h"
#include "drivers/kafka/KafkaHandles.h"

namespace kapture {

class TopicStream {
 public:
  static Result<std::unique_ptr<TopicStream>> open(const std::string& bootstrap, const std::map<std::string, std::string>& props,
                                                   const std::string& topic, bool from_beginning);
  ~TopicStream();
  TopicStream(const TopicStream&) = delete;
  TopicStream& operator=(const TopicStream&) = delete;

  // The events that arrived within `wait_ms`, as text/event-stream (`id:
  // partition:offset`, one `data:` line per line of the value), or a comment
  // every few seconds so that a reader that went away is noticed.
  std::string poll(int wait_ms);

 private:
  TopicStream() = default;
  KafkaHandle rk_;
  int64_t quiet_ms_ = 0;
};

}  // namespace kapture
