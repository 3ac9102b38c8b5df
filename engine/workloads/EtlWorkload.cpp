#include "workloads/EtlWorkload.h"

#include <charconv>
#include <chrono>
#include <condition_variable>
#include <map>
#include <regex>

#include <spdlog/spdlog.h>

#include "drivers/JsonFields.h"
#include "drivers/kafka/ConsumedValue.h"
#include "drivers/kafka/KafkaHandles.h"
#include "drivers/postgres/PostgresSink.h"
#include "drivers/redis/RedisSink.h"
#include "lua/LuaScript.h"
#include "lua/LuaTransform.h"
#include "workloads/EtlRecorder.h"
#include "workloads/JsonTopLevelScan.h"

namespace kapture {
namespace {

int64_t wall_ms_now() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

struct RebalanceState {
  std::atomic<int64_t> rebalances{0};
  std::atomic<bool> assigned{false};
  // Offsets are committed asynchronously (after the writes); their results
  // arrive through the consumer's own poll.
  const RunClock* clock = nullptr;
  std::atomic<int64_t>* last_committed_us = nullptr;  // the workload's, for throughput()
  std::atomic<int64_t> commits{0};
};

void on_commit(rd_kafka_t*, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* offsets, void* opaque) {
  auto* state = static_cast<RebalanceState*>(opaque);
  for (int i = 0; !err && offsets && i < offsets->cnt; ++i) err = offsets->elems[i].err;
  if (err) {
    spdlog::debug("etl commit: {} (the records will be redelivered; sinks are idempotent)", rd_kafka_err2str(err));
    return;
  }
  state->commits.fetch_add(1);
  int64_t now = state->clock->now_us(), cur = state->last_committed_us->load();
  while (now > cur && !state->last_committed_us->compare_exchange_weak(cur, now)) {
  }
}

struct QueueDeleter {
  void operator()(rd_kafka_queue_t* q) const {
    if (q) rd_kafka_queue_destroy(q);
  }
};
using QueueHandle = std::unique_ptr<rd_kafka_queue_t, QueueDeleter>;

// A scanned integer (created_ms); a fraction is truncated as the full parse's get<int64_t>() does.
int64_t scanned_int(std::string_view text) {
  int64_t v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec == std::errc() && end == text.data() + text.size()) return v;
  nlohmann::json n = scanned_number(text);
  return n.get<int64_t>();
}

void on_rebalance(rd_kafka_t* rk, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* partitions, void* opaque) {
  auto* state = static_cast<RebalanceState*>(opaque);
  state->rebalances.fetch_add(1);
  if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
    rd_kafka_assign(rk, partitions);
    state->assigned = true;
  } else {
    rd_kafka_assign(rk, nullptr);
  }
}

// Consumer-side connection errors are what chaos causes; they are counted in
// the metrics, so they go to the debug log, not the console.
void on_log(const rd_kafka_t*, int level, const char* fac, const char* buf) {
  if (level <= 2) spdlog::warn("kafka: {}: {}", fac, buf);
  else spdlog::debug("kafka: {}: {}", fac, buf);
}

}  // namespace

std::string topic_subscription(const std::string& name) {
  if (name.find('*') == std::string::npos) return name;
  std::string re = "^";
  for (char c : name) {
    if (c == '*') re += ".*";
    else if (std::string(".+?()[]{}|^$\\").find(c) != std::string::npos) {
      re += '\\';
      re += c;
    } else {
      re += c;
    }
  }
  re += '$';
  return re;
}

struct EtlWorkload::Consumer {
  int index = 0;
  std::unique_ptr<EtlRecorder> recorder;
  std::unique_ptr<LuaTransform> transform;
  std::unique_ptr<RedisSink> redis;
  std::unique_ptr<PostgresSink> postgres;
  RebalanceState group;
  // consumer-crash: `crash` makes the thread drop its Kafka handle without
  // closing it; `crashed` is set while it waits to be started again.
  std::atomic<bool> crash{false};
  std::atomic<bool> crashed{false};
  std::mutex mu;
  std::condition_variable cv;
  std::thread thread;
};

