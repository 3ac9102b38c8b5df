#include "workloads/ProducerWorkload.h"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <map>
#include <optional>

#include <spdlog/spdlog.h>

#include "drivers/kafka/KafkaProducerDriver.h"
#include "lua/LuaRecordGenerator.h"
#include "lua/LuaScript.h"
#include "common/Units.h"
#include "workloads/ArrivalSchedule.h"
#include "workloads/ProducerRecorder.h"

namespace kapture {

struct ProducerWorkload::Worker {
  int index = 0;
  std::unique_ptr<ProducerRecorder> recorder;
  std::unique_ptr<KafkaProducerDriver> driver;
  std::unique_ptr<LuaRecordGenerator> generator;
  AckLedger ledger;
  std::thread thread;
};

AckLedger ProducerWorkload::ledger() const {
  AckLedger all;
  for (const auto& w : workers_) all.merge(w->ledger);
  return all;
}

ProducerWorkload::ProducerWorkload(const ProducerWorkloadSpec& spec, ProducerContext ctx) : spec_(spec), ctx_(std::move(ctx)) {}

ProducerWorkload::~ProducerWorkload() { stop(0); }

Status ProducerWorkload::start() {
  // Everything that can fail is created here, before any thread runs. As
  // many workers as the workload may scale to; only the first `threads` send.
  active_threads_ = spec_.threads;
  for (int i = 0; i < spec_.max_threads; ++i) {
    auto w = std::make_unique<Worker>();
    w->index = i;
    w->recorder = std::make_unique<ProducerRecorder>(*ctx_.metrics);
    auto driver = KafkaProducerDriver::create(ctx_.bootstrap, ctx_.kafka_properties, spec_, *ctx_.clock, *w->recorder,
                                              spec_.ledger ? &w->ledger : nullptr, ctx_.faults);
    if (!driver) return driver.error();
    w->driver = std::move(*driver);
    if (spec_.generator) {
      const int global = ctx_.shard * spec_.max_threads + i;
      auto gen = LuaRecordGenerator::create(spec_, GeneratorContext{ctx_.seed, global, spec_.max_threads * ctx_.shards});
      if (!gen) return gen.error();
      w->generator = std::move(*gen);
    }
    workers_.push_back(std::move(w));
  }
  for (auto& w : workers_) {
    Worker* wp = w.get();
    w->thread = std::thread([this, wp] { run(*wp); });
  }
  return std::nullopt;
}

void ProducerWorkload::set_load(const LoadSpec& load, int64_t start_us, int64_t duration_us) {
  std::lock_guard lock(mu_);
  load_ = load;
  load_start_us_ = start_us;
  load_duration_us_ = duration_us;
  resume_us_ = start_us;
  load_version_.fetch_add(1, std::memory_order_release);
}

int64_t ProducerWorkload::acked_so_far() const {
  int64_t n = 0;
  for (const auto& w : workers_) n += w->recorder->acked_total();
  return n;
}

Result<ChaosInjection> ProducerWorkload::scale(double rate, int threads) {
  const RunClock& clock = *ctx_.clock;
  std::string what;
  double target_rate = 0;
  {
    std::lock_guard lock(mu_);
    resume_us_ = clock.now_us();
    if (threads > 0) {
      active_threads_ = threads;
      what += "threads " + std::to_string(threads);
    }
    if (rate >= 0) {
      // The new rate holds until the current load would have ended.
      int64_t now = clock.now_us();
      LoadSpec l;
      l.kind = LoadSpec::Kind::Rate;
      l.rate = rate;
      l.arrivals = load_.arrivals;
      l.where = load_.where;
      load_duration_us_ = std::max<int64_t>(0, load_start_us_ + load_duration_us_ - now);
      load_start_us_ = now;
      load_ = l;
      if (!what.empty()) what += ", ";
      what += "rate " + format_rate(rate);
    }
    if (load_.kind == LoadSpec::Kind::Rate) target_rate = load_.rate;
    load_version_.fetch_add(1, std::memory_order_release);
  }
  // Took effect when two seconds of acknowledgements run within 10% of the
  // rate (at max rate or idle: when the new workers are running).
  auto deadline = clock.now_us() + 30 * 1000000LL;
  std::vector<std::pair<int64_t, int64_t>> samples;  // (time, acked so far)
  ChaosInjection inj;
  inj.description = "producer " + spec_.name + ": " + what;
  double measured = 0;
  bool took_effect = target_rate <= 0;
  while (!took_effect && clock.now_us() < deadline && !stopping_) {
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
    samples.emplace_back(clock.now_us(), acked_so_far());
    // Acknowledgements are handed over once a second: compare 2 s apart,
    // after the first full second under the new load.
    if (samples.size() < 13) continue;
    const auto& a = samples[samples.size() - 9];
    const auto& b = samples.back();
    measured = static_cast<double>(b.second - a.second) * 1e6 / static_cast<double>(b.first - a.first);
    took_effect = std::abs(measured - target_rate) <= 0.1 * target_rate;
  }
  inj.details = {{"workload", spec_.name}, {"took_effect", took_effect}};
  if (threads > 0) inj.details["threads"] = threads;
  if (rate >= 0) {
    inj.details["rate"] = rate;
    inj.details["measured_rate"] = measured;
  }
  if (!took_effect) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.0f/s", measured);
    inj.description += " (not reached within 30 s: acknowledged " + std::string(buf) + ")";
  }
  return inj;
}

