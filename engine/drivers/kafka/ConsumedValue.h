#pragma once
// The value of a consumed record, for reading before rd_kafka_message_destroy.
//
// librdkafka keeps a fetch response's records in one buffer and frees it on
// whichever thread drops the last reference: often a broker thread, after the
// consumer has already read and destroyed every record. The order is kept by
// librdkafka's atomic reference counts, which ThreadSanitizer cannot see in the
// uninstrumented Debian library, so it reports our earlier reads against the
// broker thread's free (seen in CI: EtlWorkload's parse and copy of a value
// against free() on rdk:broker1). In the TSan build the value is therefore
// copied with this thread's memory accesses ignored, and read from the copy;
// every other build reads librdkafka's bytes in place, as before. A
// suppression could not say "free() called from librdkafka" alone: it would
// also hide any race with any free() in any stack.
#include <librdkafka/rdkafka.h>

#include <string>
#include <string_view>

#ifdef __SANITIZE_THREAD__
extern "C" void AnnotateIgnoreReadsBegin(const char* file, int line);
extern "C" void AnnotateIgnoreReadsEnd(const char* file, int line);
#endif

namespace kapture {

// In the TSan build, what this thread does to memory while the scope lives is
// not checked: for calls into librdkafka that free or read its own buffers,
// which its broker threads touched under orderings TSan cannot see (seen in
// CI: free() inside rd_kafka_consume_batch_queue or rd_kafka_message_destroy
// on the ETL's thread against a memcpy on rdk:broker2, both in librdkafka).
// Synchronisation (mutexes, joins) is still tracked, and our own accesses
// outside the scope are checked as before. A no-op in every other build.
class LibrdkafkaInternals {
 public:
#ifdef __SANITIZE_THREAD__
  LibrdkafkaInternals() { AnnotateIgnoreReadsBegin(__FILE__, __LINE__); }
  ~LibrdkafkaInternals() { AnnotateIgnoreReadsEnd(__FILE__, __LINE__); }
#else
  LibrdkafkaInternals() {}  // user-provided, so a scope variable is not "unused"
  ~LibrdkafkaInternals() {}
#endif
  LibrdkafkaInternals(const LibrdkafkaInternals&) = delete;
  LibrdkafkaInternals& operator=(const LibrdkafkaInternals&) = delete;
};

// Every consumed record is destroyed through this, so the TSan build ignores
// librdkafka's frees in all consumer loops, not just the ETL's.
inline void destroy_consumed(rd_kafka_message_t* m) {
  LibrdkafkaInternals librdkafka;
  rd_kafka_message_destroy(m);
}

// `copy` backs the view in the TSan build; keep it alive while the view is used.
inline std::string_view consumed_value(const rd_kafka_message_t* m, [[maybe_unused]] std::string& copy) {
  std::string_view value(static_cast<const char*>(m->payload), m->payload ? m->len : 0);
#ifdef __SANITIZE_THREAD__
  LibrdkafkaInternals ignored;
  copy.assign(value);
  return copy;
#else
  return value;
#endif
}

}  // namespace kapture