EtlWorkload::EtlWorkload(const EtlWorkloadSpec& spec, EtlContext ctx) : spec_(spec), ctx_(std::move(ctx)) {}

EtlWorkload::~EtlWorkload() { stop(0); }

void EtlWorkload::fail(const Error& e) {
  std::lock_guard lock(mu_);
  if (!failure_) failure_ = e;
}

std::optional<Error> EtlWorkload::failure() const {
  std::lock_guard lock(mu_);
  return failure_;
}

void EtlWorkload::dead_letter(const std::string& topic, int partition, int64_t offset, const std::string& reason) {
  std::lock_guard lock(mu_);
  if (dead_letters_.size() < 100) dead_letters_.push_back({topic, partition, offset, reason});
}

std::map<std::string, int64_t> EtlWorkload::lag_by_partition() const {
  std::lock_guard lock(mu_);
  return lag_by_partition_;
}

nlohmann::json EtlWorkload::throughput() const {
  int64_t first = first_consumed_us_.load(), last = last_committed_us_.load(), rows = rows_written_.load();
  nlohmann::json j = {{"written", rows}};
  if (first < 0 || last < first) return j;
  j["first_consumed_s"] = static_cast<double>(first) / 1e6;
  j["last_committed_s"] = static_cast<double>(last) / 1e6;
  if (last > first) j["rows_per_s"] = static_cast<double>(rows) * 1e6 / static_cast<double>(last - first);
  return j;
}

std::vector<DeadLetter> EtlWorkload::dead_letters() const {
  std::lock_guard lock(mu_);
  return dead_letters_;
}

int64_t EtlWorkload::stuck_in_lua_ms() const {
  int64_t now = coarse_steady_ms();
  int64_t worst = 0;
  for (const auto& c : consumers_) {
    if (!c->transform) continue;
    int64_t since = c->transform->busy_since_ms().load(std::memory_order_relaxed);
    if (since > 0) worst = std::max(worst, now - since);
  }
  return worst;
}

