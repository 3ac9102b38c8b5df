#include "distributed/WorkerProcess.h"

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include <spdlog/spdlog.h>

#include "distributed/RunTopic.h"
#include "distributed/SampleCodec.h"
#include "metrics/MetricsStore.h"
#include "metrics/RunClock.h"
#include "workloads/ProducerWorkload.h"

namespace kapture {

namespace {

using SteadyClock = std::chrono::steady_clock;

int64_t ms_since(SteadyClock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(SteadyClock::now() - t).count();
}

// What the recorders hand to the store, sent on every 250 ms (an empty
// message is the heartbeat). Samples of one second are merged first.
class MetricsShipper {
 public:
  MetricsShipper(RunTopic& topic, int index) : topic_(topic), index_(index) {}
  ~MetricsShipper() { stop(); }

  void take(int64_t second, const SecondSample& s) {
    std::lock_guard lock(mu_);
    add_sample(pending_[second], s);
  }
  void start() {
    thread_ = std::thread([this] {
      std::unique_lock lock(stop_mu_);
      while (!stopping_) {
        stop_cv_.wait_for(lock, std::chrono::milliseconds(250), [this] { return stopping_; });
        ship();
      }
    });
  }
  // Stops the thread after a last shipment.
  void stop() {
    {
      std::lock_guard lock(stop_mu_);
      if (stopping_) return;
      stopping_ = true;
    }
    stop_cv_.notify_all();
    if (thread_.joinable()) thread_.join();
  }
  void ship() {
    std::map<int64_t, SecondSample> batch;
    {
      std::lock_guard lock(mu_);
      batch.swap(pending_);
    }
    RunMessage m;
    m.type = RunMessage::Type::Metrics;
    m.from = index_;
    for (const auto& [second, sample] : batch) {
      std::string bytes;
      encode_sample(sample, bytes);
      m.seconds.emplace_back(second, std::move(bytes));
    }
    if (auto err = topic_.send(m)) spdlog::warn("worker {}: {}", index_, err->message);
  }

