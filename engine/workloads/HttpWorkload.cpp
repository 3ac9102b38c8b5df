#include "workloads/HttpWorkload.h"

#include <algorithm>
#include <chrono>
#include <map>
#include <random>

#include <curl/curl.h>
#include <spdlog/spdlog.h>

#include "drivers/http/HttpClient.h"
#include "lua/LuaScript.h"
#include "workloads/ArrivalSchedule.h"
#include "workloads/HttpRecorder.h"
#include "workloads/HttpScripts.h"

namespace kapture {

struct HttpWorkload::Worker {
  int index = 0;
  int connections = 1;     // this worker's share of the pool
  int concurrency = 0;     // closed loop: this worker's share
  int64_t requests = 0;    // closed loop: this worker's share
  std::unique_ptr<HttpRecorder> recorder;
  std::unique_ptr<HttpClient> client;
  std::unique_ptr<HttpScript> request;
  std::unique_ptr<HttpScript> response;
  std::mt19937_64 rng;          // body_template's ${rand} and ${text}
  std::vector<int64_t> acked;   // seqs answered 2xx (keep_acked_ids)
  std::thread thread;
};

namespace {

// `total` dealt over `n` workers: worker i's share.
int64_t share(int64_t total, int n, int i) { return total / n + (i < total % n ? 1 : 0); }

}  // namespace

HttpWorkload::HttpWorkload(const HttpWorkloadSpec& spec, HttpContext ctx) : spec_(spec), ctx_(ctx) {}

HttpWorkload::~HttpWorkload() { stop(0); }

Status HttpWorkload::start() {
  // Everything that can fail is created here, before any thread runs.
  if (spec_.http2 && spec_.url.rfind("http://", 0) == 0 && curl_version_info(CURLVERSION_NOW)->version_num < 0x080000)
    spdlog::warn("workload {}: libcurl {} fails requests on reused HTTP/2 prior-knowledge (h2c) connections (curl issue #10634, "
                 "fixed in 8.0); expect errors, or use https://",
                 spec_.name, curl_version_info(CURLVERSION_NOW)->version);
  const int n = spec_.threads;
  for (int i = 0; i < n; ++i) {
    auto w = std::make_unique<Worker>();
    w->index = i;
    w->connections = static_cast<int>(std::max<int64_t>(1, share(spec_.connections, n, i)));
    if (spec_.closed) {
      w->concurrency = static_cast<int>(share(spec_.closed->concurrency, n, i));
      w->requests = share(spec_.closed->requests, n, i);
    }
    w->recorder = std::make_unique<HttpRecorder>(*ctx_.metrics);
    w->rng.seed(ctx_.seed ^ 0x626f6479ULL ^ (static_cast<uint64_t>(i) << 40));
    HttpClientOptions o;
    o.connections = w->connections;
    o.http2 = spec_.http2;
    o.timeout_us = spec_.timeout_us;
    o.insecure = spec_.insecure;
    o.keep_bodies = spec_.response.has_value();
    // Without a Lua request() every request goes to spec_.url's origin: a
    // plain http:// one gets the lean client (request() may return any URL).
    if (!spec_.request) o.url = spec_.url;
    auto client = HttpClient::create(o);
    if (!client) return client.error();
    w->client = std::move(*client);
    if (spec_.request) {
      auto s = HttpScript::create(*spec_.request, spec_.allow, ctx_.seed, i, n, "(seq, now_ms) per request");
      if (!s) return s.error();
      w->request = std::move(*s);
    }
    if (spec_.response) {
      auto s = HttpScript::create(*spec_.response, spec_.allow, ctx_.seed, i, n, "(status, headers, body) per response");
      if (!s) return s.error();
      w->response = std::move(*s);
    }
    workers_.push_back(std::move(w));
  }
  for (auto& w : workers_) {
    Worker* wp = w.get();
    w->thread = std::thread([this, wp] { run(*wp); });
  }
  return std::nullopt;
}

void HttpWorkload::set_load(const LoadSpec& load, int64_t start_us, int64_t duration_us) {
  std::lock_guard lock(mu_);
  load_ = load;
  load_start_us_ = start_us;
  load_duration_us_ = duration_us;
  load_version_.fetch_add(1, std::memory_order_release);
}

void HttpWorkload::fail(const Error& e) {
  std::lock_guard lock(mu_);
  if (!failure_) failure_ = e;
}

std::optional<Error> HttpWorkload::failure() const {
  std::lock_guard lock(mu_);
  return failure_;
}

int64_t HttpWorkload::stuck_in_lua_ms() const {
  int64_t now = coarse_steady_ms();
  int64_t worst = 0;
  for (const auto& w : workers_) {
    for (const HttpScript* s : {w->request.get(), w->response.get()}) {
      if (!s) continue;
      int64_t since = s->busy_since_ms().load(std::memory_order_relaxed);
      if (since > 0) worst = std::max(worst, now - since);
    }
  }
  return worst;
}

std::vector<int64_t> HttpWorkload::acked_ids() const {
  std::vector<int64_t> all;
  for (const auto& w : workers_) all.insert(all.end(), w->acked.begin(), w->acked.end());
  std::sort(all.begin(), all.end());
  return all;
}

void HttpWorkload::stop(int drain_ms) {
  drain_ms_ = drain_ms;
  stopping_ = true;
  for (auto& w : workers_)
    if (w->thread.joinable()) w->thread.join();
}

void HttpWorkload::run(Worker& w) {
  const RunClock& clock = *ctx_.clock;
  HttpRecorder& rec = *w.recorder;
  HttpClient& client = *w.client;
  const std::function<int64_t()> now_us = [&clock] { return clock.now_us(); };
  const std::string origin = url_origin(spec_.url);
  // Requests in flight or waiting in curl's queue for a connection: beyond
  // this the schedule's requests wait here (still counted from their
  // intended time) and at the end of their phase are dropped.
  const size_t backlog = std::max<size_t>(1024, static_cast<size_t>(w.connections) * 64);
  // At max rate: enough to keep every connection (or stream) busy.
  const size_t max_rate_in_flight = static_cast<size_t>(w.connections) * (spec_.http2 ? 32 : 1);
  HttpRequest fixed;
  fixed.method = spec_.method;
  fixed.url = spec_.url;
  fixed.body = spec_.body;
  for (const auto& [k, v] : spec_.headers) fixed.headers.push_back(k + ": " + v);

  uint64_t seen_version = 0;
  ArrivalSchedule schedule;
  std::optional<int64_t> next;
  int64_t seq = w.index;
  int64_t closed_sent = 0;
  bool broken = false;  // a Lua error: stop this worker, keep its results
  bool warned_connect = false, warned_error = false, warned_check = false;

  auto on_done = [&](const HttpResult& r) {
    --rec.in_flight;
    rec.connections += r.new_connections;
    rec.bytes_in += r.bytes_in;
    rec.bytes_out += r.bytes_out;
    switch (r.outcome) {
      case HttpResult::Outcome::Response: {
        ++rec.responses;
        rec.count_status(r.status);
        if (spec_.keep_acked_ids && r.status >= 200 && r.status < 300) w.acked.push_back(r.tag);
        rec.latency.record(std::max<int64_t>(0, r.done_us - r.intended_us));
        rec.response_latency.record(std::max<int64_t>(0, r.done_us - r.sent_us));
        if (w.response && !broken) {
          auto checked = w.response->check_response(r.status, r.headers, r.body);
          if (!checked) {
            fail(checked.error());
            broken = true;
          } else if (!checked->first) {
            ++rec.check_failed;
            if (!warned_check) spdlog::info("workload {}: response() refused a response (status {}): {}", spec_.name, r.status, checked->second);
            warned_check = true;
          }
        }
        break;
      }
      case HttpResult::Outcome::Timeout: ++rec.timeouts; break;
      case HttpResult::Outcome::ConnectError:
        ++rec.connect_errors;
        if (!warned_connect) spdlog::warn("workload {}: cannot connect to {}: {}", spec_.name, spec_.url, r.error);
        warned_connect = true;
        break;
      case HttpResult::Outcome::Error:
        ++rec.errors;
        if (!warned_error) spdlog::warn("workload {}: request to {} failed: {}", spec_.name, spec_.url, r.error);
        warned_error = true;
        break;
    }
  };
  const HttpClient::Completion done = on_done;  // one std::function for every poll
  auto send = [&](int64_t intended) {
    ++rec.intended;
    HttpRequest req;
    if (w.request) {
      if (auto err = w.request->build_request(seq, clock.wall_ms(intended), spec_, origin, req)) {
        fail(*err);
        broken = true;
        return;
      }
    } else if (spec_.body_template) {
      req.method = fixed.method;
      req.url = fixed.url;
      req.headers = fixed.headers;
      render_body_template(*spec_.body_template, {seq, clock.wall_us(intended), w.index}, w.rng, req.body);
    } else {
      req = fixed;
    }
    req.tag = seq;
    seq += spec_.threads;
    req.intended_us = intended;
    req.submitted_us = clock.now_us();
    if (auto err = w.client->submit(std::move(req))) {
      fail(*err);
      broken = true;
      return;
    }
    ++rec.sent;
    ++rec.in_flight;
  };
  // Requests of a schedule due before `until` that were not sent get 5 ms
  // of grace, then are dropped and counted by the second they were due.
  auto settle = [&](int64_t until) {
    int64_t grace_end = clock.now_us() + 5000;
    std::map<int64_t, int64_t> dropped;
    while (next && *next < until) {
      if (!broken && client.in_flight() < backlog && clock.now_us() < grace_end) send(*next);
      else ++dropped[*next / 1000000];
      next = schedule.next();
    }
    for (const auto& [second, n] : dropped) {
      ctx_.metrics->add_counter(second, "http.dropped", n);
      ctx_.metrics->add_counter(second, "http.intended", n);
    }
  };

  while (!stopping_.load(std::memory_order_relaxed) && !broken) {
    if (!spec_.closed && load_version_.load(std::memory_order_acquire) != seen_version) {
      std::lock_guard lock(mu_);
      seen_version = load_version_.load(std::memory_order_relaxed);
      settle(load_start_us_);
      schedule = ArrivalSchedule(load_, load_start_us_, load_duration_us_, w.index, spec_.threads,
                                 ctx_.seed ^ 0x68747470ULL ^ (static_cast<uint64_t>(seen_version) << 32));
      next = schedule.next();
    }
    int64_t now = clock.now_us();
    rec.roll(now);
    int64_t wait_us = 10000;
    if (spec_.closed) {
      // ab's model: a new request as soon as one of `concurrency` finishes.
      while (!broken && client.in_flight() < static_cast<size_t>(w.concurrency) && closed_sent < w.requests) {
        send(clock.now_us());
        ++closed_sent;
      }
    } else if (schedule.is_max()) {
      while (!broken && client.in_flight() < max_rate_in_flight) send(clock.now_us());
    } else {
      // Everything due by now, late or not (latency counts from the
      // intended time), in slices of at most 5 ms.
      int n = 0;
      while (!broken && next && *next <= now && client.in_flight() < backlog) {
        send(*next);
        next = schedule.next();
        if (++n % 16 == 0 && clock.now_us() - now > 5000) break;
      }
      if (next && client.in_flight() < backlog) wait_us = *next - clock.now_us();
    }
    if (wait_us >= 1000) {
      client.poll(static_cast<int>(std::min<int64_t>(wait_us / 1000, 10)), now_us, done);
    } else {
      client.poll(0, now_us, done);
      if (wait_us > 0) std::this_thread::sleep_until(clock.at(*next));
    }
  }
  // Stop: what was due and never sent is dropped; responses get the drain,
  // then whatever is still unanswered counts as an error.
  if (!spec_.closed) {
    bool was_broken = broken;
    broken = true;  // settle only drops now
    settle(clock.now_us());
    broken = was_broken;
  }
  int64_t deadline = clock.now_us() + static_cast<int64_t>(drain_ms_.load()) * 1000;
  while (client.in_flight() > 0 && clock.now_us() < deadline) {
    rec.roll(clock.now_us());
    client.poll(10, now_us, done);
  }
  client.abort_all(now_us, done);
  rec.roll(clock.now_us());
  rec.flush();
}

}  // namespace kapture