Status EtlWorkload::start() {
  for (int i = 0; i < spec_.consumers; ++i) {
    auto c = std::make_unique<Consumer>();
    c->index = i;
    c->recorder = std::make_unique<EtlRecorder>(*ctx_.metrics);
    if (spec_.transform) {
      auto t = LuaTransform::create(*spec_.transform, spec_.allow, ctx_.seed, i);
      if (!t) return t.error();
      c->transform = std::move(*t);
    }
    if (spec_.redis.enabled) {
      auto opts = parse_redis_url(ctx_.redis_url);
      if (!opts) return opts.error();
      opts->set = spec_.redis.set;
      opts->key_template = spec_.redis.key.source;
      opts->ttl_s = spec_.redis.ttl_us / 1000000;
      opts->sales_by_state = spec_.redis.sales_by_state;
      opts->store_counters = spec_.redis.store_counters;
      c->redis = std::make_unique<RedisSink>(*opts);
    }
    if (spec_.postgres) c->postgres = std::make_unique<PostgresSink>(PostgresSinkOptions{ctx_.postgres_url, ctx_.run_id, 5000});
    // The sinks must be reachable when the run starts; later outages are
    // chaos and are retried.
    for (Sink* s : {static_cast<Sink*>(c->redis.get()), static_cast<Sink*>(c->postgres.get())}) {
      if (!s) continue;
      if (auto err = s->connect()) return err;
      if (i == 0)
        if (auto err = s->prepare()) return err;
    }
    consumers_.push_back(std::move(c));
  }
  for (auto& c : consumers_) {
    Consumer* cp = c.get();
    c->thread = std::thread([this, cp] { run(*cp); });
  }
  lag_thread_ = std::thread([this] { watch_lag(); });
  // Ready when every consumer has been given its partitions: otherwise the
  // first seconds of load would measure the group joining, not the pipeline.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  for (;;) {
    bool all = true;
    for (const auto& c : consumers_) all = all && c->group.assigned.load();
    if (all) break;
    if (auto f = failure()) return f;
    if (std::chrono::steady_clock::now() > deadline) {
      spdlog::warn("etl {}: not every consumer had partitions assigned after 30s; starting anyway", spec_.name);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return std::nullopt;
}

void EtlWorkload::stop(int drain_ms) {
  drain_ms_ = drain_ms;
  stopping_ = true;
  for (auto& c : consumers_) {
    std::lock_guard lock(c->mu);
    c->cv.notify_all();
  }
  for (auto& c : consumers_)
    if (c->thread.joinable()) c->thread.join();
  if (lag_thread_.joinable()) lag_thread_.join();
}

Result<ChaosInjection> EtlWorkload::crash_consumer() {
  if (consumers_.empty()) return runtime_error("etl workload '" + spec_.name + "' has no consumers");
  Consumer* c = consumers_[static_cast<size_t>(next_crash_++) % consumers_.size()].get();
  c->crash = true;
  ChaosInjection inj;
  inj.description = "etl " + spec_.name + " consumer " + std::to_string(c->index) + " crashed (no close, no commit)";
  inj.details = {{"workload", spec_.name}, {"consumer", c->index}};
  inj.undo = [c]() -> Status {
    std::lock_guard lock(c->mu);
    c->crash = false;
    c->cv.notify_all();
    return std::nullopt;
  };
  return inj;
}

void EtlWorkload::run(Consumer& c) {
  const RunClock& clock = *ctx_.clock;
  EtlRecorder& rec = *c.recorder;
  std::vector<Sink*> sinks;
  if (c.redis) sinks.push_back(c.redis.get());
  if (c.postgres) sinks.push_back(c.postgres.get());
  std::vector<bool> connected(sinks.size(), true);

  auto make_consumer = [&]() -> KafkaHandle {
    KafkaConf conf(rd_kafka_conf_new());
    std::map<std::string, std::string> props = ctx_.kafka_properties;
    props["bootstrap.servers"] = ctx_.bootstrap;
    props["group.id"] = spec_.group;
    props["enable.auto.commit"] = "false";
    props["enable.auto.offset.store"] = "false";
    props["auto.offset.reset"] = "earliest";
    props["log_level"] = "3";
    props.emplace("session.timeout.ms", "6000");
    props.emplace("heartbeat.interval.ms", "500");
    props.emplace("topic.metadata.refresh.interval.ms", "5000");
    // Latency over request count: the default 500 ms fetch wait shows up
    // directly as end-to-end latency at moderate rates.
    props.emplace("fetch.wait.max.ms", "20");
    for (const auto& [k, v] : spec_.properties) props[k] = v;
    if (auto err = set_kafka_properties(conf.get(), props)) {
      fail(*err);
      return nullptr;
    }
    rd_kafka_conf_set_rebalance_cb(conf.get(), on_rebalance);
    rd_kafka_conf_set_offset_commit_cb(conf.get(), on_commit);
    rd_kafka_conf_set_log_cb(conf.get(), on_log);
    rd_kafka_conf_set_opaque(conf.get(), &c.group);
    char errstr[512];
    rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf.get(), errstr, sizeof errstr);
    if (!rk) {
      fail(unreachable_error(std::string("etl ") + spec_.name + ": cannot create a Kafka consumer: " + errstr));
      return nullptr;
    }
    conf.release();
    rd_kafka_poll_set_consumer(rk);
    rd_kafka_topic_partition_list_t* subs = rd_kafka_topic_partition_list_new(static_cast<int>(spec_.topics.size()));
    for (const auto& t : spec_.topics) rd_kafka_topic_partition_list_add(subs, topic_subscription(t).c_str(), RD_KAFKA_PARTITION_UA);
    rd_kafka_resp_err_t e = rd_kafka_subscribe(rk, subs);
    rd_kafka_topic_partition_list_destroy(subs);
    if (e) fail(usage_error(std::string("etl ") + spec_.name + ": cannot subscribe: " + rd_kafka_err2str(e), spec_.where));
    return KafkaHandle(rk);
  };

  c.group.clock = &clock;
  c.group.last_committed_us = &last_committed_us_;
  KafkaHandle rk = make_consumer();
  if (!rk) return;
  // Records are taken from the consumer queue in batches, not one poll each.
  QueueHandle queue(rd_kafka_queue_get_consumer(rk.get()));
  std::vector<rd_kafka_message_t*> msgs(static_cast<size_t>(std::max(spec_.batch, 1)));
  // The fast path: only Redis SET with a key from top-level fields needs no
  // document, so the record is scanned for those fields, not parsed; with
  // the key made of the id alone, no document is built at all (the sink
  // takes the id from the record).
  std::vector<std::string> wanted = {"id", "created_ms"};
  bool fast = !c.transform && spec_.field_map.empty() && !c.postgres && c.redis && !spec_.redis.sales_by_state &&
              !spec_.redis.store_counters;
  bool fast_doc = false;
  for (const auto& part : spec_.redis.key.parts) {
    if (!part.is_field) continue;
    if (part.path.size() != 1) fast = false;
    else if (part.path[0] != "id") {
      wanted.push_back(part.path[0]);
      fast_doc = true;
    }
  }
  std::vector<ScannedField> fields;
  std::string value_copy;  // see ConsumedValue.h
  std::vector<SinkRecord> batch;
  batch.reserve(static_cast<size_t>(std::max(spec_.batch, 1)));
  // What to commit. Keyed by the topic handle (stable while the consumer
  // lives) so the per-record cost is a pointer compare, not a string; a
  // fetch returns runs of one partition, so the last entry is tried first.
  using NextOffsets = std::map<std::pair<rd_kafka_topic_t*, int>, int64_t>;
  NextOffsets next_offsets;
  NextOffsets::iterator last_offset = next_offsets.end();
  int64_t seen_rebalances = 0, seen_commits = 0;
  int64_t stop_seen_us = -1;
  bool consumed_any = false;

  // One record into `batch` (or the dead letters, or filtered). False: the
  // transform failed and the workload with it.
  auto handle = [&](rd_kafka_message_t* msg) -> bool {
    if (msg->err) {
      if (msg->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) spdlog::debug("etl {}: {}", spec_.name, rd_kafka_message_errstr(msg));
      return true;
    }
    rec.consumed++;
    if (!consumed_any) {
      consumed_any = true;
      int64_t t = clock.now_us(), cur = first_consumed_us_.load();
      while ((cur < 0 || t < cur) && !first_consumed_us_.compare_exchange_weak(cur, t)) {
      }
    }
    if (last_offset != next_offsets.end() && last_offset->first.first == msg->rkt && last_offset->first.second == msg->partition)
      last_offset->second = msg->offset + 1;
    else
      last_offset = next_offsets.insert_or_assign({msg->rkt, msg->partition}, msg->offset + 1).first;
    std::string_view payload = consumed_value(msg, value_copy);
    if (fast && scan_top_level(payload, wanted, fields) && fields[0].found && fields[0].is_string &&
        !(fields[1].found && fields[1].is_string)) {
      SinkRecord& r = batch.emplace_back();
      r.id.assign(fields[0].text);
      if (fields[1].found) r.created_ms = scanned_int(fields[1].text);
      if (fast_doc) {
        r.doc = nlohmann::json::object();
        for (size_t i = 0; i < wanted.size(); ++i) {
          if (!fields[i].found) continue;
          if (fields[i].is_string) r.doc[wanted[i]] = std::string(fields[i].text);
          else r.doc[wanted[i]] = scanned_number(fields[i].text);
        }
      }
      r.json.assign(payload);
      return true;
    }
    // Everything else, and what the scan cannot read cleanly: a full parse,
    // which also decides whether the record is poison.
    nlohmann::json doc = nlohmann::json::parse(payload, nullptr, false);
    std::string reason;
    if (doc.is_discarded()) reason = "not JSON";
    else if (!doc.is_object() || !doc.contains("id") || !doc["id"].is_string()) reason = "no string field 'id'";
    if (!reason.empty()) {
      // A poison record is counted and listed, never allowed to stop the pipeline.
      rec.dead_letter++;
      dead_letter(rd_kafka_topic_name(msg->rkt), msg->partition, msg->offset, reason);
      return true;
    }
    SinkRecord r;
    r.id = doc["id"].get<std::string>();
    auto created = doc.find("created_ms");
    if (created != doc.end() && created->is_number()) r.created_ms = created->get<int64_t>();
    if (!spec_.field_map.empty()) {
      // The built-in mapping: a flat record of the chosen fields.
      nlohmann::json mapped = {{"id", r.id}, {"created_ms", r.created_ms}};
      for (const auto& [out_name, path] : spec_.field_map) {
        const nlohmann::json* v = json_at(doc, path);
        mapped[out_name] = v ? *v : nlohmann::json();
      }
      r.doc = std::move(mapped);
      r.json = r.doc.dump();
    } else if (c.transform) {
      auto t = c.transform->apply(doc);
      if (!t) {
        fail(t.error());
        return false;
      }
      if (!*t) {
        rec.filtered++;
        return true;
      }
      r.doc = std::move(**t);
      r.json = r.doc.dump();
    } else {
      r.doc = std::move(doc);
      r.json.assign(payload);
    }
    batch.push_back(std::move(r));
    return true;
  };

  while (rk) {
    int64_t now = clock.now_us();
    rec.roll(now);
    if (c.crash) {
      // Die as a crashed process would: no leave-group, no commit. The group
      // notices when the session times out and hands the partitions on.
      queue.reset();
      rd_kafka_destroy_flags(rk.release(), RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE);
      batch.clear();
      next_offsets.clear();
      last_offset = next_offsets.end();
      c.crashed = true;
      std::unique_lock lock(c.mu);
      c.cv.wait(lock, [&] { return !c.crash || stopping_.load(); });
      lock.unlock();
      c.crashed = false;
      if (stopping_) break;
      rk = make_consumer();
      if (!rk) return;
      queue.reset(rd_kafka_queue_get_consumer(rk.get()));
      continue;
    }
    // A stopping run takes no new records; the batch in hand is finished below.
    if (stopping_) break;
    // Collect a batch: up to `batch` records or `batch_wait`.
    int64_t deadline = now + spec_.batch_wait_us;
    while (static_cast<int>(batch.size()) < spec_.batch) {
      int64_t left_ms = (deadline - clock.now_us()) / 1000;
      if (left_ms <= 0) break;
      ssize_t n;
      {
        LibrdkafkaInternals librdkafka;
        n = rd_kafka_consume_batch_queue(queue.get(), static_cast<int>(std::min<int64_t>(left_ms, 100)), msgs.data(),
                                         static_cast<size_t>(spec_.batch - static_cast<int>(batch.size())));
      }
      if (n <= 0) {
        if (stopping_) break;
        continue;
      }
      bool ok = true;
      for (ssize_t k = 0; k < n; ++k) {
        if (ok) ok = handle(msgs[static_cast<size_t>(k)]);
        destroy_consumed(msgs[static_cast<size_t>(k)]);
      }
      if (!ok) return;
    }
    int64_t rb = c.group.rebalances.load();
    if (rb != seen_rebalances) {
      rec.rebalances += rb - seen_rebalances;
      seen_rebalances = rb;
    }
    int64_t commits = c.group.commits.load();
    if (commits != seen_commits) {
      rec.commits += commits - seen_commits;
      seen_commits = commits;
    }
    if (batch.empty() && next_offsets.empty()) {
      if (stopping_) break;
      continue;
    }
    // Write the batch to every sink; retry with backoff until it is in.
    bool written = true;
    int64_t redelivered = 0;
    for (size_t i = 0; i < sinks.size() && !batch.empty(); ++i) {
      int backoff_ms = 100;
      for (;;) {
        if (c.crash) {
          written = false;
          break;
        }
        if (!connected[i]) {
          if (auto err = sinks[i]->connect()) {
            spdlog::debug("etl {}: {}", spec_.name, err->message);
            if (ctx_.faults) ctx_.faults->failed(sinks[i]->name(), sinks[i]->endpoint(), err->message);
          } else {
            connected[i] = true;
          }
        }
        if (connected[i]) {
          int64_t t0 = clock.now_us();
          auto r = sinks[i]->write(batch);
          int64_t took = clock.now_us() - t0;
          if (r) {
            (sinks[i] == c.redis.get() ? rec.redis_write : rec.postgres_write).record(took);
            (sinks[i] == c.redis.get() ? rec.redis_written : rec.postgres_written) += r->written;
            redelivered = std::max(redelivered, r->redelivered);
            if (ctx_.faults) ctx_.faults->ok(sinks[i]->name(), sinks[i]->endpoint());
            break;
          }
          rec.sink_errors++;
          if (r.error().kind != ErrorKind::Unreachable) {
            // The sink refused the data, not the connection: find the
            // records it refuses one by one, dead-letter them, keep the rest.
            std::vector<SinkRecord> kept;
            for (auto& one : batch) {
              std::vector<SinkRecord> single{one};
              auto w = sinks[i]->write(single);
              if (w || w.error().kind == ErrorKind::Unreachable) {
                kept.push_back(std::move(one));
              } else {
                rec.dead_letter++;
                dead_letter("", -1, -1, one.id + ": " + w.error().message);
              }
            }
            batch = std::move(kept);
            if (batch.empty()) break;
            continue;
          }
          connected[i] = false;
          spdlog::warn("etl {}: {} write failed, retrying: {}", spec_.name, sinks[i]->name(), r.error().message);
          if (ctx_.faults) ctx_.faults->failed(sinks[i]->name(), sinks[i]->endpoint(), r.error().message);
        }
        // A stopping run waits for the sinks at most its drain time.
        if (stopping_ && stop_seen_us < 0) stop_seen_us = clock.now_us();
        if (stopping_ && clock.now_us() - stop_seen_us > int64_t{drain_ms_.load()} * 1000) {
          written = false;
          break;
        }
        rec.roll(clock.now_us());
        std::this_thread::sleep_for(std::chrono::milliseconds(backoff_ms));
        backoff_ms = std::min(backoff_ms * 2, 2000);
      }
      if (!written) break;
    }
    if (!written) {
      if (c.crash) continue;
      spdlog::warn("etl {}: gave up on {} records at the end of the run; their offsets stay uncommitted", spec_.name, batch.size());
      break;
    }
    int64_t end_ms = wall_ms_now();
    for (const auto& r : batch)
      if (r.created_ms > 0) rec.latency.record((end_ms - r.created_ms) * 1000);
    rec.batch_size.record(static_cast<int64_t>(batch.size()));
    rec.written += static_cast<int64_t>(batch.size());
    rec.redelivered += redelivered;
    // Only now may the offsets move: the batch is in every sink.
    rd_kafka_topic_partition_list_t* offsets = rd_kafka_topic_partition_list_new(static_cast<int>(next_offsets.size()));
    for (const auto& [tp, off] : next_offsets)
      rd_kafka_topic_partition_list_add(offsets, rd_kafka_topic_name(tp.first), tp.second)->offset = off;
    // Asynchronously: the consumer goes on with the next batch while the
    // commit travels (on_commit counts the result; commits of one consumer
    // reach the coordinator in order).
    rd_kafka_resp_err_t e = rd_kafka_commit(rk.get(), offsets, 1);
    rd_kafka_topic_partition_list_destroy(offsets);
    if (e) spdlog::debug("etl {}: commit: {} (the records will be redelivered; sinks are idempotent)", spec_.name, rd_kafka_err2str(e));
    rows_written_ += static_cast<int64_t>(batch.size());
    batch.clear();
    next_offsets.clear();
    last_offset = next_offsets.end();
  }
  if (rk) rd_kafka_consumer_close(rk.get());  // waits for the commits in flight
  rec.commits += c.group.commits.load() - seen_commits;
  rec.roll(clock.now_us());
  rec.flush();
}