 private:
  RunTopic& topic_;
  const int index_;
  std::mutex mu_;
  std::map<int64_t, SecondSample> pending_;
  std::mutex stop_mu_;
  std::condition_variable stop_cv_;
  bool stopping_ = false;
  std::thread thread_;
};

// A ledger in messages of at most about 200 KB per set: a span of 200,000
// sequence numbers is at most 200,000 members of one byte each (a gap
// under 128), or fewer members of larger gaps; Kafka's default message
// limit is 1 MB. The number of messages sent, or why one could not be.
Result<int64_t> send_ledger(RunTopic& topic, int index, const std::string& workload, const AckLedger& ledger) {
  constexpr uint64_t kSpan = 200000;
  const uint64_t limit = std::max(ledger.acked.limit(), ledger.failed.limit());
  int64_t chunks = 0;
  for (uint64_t from = 0; from < limit || chunks == 0; from += kSpan) {
    RunMessage m;
    m.type = RunMessage::Type::Ledger;
    m.from = index;
    m.workload = workload;
    encode_seqs(ledger.acked, from, from + kSpan, m.acked);
    encode_seqs(ledger.failed, from, from + kSpan, m.failed);
    if (m.acked.empty() && m.failed.empty() && chunks > 0) continue;
    if (auto err = topic.send(m)) return *err;
    ++chunks;
  }
  return chunks;
}

}  // namespace

int run_worker(const Scenario& scenario, const WorkerOptions& o, const std::atomic<bool>& interrupted) {
  const std::string me = "worker " + std::to_string(o.index) + " of " + std::to_string(o.workers);
  auto topic = RunTopic::open(o.bootstrap, o.kafka_properties, o.topic, false);
  if (!topic) {
    spdlog::error("{}: {}", me, topic.error().message);
    return 3;
  }
  RunTopic& run_topic = **topic;
  // A line before the wait, so a worker's log is never empty while it runs.
  spdlog::info("{}: waiting for the coordinator's start on {}", me, o.topic);
  auto heard = SteadyClock::now();
  auto coordinator_gone = [&] { return ms_since(heard) > o.coordinator_silence_ms; };

  // 1. The coordinator's clock.
  std::optional<RunClock> clock;
  while (!clock) {
    if (interrupted) return 130;
    if (coordinator_gone()) {
      spdlog::error("{}: no start from the coordinator on {} within {} s", me, o.topic, o.coordinator_silence_ms / 1000);
      return 3;
    }
    auto m = run_topic.next(200);
    if (!m || m->from >= 0) continue;
    heard = SteadyClock::now();
    if (m->type == RunMessage::Type::Start) clock = RunClock::starting_at_wall_ms(m->epoch_wall_ms);
    if (m->type == RunMessage::Type::Stop || m->type == RunMessage::Type::Abort) return 0;
  }

  // 2. Its share of each producer workload, on that clock.
  MetricsStore metrics;
  MetricsShipper shipper(run_topic, o.index);
  metrics.set_tap([&shipper](int64_t second, const SecondSample& s) { shipper.take(second, s); });
  ProducerContext ctx{o.bootstrap, o.kafka_properties, scenario.seed, &*clock, &metrics, nullptr, o.index, o.workers};
  std::vector<std::unique_ptr<ProducerWorkload>> producers;
  auto fail = [&](const Error& e) {
    RunMessage m;
    m.type = RunMessage::Type::Failed;
    m.from = o.index;
    m.reason = e.describe();
    m.usage = e.kind == ErrorKind::Usage;
    run_topic.send(m);
    run_topic.flush(10000);
  };
  for (const auto& w : scenario.workloads) {
    producers.push_back(std::make_unique<ProducerWorkload>(w, ctx));
    if (auto err = producers.back()->start()) {
      spdlog::error("{}: {}", me, err->describe());
      fail(*err);
      for (auto& p : producers) p->stop(0);
      return err->kind == ErrorKind::Usage ? 2 : 3;
    }
  }
  shipper.start();
  RunMessage ready;
  ready.type = RunMessage::Type::Ready;
  ready.from = o.index;
  if (auto err = run_topic.send(ready)) {
    spdlog::error("{}: {}", me, err->message);
    for (auto& p : producers) p->stop(0);
    return 3;
  }
  spdlog::info("{}: ready, {} producer workload(s)", me, producers.size());

  // 3. Loads until stop or abort.
  int drain_ms = 0;
  int rc = 0;
  bool reported_failure = false;
  for (;;) {
    if (interrupted) {
      rc = 130;
      break;
    }
    if (coordinator_gone()) {
      spdlog::error("{}: the coordinator has not been heard from for {} s: stopping", me, o.coordinator_silence_ms / 1000);
      rc = 3;
      break;
    }
    if (!reported_failure) {
      for (auto& p : producers) {
        if (auto f = p->failure()) {
          fail(*f);
          reported_failure = true;
          break;
        }
      }
    }
    auto m = run_topic.next(100);
    if (!m || m->from >= 0) continue;
    heard = SteadyClock::now();
    if (m->type == RunMessage::Type::Load) {
      for (auto& p : producers)
        if (p->name() == m->workload) p->set_load(m->load, m->start_us, m->duration_us);
    } else if (m->type == RunMessage::Type::Stop) {
      drain_ms = m->drain_ms;
      break;
    } else if (m->type == RunMessage::Type::Abort) {
      break;
    }
  }

  // 4. Drain, ship the rest, the ledgers, done.
  for (auto& p : producers) p->stop(drain_ms);
  shipper.stop();  // after a last shipment
  RunMessage done;
  done.type = RunMessage::Type::Done;
  done.from = o.index;
  for (auto& p : producers) {
    if (!p->keeps_ledger()) continue;
    auto sent = send_ledger(run_topic, o.index, p->name(), p->ledger());
    if (!sent) {
      // Without its ledger the coordinator cannot judge: say why, and no `done`.
      spdlog::error("{}: {}", me, sent.error().message);
      fail(sent.error());
      return 3;
    }
    done.ledger_chunks += *sent;
  }
  if (auto err = run_topic.send(done)) {
    spdlog::error("{}: {}", me, err->message);
    return 3;
  }
  if (auto err = run_topic.flush(30000)) {
    spdlog::error("{}: {}", me, err->message);
    return 3;
  }
  spdlog::info("{}: done", me);
  return rc;
}

}  // namespace kapture
