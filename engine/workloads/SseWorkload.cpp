#include "workloads/SseWorkload.h"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <unordered_map>
#include <unordered_set>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "drivers/http/EventStreamReader.h"
#include "metrics/Histogram.h"
#include "metrics/SecondRecorder.h"

namespace kapture {

namespace {

class SseRecorder : public SecondRecorder {
 public:
  using SecondRecorder::SecondRecorder;
  Histogram delay;
  int64_t events = 0, messages = 0, replayed = 0, unparsed = 0, old = 0, reconnects = 0;

 protected:
  void fill(SecondSample& s) const override {
    s.counters = {{"sse.events", events},     {"sse.messages", messages}, {"sse.replayed", replayed},
                  {"sse.unparsed", unparsed}, {"sse.old_events", old},    {"sse.reconnects", reconnects}};
    put(s, "sse.delivery_delay", delay);
  }
  void clear() override {
    delay.reset();
    events = messages = replayed = unparsed = old = reconnects = 0;
  }
};

// The message id and send time (µs) an event's data carries, if it does.
std::optional<std::pair<int64_t, int64_t>> id_and_sent(const std::string& data, const SseWorkloadSpec& spec) {
  auto j = nlohmann::json::parse(data, nullptr, false);
  if (!j.is_object()) return std::nullopt;
  auto number = [](const nlohmann::json& v) -> std::optional<int64_t> {
    if (v.is_number_integer()) return v.get<int64_t>();
    if (v.is_number()) return static_cast<int64_t>(v.get<double>());
    if (v.is_string()) {
      const std::string& s = v.get_ref<const std::string&>();
      char* end = nullptr;
      long long x = std::strtoll(s.c_str(), &end, 10);
      if (!s.empty() && !*end) return x;
    }
    return std::nullopt;
  };
  auto id = j.contains(spec.id_field) ? number(j[spec.id_field]) : std::nullopt;
  auto sent = j.contains(spec.sent_field) ? number(j[spec.sent_field]) : std::nullopt;
  if (!id || !sent) return std::nullopt;
  return std::make_pair(*id, *sent * spec.sent_unit_us);
}

}  // namespace

struct SseWorkload::Reader {
  int index = 0;
  std::unique_ptr<SseRecorder> recorder;
  std::thread thread;
  // Shared with stop() (the drain checks what arrived) and start().
  std::mutex mu;
  std::condition_variable cv;
  bool connected = false;
  std::optional<Error> last_error;
  std::unordered_set<std::string> positions;         // event ids seen ("partition:offset" from the webapp)
  std::unordered_map<int64_t, int> copies;           // message id -> times seen at distinct positions
};

SseWorkload::SseWorkload(const SseWorkloadSpec& spec, SseContext ctx) : spec_(spec), ctx_(ctx) {}

SseWorkload::~SseWorkload() {
  stopping_ = true;
  for (auto& r : readers_)
    if (r->thread.joinable()) r->thread.join();
}

Status SseWorkload::start() {
  for (int i = 0; i < spec_.connections; ++i) {
    auto r = std::make_unique<Reader>();
    r->index = i;
    r->recorder = std::make_unique<SseRecorder>(*ctx_.metrics);
    readers_.push_back(std::move(r));
  }
  for (auto& r : readers_) {
    Reader* rp = r.get();
    r->thread = std::thread([this, rp] { run(*rp); });
  }
  // Connected before the first message is posted, or a clear error now.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  for (auto& r : readers_) {
    std::unique_lock lock(r->mu);
    r->cv.wait_until(lock, deadline, [&] { return r->connected; });
    if (!r->connected) {
      Error e = r->last_error ? *r->last_error : unreachable_error("GET " + spec_.url + ": no answer within 10 s");
      e.message = "sse workload " + spec_.name + ": " + e.message;
      lock.unlock();
      stopping_ = true;
      return e;
    }
  }
  return std::nullopt;
}