void EtlWorkload::watch_lag() {
  // A separate client of the same group reads committed offsets without
  // joining the group; lag = high watermark - committed, over every
  // partition of the subscribed topics.
  std::map<std::string, std::string> props = ctx_.kafka_properties;
  props["group.id"] = spec_.group;
  KafkaConf conf(rd_kafka_conf_new());
  props["bootstrap.servers"] = ctx_.bootstrap;
  props["log_level"] = "3";
  if (set_kafka_properties(conf.get(), props)) return;
  rd_kafka_conf_set_log_cb(conf.get(), on_log);
  char errstr[512];
  rd_kafka_t* raw = rd_kafka_new(RD_KAFKA_CONSUMER, conf.get(), errstr, sizeof errstr);
  if (!raw) return;
  conf.release();
  KafkaHandle rk(raw);
  std::vector<std::regex> patterns;
  std::vector<std::string> names;
  for (const auto& t : spec_.topics) {
    std::string sub = topic_subscription(t);
    if (sub[0] == '^') patterns.emplace_back(sub);
    else names.push_back(sub);
  }
  const RunClock& clock = *ctx_.clock;
  int64_t next = (clock.now_us() / 1000000 + 1) * 1000000;
  while (!stopping_) {
    std::this_thread::sleep_until(clock.at(std::min(next, clock.now_us() + 200000)));
    if (clock.now_us() < next) continue;
    int64_t second = next / 1000000 - 1;
    next += 1000000;
    const rd_kafka_metadata_t* md = nullptr;
    if (rd_kafka_metadata(rk.get(), 1, nullptr, &md, 2000)) continue;
    KafkaMetadata guard(md);
    rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(16);
    for (int t = 0; t < md->topic_cnt; ++t) {
      std::string name = md->topics[t].topic;
      bool match = std::find(names.begin(), names.end(), name) != names.end();
      for (const auto& re : patterns) match = match || std::regex_match(name, re);
      if (!match) continue;
      for (int p = 0; p < md->topics[t].partition_cnt; ++p) rd_kafka_topic_partition_list_add(list, name.c_str(), md->topics[t].partitions[p].id);
    }
    int64_t lag = 0;
    std::map<std::string, int64_t> by_partition;
    bool ok = rd_kafka_committed(rk.get(), list, 2000) == RD_KAFKA_RESP_ERR_NO_ERROR;
    for (int i = 0; ok && i < list->cnt; ++i) {
      int64_t lo = 0, hi = 0;
      if (rd_kafka_query_watermark_offsets(rk.get(), list->elems[i].topic, list->elems[i].partition, &lo, &hi, 2000)) {
        ok = false;
        break;
      }
      int64_t committed = list->elems[i].offset >= 0 ? list->elems[i].offset : lo;
      int64_t part_lag = std::max<int64_t>(0, hi - std::max(committed, lo));
      lag += part_lag;
      std::string key = list->elems[i].topic;
      key += '/';
      key += std::to_string(list->elems[i].partition);
      by_partition[key] = part_lag;
    }
    rd_kafka_topic_partition_list_destroy(list);
    if (!ok) continue;  // no reading this second: no gauge rather than a wrong one
    {
      std::lock_guard lock(mu_);
      lag_by_partition_ = by_partition;
    }
    SecondSample s;
    s.gauges["etl.lag"] = static_cast<double>(lag);
    ctx_.metrics->add(second, s);
  }
}

}  // namespace kapture