void ProducerWorkload::fail(const Error& e) {
  std::lock_guard lock(mu_);
  if (!failure_) failure_ = e;
}

std::optional<Error> ProducerWorkload::failure() const {
  std::lock_guard lock(mu_);
  return failure_;
}

int64_t ProducerWorkload::stuck_in_lua_ms() const {
  int64_t now = coarse_steady_ms();
  int64_t worst = 0;
  for (const auto& w : workers_) {
    if (!w->generator) continue;
    int64_t since = w->generator->busy_since_ms().load(std::memory_order_relaxed);
    if (since > 0) worst = std::max(worst, now - since);
  }
  return worst;
}

void ProducerWorkload::stop(int drain_ms) {
  drain_ms_ = drain_ms;
  stopping_ = true;
  for (auto& w : workers_)
    if (w->thread.joinable()) w->thread.join();
}

void ProducerWorkload::run(Worker& w) {
  const RunClock& clock = *ctx_.clock;
  KafkaProducerDriver& driver = *w.driver;
  ProducerRecorder& rec = *w.recorder;
  uint64_t seen_version = 0;
  ArrivalSchedule schedule;
  std::optional<int64_t> next;
  // seq is unique across threads (and distributed workers): global thread
  // g of S uses g, g+S, g+2S, ...
  const int64_t stride = static_cast<int64_t>(spec_.max_threads) * ctx_.shards;
  int64_t seq = static_cast<int64_t>(ctx_.shard) * spec_.max_threads + w.index;
  GeneratedRecord record;
  if (spec_.payload) {
    record.value = spec_.payload->value;
    record.topic = spec_.topic.source;
  }
  bool have_pending = false;  // a generated record waiting for queue space
  int64_t pending_intended = 0;
  bool broken = false;  // a generator error: stop this worker, keep its results
  // Max-rate batches from Lua.
  constexpr size_t kBatch = 64;
  std::vector<GeneratedRecord> batch;
  size_t batch_pos = 0, batch_len = 0;
  int64_t batch_seq = 0;

  int64_t record_seq = seq;  // the sequence number of `record`
  auto generate = [&](int64_t intended) -> bool {
    record_seq = seq;
    seq += stride;
    if (!w.generator) return true;
    Status err = w.generator->next(record_seq, clock.wall_ms(intended), record);
    if (err) {
      fail(*err);
      broken = true;
      return false;
    }
    return true;
  };
  // Returns false when the local queue is full (backpressure): the caller
  // keeps the record and offers it again first.
  auto send = [&](const GeneratedRecord& r, int64_t rseq, int64_t intended, int64_t now) -> bool {
    auto res = driver.send(r.topic, r.has_key ? &r.key : nullptr, r.bytes(), intended, now, rseq);
    if (res == KafkaProducerDriver::SendResult::QueueFull) {
      rec.queue_full++;
      return false;
    }
    if (res == KafkaProducerDriver::SendResult::Failed) {
      rec.failed++;
      spdlog::debug("workload {}: {}", spec_.name, driver.last_error());
    }
    return true;
  };
  // `now`: the send time when the caller has a reading that serves (max
  // rate); otherwise the clock is read after generating.
  auto produce_one = [&](int64_t intended, std::optional<int64_t> now = std::nullopt) {
    rec.intended++;
    if (!generate(intended)) return;
    if (!send(record, record_seq, intended, now ? *now : clock.now_us())) {
      have_pending = true;
      pending_intended = intended;
    }
  };
  // Records of a schedule that are due before `until` but were not sent get
  // 5 ms of grace, then are dropped and counted (k6's dropped iterations): a
  // generator that drops more than 1% of a phase makes the run invalid.
  auto settle = [&](int64_t until) {
    int64_t grace_end = clock.now_us() + 5000;
    std::map<int64_t, int64_t> dropped;  // by the second each record was due
    while (next && *next < until) {
      if (!broken && !have_pending && clock.now_us() < grace_end) produce_one(*next);
      else ++dropped[*next / 1000000];
      next = schedule.next();
    }
    for (const auto& [second, n] : dropped) {
      ctx_.metrics->add_counter(second, "produce.dropped", n);
      ctx_.metrics->add_counter(second, "produce.intended", n);
    }
  };

  while (!stopping_.load(std::memory_order_relaxed) && !broken) {
    if (load_version_.load(std::memory_order_acquire) != seen_version) {
      std::lock_guard lock(mu_);
      seen_version = load_version_.load(std::memory_order_relaxed);
      settle(resume_us_);
      batch_pos = batch_len = 0;  // generated at max rate, never intended: dropped silently
      // Idle workers (beyond the active thread count) get an empty schedule.
      bool active = w.index < active_threads_;
      schedule = ArrivalSchedule(active ? load_ : LoadSpec{}, load_start_us_, load_duration_us_,
                                 ctx_.shard * active_threads_ + w.index, active_threads_ * ctx_.shards,
                                 ctx_.seed ^ (static_cast<uint64_t>(seen_version) << 32));
      next = schedule.next();
      // A scale step re-deals the current load from now on: arrivals before
      // it belonged to the previous deal (sent or settled above).
      while (next && *next < resume_us_) next = schedule.next();
    }
    int64_t now = clock.now_us();
    rec.roll(now);
    if (have_pending) {
      if (!send(record, record_seq, pending_intended, now)) {
        driver.poll(1);
        continue;
      }
      have_pending = false;
    }
    if (schedule.is_max()) {
      // As fast as the target accepts: records come from Lua in batches and
      // latency counts from the actual send.
      if (!w.generator) {
        // One clock reading serves the run, as below.
        for (int i = 0; i < 256 && !have_pending && !broken; ++i) produce_one(now, now);
      } else {
        for (int round = 0; round < 4 && !broken; ++round) {
          if (batch_pos == batch_len) {
            int64_t t = clock.now_us();
            batch_seq = seq;
            if (auto err = w.generator->next_batch(seq, stride, clock.wall_ms(t), batch, kBatch)) {
              fail(*err);
              broken = true;
              break;
            }
            seq += static_cast<int64_t>(kBatch) * stride;
            batch_pos = 0;
            batch_len = kBatch;
          }
          // One clock reading serves the run: these records are intended when
          // they can go, and go within microseconds of each other.
          int64_t now_us = clock.now_us();
          while (batch_pos < batch_len) {
            int64_t rseq = batch_seq + static_cast<int64_t>(batch_pos) * stride;
            if (!send(batch[batch_pos], rseq, now_us, now_us)) break;
            rec.intended++;  // at max rate a record is intended when it can go
            ++batch_pos;
          }
          if (batch_pos < batch_len) {
            driver.poll(1);  // queue full: let deliveries make room
            break;
          }
        }
      }
      driver.poll(0);
      continue;
    }
    // Everything due by `now`, in slices of at most 5 ms so a slow generator
    // still sees phase changes, stop requests and the second roll-over.
    int n = 0;
    bool sliced = false;
    while (next && *next <= now && !have_pending && !broken) {
      produce_one(*next);
      next = schedule.next();
      if (++n % 16 == 0 && clock.now_us() - now > 5000) {
        sliced = true;
        break;
      }
    }
    driver.poll(0);
    if (sliced || have_pending || broken) continue;
    int64_t wait_us = next ? *next - clock.now_us() : 10000;
    if (wait_us > 2000) {
      driver.poll(static_cast<int>(std::min<int64_t>(wait_us / 1000 - 1, 10)));
    } else if (wait_us > 0) {
      std::this_thread::sleep_until(clock.at(*next));
    }
  }
  // Stop: what was due and never sent is dropped; deliveries get their
  // chance, then every record is accounted for.
  int64_t end = clock.now_us();
  have_pending = false;
  broken = true;  // no more generating
  settle(end);
  driver.flush_and_purge(drain_ms_.load());
  rec.roll(clock.now_us());
  rec.flush();
}

}  // namespace kapture