void SseWorkload::run(Reader& r) {
  const RunClock& clock = *ctx_.clock;
  SseRecorder& rec = *r.recorder;
  EventStreamReader reader({spec_.url, spec_.insecure, 5000});
  std::string last_id;
  bool warned = false;
  auto on_event = [&](const ServerSentEvent& ev) {
    int64_t now = clock.now_us();
    rec.roll(now);
    ++rec.events;
    if (!ev.id.empty()) last_id = ev.id;
    {
      std::lock_guard lock(r.mu);
      // A reconnect may replay what this reader saw: same position, not a new copy.
      if (!ev.id.empty() && !r.positions.insert(ev.id).second) {
        ++rec.replayed;
        return;
      }
    }
    auto parsed = id_and_sent(ev.data, spec_);
    if (!parsed) {
      ++rec.unparsed;
      if (!warned)
        spdlog::warn("workload {}: an event without a numeric '{}' and '{}' in JSON data: {}", spec_.name, spec_.id_field, spec_.sent_field,
                     ev.data.substr(0, 200));
      warned = true;
      return;
    }
    auto [id, sent_wall_us] = *parsed;
    if (sent_wall_us < clock.wall_us(0)) {
      ++rec.old;  // from before this run: no delay to measure, nothing to verify
      return;
    }
    {
      std::lock_guard lock(r.mu);
      ++r.copies[id];
    }
    ++rec.messages;
    rec.delay.record(std::max<int64_t>(0, clock.wall_us(now) - sent_wall_us));
  };
  auto on_connected = [&] {
    std::lock_guard lock(r.mu);
    r.connected = true;
    r.cv.notify_all();
  };
  auto tick = [&] { rec.roll(clock.now_us()); };
  int backoff_ms = 100;
  bool first = true;
  while (!stopping_) {
    if (!first) ++rec.reconnects;
    first = false;
    Status s = reader.read(stopping_, on_event, on_connected, tick, last_id);
    if (!s || stopping_) break;
    {
      std::lock_guard lock(r.mu);
      r.last_error = *s;
      r.cv.notify_all();
    }
    spdlog::warn("workload {} reader {}: {}; reconnecting", spec_.name, r.index, s->describe());
    // Back off, waking for stop.
    for (int waited = 0; waited < backoff_ms && !stopping_; waited += 20) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    rec.roll(clock.now_us());
    backoff_ms = std::min(backoff_ms * 2, 2000);
  }
  rec.roll(clock.now_us());
  rec.flush();
}

std::vector<int64_t> SseWorkload::missing(const std::vector<int64_t>& acked) const {
  std::vector<int64_t> out;
  for (const auto& r : readers_) {
    std::lock_guard lock(r->mu);
    for (int64_t id : acked)
      if (!r->copies.count(id)) out.push_back(id);
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

void SseWorkload::stop(int drain_ms) {
  if (stopped_) return;
  stopped_ = true;
  std::vector<int64_t> acked;
  if (ctx_.verifies) acked = ctx_.verifies->acked_ids();
  // Messages posted just before the end are still on their way: wait for
  // them (or the drain), checking ten times a second.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(drain_ms);
  while (ctx_.verifies && !missing(acked).empty() && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  stopping_ = true;
  for (auto& r : readers_)
    if (r->thread.joinable()) r->thread.join();
  if (ctx_.verifies) verify(acked);
}

void SseWorkload::verify(const std::vector<int64_t>& acked) {
  std::vector<int64_t> lost = missing(acked);
  std::unordered_set<int64_t> acked_set(acked.begin(), acked.end());
  std::unordered_set<int64_t> duplicated, unacknowledged;
  for (const auto& r : readers_) {
    for (const auto& [id, n] : r->copies) {
      if (n > 1) duplicated.insert(id);
      if (!acked_set.count(id)) unacknowledged.insert(id);
    }
  }
  int64_t second = ctx_.clock->now_us() / 1000000;
  SecondSample s;
  s.counters = {{"sse.verified", static_cast<int64_t>(acked.size())},
                {"sse.lost", static_cast<int64_t>(lost.size())},
                {"sse.duplicates", static_cast<int64_t>(duplicated.size())},
                {"sse.unacknowledged", static_cast<int64_t>(unacknowledged.size())}};
  ctx_.metrics->add(second, s);
  if (!lost.empty()) {
    std::string some;
    for (size_t i = 0; i < lost.size() && i < 10; ++i) some += (i ? ", " : "") + std::to_string(lost[i]);
    spdlog::warn("workload {}: {} of {} acknowledged messages never arrived (ids {}{})", spec_.name, lost.size(), acked.size(), some,
                 lost.size() > 10 ? ", ..." : "");
  }
}

}  // namespace kapture
