#pragma once
// The webapp's routes apart from the HTTP version that carries them: the
// checks of their parameters and the answers they give, shared by the
// HTTP/1.1 (cpp-httplib) and the HTTP/2 (nghttp2) listeners.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "common/Error.h"
#include "webapp/KafkaPublisher.h"

namespace kapture {

// Name to value, as httplib::Params (a multimap: a name may repeat).
using QueryParams = std::multimap<std::string, std::string>;

// A query string (after '?') split and percent-decoded, '+' as a space.
QueryParams parse_query(std::string_view query);
// The first value of `name`, or "".
std::string query_value(const QueryParams& query, const std::string& name);

// A whole answer: what every route gives, apart from the streamed bodies.
struct Answer {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
};

Answer json_error(int status, const std::string& message);

// POST /api/topics/{topic}: where the brokers put the message, or 503 with
// what Kafka said.
Answer delivery_answer(const std::string& topic, const Result<Delivery>& delivery);

// GET /api/topics/{topic} that could not start reading: 404 when there is no
// such topic, 503 when Kafka could not be asked.
Answer stream_refused(const Error& error);

// The pattern of /api/topics/{topic} (the topic is its group 1).
inline constexpr const char* kTopicRoute = R"(/api/topics/([A-Za-z0-9._-]+))";
// The topic of a path that matches kTopicRoute.
std::optional<std::string> topic_in_path(const std::string& path);

// GET /blocks?size=&n=&periodMS=: n blocks of `size` bytes, one every period.
struct BlocksQuery {
  int64_t size = 1024;
  int64_t n = 1;
  int64_t period_ms = 0;
};
// The query, or the 400 that names the parameter out of range.
std::variant<BlocksQuery, Answer> parse_blocks(const QueryParams& query);

}  // namespace kapture
