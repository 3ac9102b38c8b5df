#pragma once
// An http workload's `body_template`: text with ${...} placeholders filled in
// per request, for bodies that must differ (a chat message with its own id
// and send time) without writing a Lua request() function.
//   ${seq}            the request's sequence number, unique in the workload
//   ${now_ms} ${now_us}  the intended send time, Unix epoch (what a reader
//                     subtracts from its arrival time: the delivery delay)
//   ${worker}         the worker thread's index
//   ${rand:N}         a random integer from 0 to N-1 (seeded: runs repeat)
//   ${text:N}         N random lowercase letters
// "$$" is a literal "$"; any other "$" is text.
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "common/Error.h"

namespace kapture {

struct BodyTemplate {
  enum class Kind { Text, Seq, NowMs, NowUs, Worker, Rand, Letters };
  struct Part {
    Kind kind = Kind::Text;
    std::string text;  // Kind::Text
    uint64_t n = 0;    // Rand, Letters
  };
  std::vector<Part> parts;
  bool empty() const { return parts.empty(); }
};

// The error says what is wrong and at which character (1-based) of the text.
Result<BodyTemplate> parse_body_template(const std::string& text);

struct BodyTemplateValues {
  int64_t seq = 0;
  int64_t now_us = 0;  // Unix epoch
  int worker = 0;
};

// Appends the filled-in template to `out`.
void render_body_template(const BodyTemplate& t, const BodyTemplateValues& v, std::mt19937_64& rng, std::string& out);

}  // namespace kapture
