#include "distributed/WorkerFleet.h"

#include <chrono>
#include <cstdio>

#include <spdlog/spdlog.h>

#include "distributed/SampleCodec.h"

namespace kapture {

namespace {

int64_t steady_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

}  // namespace

WorkerFleet::WorkerFleet(WorkerLauncher& launcher, MetricsStore& metrics, EventLog& events, FleetOptions options)
    : launcher_(launcher), metrics_(metrics), events_(events), options_(options) {}

WorkerFleet::~WorkerFleet() {
  stop(0);
}

Status WorkerFleet::launch(const WorkerLaunch& l) {
  launch_ = l;
  if (auto err = RunTopic::create(l.bootstrap, l.kafka_properties, l.topic)) return err;
  auto topic = RunTopic::open(l.bootstrap, l.kafka_properties, l.topic, true);
  if (!topic) return topic.error();
  topic_ = std::move(*topic);
  {
    std::lock_guard lock(mu_);
    state_.assign(static_cast<size_t>(l.workers), WorkerState{});
    for (auto& s : state_) s.last_heard_ms = steady_ms();
  }
  reader_ = std::thread([this] { read_loop(); });
  if (auto err = launcher_.launch(l)) return err;
  launched_ = true;
  events_.write("workers_launched", {{"workers", l.workers}, {"topic", l.topic}});
  return std::nullopt;
}

bool WorkerFleet::all(bool WorkerState::*flag) const {
  for (const auto& s : state_)
    if (!(s.*flag)) return false;
  return true;
}

Status WorkerFleet::start(const RunClock& clock, const std::function<bool()>& interrupted) {
  clock_ = &clock;
  RunMessage m;
  m.type = RunMessage::Type::Start;
  m.epoch_wall_ms = clock.start_wall_ms();
  if (auto err = topic_->send(m)) return err;
  const int64_t deadline = steady_ms() + options_.ready_timeout_ms;
  for (;;) {
    if (interrupted()) return runtime_error("interrupted while the workers started");
    if (auto f = failure()) return f;
    int ready = 0;
    {
      std::lock_guard lock(mu_);
      if (all(&WorkerState::ready)) break;
      for (const auto& s : state_) ready += s.ready ? 1 : 0;
    }
    if (steady_ms() > deadline) {
      std::string msg = "workers: " + std::to_string(ready) + " of " + std::to_string(workers()) + " ready within " +
                        std::to_string(options_.ready_timeout_ms / 1000) + " s (run topics " + topic_->name() + ".*)";
      std::vector<int> waiting;
      {
        std::lock_guard lock(mu_);
        for (size_t i = 0; i < state_.size(); ++i)
          if (!state_[i].ready) waiting.push_back(static_cast<int>(i));
      }
      for (int i : waiting) msg += "; worker " + std::to_string(i) + ": " + launcher_.about(i);
      return unreachable_error(msg);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  events_.write("workers_ready", {{"workers", workers()}});
  return std::nullopt;
}

void WorkerFleet::set_load(const std::string& workload, const LoadSpec& load, int64_t start_us, int64_t duration_us) {
  RunMessage m;
  m.type = RunMessage::Type::Load;
  m.workload = workload;
  m.load = load;
  m.start_us = start_us;
  m.duration_us = duration_us;
  if (auto err = topic_->send(m)) record_failure(*err);
}

void WorkerFleet::note_ended(const std::vector<EndedWorker>& ended) {
  for (const auto& e : ended) {
    if (e.index < 0 || e.index >= workers()) continue;
    WorkerState& s = state_[static_cast<size_t>(e.index)];
    s.ended = e.why;
    s.ended_at_ms = steady_ms();
  }
}

std::optional<WorkerFleet::Lost> WorkerFleet::first_lost() const {
  const int64_t now = steady_ms();
  for (size_t i = 0; i < state_.size(); ++i) {
    const WorkerState& s = state_[i];
    if (s.done) continue;
    // Its last messages may still be on their way: a failure it reported
    // says more than its exit status.
    if (!s.ended.empty() && now - s.ended_at_ms > kEndedGraceMs) return Lost{static_cast<int>(i), s.ended};
    if (s.ready && now - s.last_heard_ms > options_.silence_limit_ms)
      return Lost{static_cast<int>(i), "was not heard from for " + std::to_string(options_.silence_limit_ms / 1000) + " s"};
  }
  return std::nullopt;
}

std::optional<Error> WorkerFleet::reported_failure() const {
  for (size_t i = 0; i < state_.size(); ++i) {
    const WorkerState& s = state_[i];
    if (s.failed.empty()) continue;
    std::string msg = "worker " + std::to_string(i) + ": " + s.failed;
    return s.failed_usage ? usage_error(msg) : runtime_error(msg);
  }
  return std::nullopt;
}

void WorkerFleet::stop(int drain_ms) {
  if (stopped_) return;
  stopped_ = true;
  if (topic_) {
    RunMessage m;
    {
      std::lock_guard lock(mu_);
      m.type = failure_ ? RunMessage::Type::Abort : RunMessage::Type::Stop;
    }
    m.drain_ms = drain_ms;
    if (auto err = topic_->send(m)) spdlog::warn("workers: {}", err->message);
    // Every worker done (its measurements and ledger are before `done` on
    // the topic), or gone; one that never became ready is not waited for long.
    const int64_t started = steady_ms();
    const int64_t deadline = started + (launched_ ? drain_ms + 30000 : 5000);
    while (steady_ms() < deadline) {
      auto ended = launcher_.ended();
      bool settled = true;
      {
        std::lock_guard lock(mu_);
        note_ended(ended);
        const int64_t now = steady_ms();
        for (const auto& st : state_)
          settled = settled && (st.done || (!st.ended.empty() && now - st.ended_at_ms > kEndedGraceMs) || (!st.ready && now - started > 5000));
      }
      if (settled) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  launcher_.stop(10000);
  stopping_reader_ = true;
  if (reader_.joinable()) reader_.join();
  // A worker that did not finish took measurements or its ledger with it.
  std::optional<Lost> unfinished;
  {
    std::lock_guard lock(mu_);
    if (!failure_) failure_ = reported_failure();
    for (size_t i = 0; i < state_.size() && !failure_ && !unfinished; ++i)
      if (!state_[i].done)
        unfinished = Lost{static_cast<int>(i), state_[i].ended.empty() ? "did not finish within the drain" : state_[i].ended};
  }
  if (unfinished) record_failure(lost(unfinished->index, unfinished->why));
  if (topic_) {
    topic_.reset();
    if (auto err = RunTopic::remove(launch_.bootstrap, launch_.kafka_properties, launch_.topic))
      spdlog::warn("workers: the run topics stay: {}", err->message);
  }
  events_.write("workers_stopped", to_json());
}

// Not under mu_: about() may ask the Kubernetes API.
Error WorkerFleet::lost(int index, const std::string& why) {
  char at[32] = "";
  if (clock_) std::snprintf(at, sizeof at, " at %.1fs", static_cast<double>(clock_->now_us()) / 1e6);
  std::string msg = "worker " + std::to_string(index) + " of " + std::to_string(state_.size()) + " " + why + at +
                    ", before the run ended: the load it carried is missing, so the run is not judged";
  return runtime_error(msg + " (" + launcher_.about(index) + ")");
}

void WorkerFleet::record_failure(const Error& e) {
  {
    std::lock_guard lock(mu_);
    if (failure_) return;
    failure_ = e;
  }
  events_.write("worker_lost", {{"error", e.message}});
}

std::optional<Error> WorkerFleet::failure() {
  auto ended = launcher_.ended();
  std::optional<Lost> gone;
  {
    std::lock_guard lock(mu_);
    if (failure_) return failure_;
    note_ended(ended);
    if (auto reported = reported_failure()) {
      failure_ = reported;
      events_.write("worker_lost", {{"error", reported->message}});
      return failure_;
    }
    gone = first_lost();
  }
  if (!gone) return std::nullopt;
  record_failure(lost(gone->index, gone->why));
  std::lock_guard lock(mu_);
  return failure_;
}

AckLedger WorkerFleet::ledger(const std::string& workload) const {
  std::lock_guard lock(mu_);
  auto it = ledgers_.find(workload);
  return it == ledgers_.end() ? AckLedger{} : it->second;
}

nlohmann::json WorkerFleet::to_json() const {
  std::lock_guard lock(mu_);
  nlohmann::json list = nlohmann::json::array();
  for (size_t i = 0; i < state_.size(); ++i) {
    const WorkerState& s = state_[i];
    nlohmann::json w = {{"index", i}, {"ready", s.ready}, {"done", s.done}, {"seconds_reported", s.seconds_received}};
    if (!s.failed.empty()) w["failed"] = s.failed;
    if (!s.ended.empty() && !s.done) w["ended"] = s.ended;
    list.push_back(w);
  }
  return {{"count", state_.size()}, {"topic", launch_.topic}, {"workers", list}};
}

void WorkerFleet::read_loop() {
  int64_t last_beat = 0;
  while (!stopping_reader_) {
    if (steady_ms() - last_beat >= 1000) {
      RunMessage beat;
      beat.type = RunMessage::Type::Beat;
      topic_->send(beat);
      last_beat = steady_ms();
    }
    if (auto m = topic_->next(100)) handle(*m);
    // A load or stop that Kafka did not take: the workers do not follow the timeline.
    if (auto f = topic_->failure()) record_failure(*f);
  }
}

void WorkerFleet::handle(const RunMessage& m) {
  if (m.from < 0) return;  // ours
  std::lock_guard lock(mu_);
  if (m.from >= workers()) return;
  WorkerState& s = state_[static_cast<size_t>(m.from)];
  s.last_heard_ms = steady_ms();
  switch (m.type) {
    case RunMessage::Type::Ready: s.ready = true; break;
    case RunMessage::Type::Metrics:
      for (const auto& [second, bytes] : m.seconds) {
        SecondSample sample;
        std::string_view in(bytes);
        if (!decode_sample(in, sample)) {
          if (!failure_) failure_ = runtime_error("worker " + std::to_string(m.from) + ": a measurement that cannot be read");
          continue;
        }
        metrics_.add(second, sample);
        ++s.seconds_received;
      }
      break;
    case RunMessage::Type::Failed:
      s.failed = m.reason;
      s.failed_usage = m.usage;
      break;
    case RunMessage::Type::Ledger: {
      AckLedger& l = ledgers_[m.workload];
      if (!decode_seqs(m.acked, l.acked) || !decode_seqs(m.failed, l.failed)) {
        if (!failure_) failure_ = runtime_error("worker " + std::to_string(m.from) + ": a ledger that cannot be read");
      }
      ++s.ledger_chunks;
      break;
    }
    case RunMessage::Type::Done:
      s.done = true;
      if (s.ledger_chunks != m.ledger_chunks && !failure_)
        failure_ = runtime_error("worker " + std::to_string(m.from) + ": " + std::to_string(s.ledger_chunks) + " of " +
                                 std::to_string(m.ledger_chunks) + " ledger messages arrived");
      break;
    default: break;
  }
}

}  // namespace kapture
