// The distributed protocol's encodings: a second's sample and a ledger must
// come back exactly (the coordinator merges them), every message type must
// round-trip, and garbage must be refused, not half-read.
#include <doctest/doctest.h>

#include <random>
#include <string>

#include "distributed/RunMessage.h"
#include "distributed/SampleCodec.h"

#include <nlohmann/json.hpp>

using namespace kapture;

TEST_CASE("SampleCodec: a second's counters, gauges and histograms come back exactly") {
  std::mt19937_64 rng(7);
  SecondSample s;
  s.counters["produce.acked"] = 981;
  s.counters["produce.delta"] = -17;
  s.counters["chaos.injected"] = 0;
  s.gauges["produce.in_flight"] = 12.5;
  Histogram h;
  for (int i = 0; i < 5000; ++i) h.record(static_cast<int64_t>(rng() % 9000000));
  s.histograms["produce.latency"] = h.compact();
  std::string bytes;
  encode_sample(s, bytes);
  std::string_view in(bytes);
  SecondSample back;
  REQUIRE(decode_sample(in, back));
  CHECK(in.empty());
  CHECK(back.counters == s.counters);
  CHECK(back.gauges == s.gauges);
  Histogram a, b;
  a.merge(s.histograms["produce.latency"]);
  b.merge(back.histograms["produce.latency"]);
  CHECK(a.count() == b.count());
  for (double p : {50.0, 90.0, 99.0, 99.9, 100.0}) CHECK(a.percentile(p) == b.percentile(p));

  // Truncated: refused.
  for (size_t cut : {size_t{1}, bytes.size() / 2, bytes.size() - 1}) {
    std::string_view part(bytes.data(), cut);
    SecondSample x;
    CHECK_FALSE(decode_sample(part, x));
  }
}

TEST_CASE("SampleCodec: a worker's ledger (every third seq from 1) round-trips, in chunks") {
  SeqSet set;
  for (uint64_t q = 1; q < 100000; q += 3) set.add(q);
  set.add(250000);
  SeqSet back;
  for (uint64_t from = 0; from < set.limit(); from += 40000) {
    std::string bytes;
    encode_seqs(set, from, from + 40000, bytes);
    REQUIRE(decode_seqs(bytes, back));
  }
  CHECK(back.count() == set.count());
  for (uint64_t q = 0; q < 260000; ++q) REQUIRE(back.contains(q) == set.contains(q));
  // One byte per member at a stride of 3.
  std::string all;
  encode_seqs(set, 0, 100000, all);
  CHECK(all.size() <= 33334 + 2);
  // A repeated member (gap 0) is garbage.
  SeqSet junk;
  CHECK_FALSE(decode_seqs(std::string("\x05\x00", 2), junk));
}

TEST_CASE("RunMessage: every type round-trips through CBOR") {
  RunMessage load;
  load.type = RunMessage::Type::Load;
  load.workload = "orders";
  load.load.kind = LoadSpec::Kind::Ramp;
  load.load.from = 100;
  load.load.to = 900;
  load.load.arrivals = Arrivals::Poisson;
  load.start_us = 5000000;
  load.duration_us = 30000000;
  auto back = decode_run_message(encode_run_message(load));
  REQUIRE(back);
  CHECK(back->type == RunMessage::Type::Load);
  CHECK(back->from == -1);
  CHECK(back->workload == "orders");
  CHECK(back->load.kind == LoadSpec::Kind::Ramp);
  CHECK(back->load.from == 100);
  CHECK(back->load.to == 900);
  CHECK(back->load.arrivals == Arrivals::Poisson);
  CHECK(back->start_us == 5000000);
  CHECK(back->duration_us == 30000000);

  RunMessage metrics;
  metrics.type = RunMessage::Type::Metrics;
  metrics.from = 2;
  metrics.seconds = {{3, std::string("\x01\x02\x00", 3)}, {4, ""}};
  back = decode_run_message(encode_run_message(metrics));
  REQUIRE(back);
  CHECK(back->from == 2);
  CHECK(back->seconds == metrics.seconds);

  RunMessage ledger;
  ledger.type = RunMessage::Type::Ledger;
  ledger.from = 1;
  ledger.workload = "orders";
  ledger.acked = std::string("\x00\x03\x03", 3);
  back = decode_run_message(encode_run_message(ledger));
  REQUIRE(back);
  CHECK(back->acked == ledger.acked);
  CHECK(back->failed.empty());

  RunMessage start;
  start.type = RunMessage::Type::Start;
  start.epoch_wall_ms = 1790000000123;
  back = decode_run_message(encode_run_message(start));
  REQUIRE(back);
  CHECK(back->epoch_wall_ms == 1790000000123);

  RunMessage done;
  done.type = RunMessage::Type::Done;
  done.from = 0;
  done.ledger_chunks = 4;
  back = decode_run_message(encode_run_message(done));
  REQUIRE(back);
  CHECK(back->ledger_chunks == 4);
}

TEST_CASE("RunMessage: what is not ours is an error value, not an exception") {
  CHECK_FALSE(decode_run_message("hello"));
  CHECK_FALSE(decode_run_message(""));
  // CBOR of {"type": "gossip"}
  auto j = nlohmann::json::to_cbor(nlohmann::json{{"type", "gossip"}});
  auto r = decode_run_message(std::string(j.begin(), j.end()));
  REQUIRE_FALSE(r);
  CHECK(r.error().message.find("gossip") != std::string::npos);
  // A load without its fields.
  j = nlohmann::json::to_cbor(nlohmann::json{{"type", "load"}, {"from", -1}});
  r = decode_run_message(std::string(j.begin(), j.end()));
  REQUIRE_FALSE(r);
  CHECK(r.error().message.find("load") != std::string::npos);
}
