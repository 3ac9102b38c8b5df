// The ledger's arithmetic: what the producers acknowledged against what a
// store holds. The integration tests (etl_ledger, local_kafka) prove it end to
// end; these pin each verdict to a known set of ids.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "etl/Ledger.h"
#include "etl/StoredIds.h"

using namespace kapture;

namespace {

AckLedger acked_up_to(uint64_t n) {
  AckLedger l;
  for (uint64_t s = 0; s < n; ++s) l.acked.add(s);
  return l;
}

}  // namespace

TEST_CASE("SeqSet: add, contains, count, merge and for_each over a range") {
  SeqSet a, b;
  for (uint64_t s : {0, 63, 64, 1000}) a.add(s);
  b.add(5);
  b.add(64);
  CHECK(a.count() == 4);
  CHECK(a.contains(63));
  CHECK_FALSE(a.contains(62));
  CHECK_FALSE(a.contains(1u << 20));  // past the end: not a member, no growth
  a.merge(b);
  CHECK(a.count() == 5);
  std::vector<uint64_t> seen;
  a.for_each(5, 1000, [&](uint64_t s) { seen.push_back(s); });
  CHECK(seen == std::vector<uint64_t>{5, 63, 64});
}

TEST_CASE("StoredIds: ids of the ledger's shape by prefix and seq, the rest by name") {
  StoredIds ids(1000);
  ids.add("tx-7-1");
  ids.add("tx-7-2", 3);
  ids.add("tx-7-2");
  ids.add("tx-8-1");
  ids.add("order-A");
  ids.add("tx-7-01");      // a leading zero would not read back as itself
  ids.add("tx-7-5000");    // past seq_limit: no producer wrote it
  ids.add("tx-7-0", 0);    // nothing found: not added
  CHECK(ids.rows() == 9);
  CHECK(ids.distinct() == 6);
  CHECK(ids.times("tx-7-1") == 1);
  CHECK(ids.times("tx-7-2") == 4);
  CHECK(ids.times("tx-8-1") == 1);
  CHECK(ids.times("tx-9-1") == 0);
  CHECK(ids.times("tx-7-01") == 1);
  CHECK(ids.times("tx-7-5000") == 1);
  CHECK(ids.times("tx-7-0") == 0);
  std::vector<std::string> sequenced, other;
  ids.for_each_sequenced([&](const std::string& p, uint64_t s, int64_t n) {
    sequenced.push_back(p + std::to_string(s) + "x" + std::to_string(n));
  });
  ids.for_each_other([&](const std::string& id, int64_t n) { other.push_back(id + "x" + std::to_string(n)); });
  CHECK(sequenced == std::vector<std::string>{"tx-7-1x1", "tx-7-2x4", "tx-8-1x1"});
  CHECK(other == std::vector<std::string>{"order-Ax1", "tx-7-01x1", "tx-7-5000x1"});
}

TEST_CASE("reconcile: a clean ledger") {
  AckLedger l = acked_up_to(500);
  StoredIds ids(l.seq_limit());
  for (int s = 0; s < 500; ++s) ids.add("tx-1-" + std::to_string(s));
  LedgerReport r = reconcile(l, ids, nullptr, nullptr);
  CHECK(r.checked);
  CHECK(r.acked == 500);
  CHECK(r.rows == 500);
  CHECK(r.lost == 0);
  CHECK(r.duplicates == 0);
  CHECK(r.unexpected == 0);
  CHECK(r.failed_but_present == 0);
}

TEST_CASE("reconcile: lost, duplicated, unexpected and failed-but-present records are each counted and named") {
  AckLedger l = acked_up_to(10);
  l.failed.add(10);  // the producer gave up on seq 10...
  l.failed.add(11);  // ...and on 11
  StoredIds ids(l.seq_limit());
  for (int s = 0; s < 10; ++s)
    if (s != 3 && s != 7) ids.add("tx-1-" + std::to_string(s));
  ids.add("tx-1-4");       // delivered twice
  ids.add("tx-1-10");      // failed, yet it arrived: in doubt, not an error
  ids.add("tx-1-12");      // never produced
  ids.add("not-a-record"); // no sequence number
  LedgerReport r = reconcile(l, ids, nullptr, nullptr);
  CHECK(r.acked == 10);
  CHECK(r.failed == 2);
  CHECK(r.rows == 12);
  CHECK(r.lost == 2);
  CHECK(r.lost_ids == std::vector<std::string>{"tx-1-3", "tx-1-7"});
  CHECK(r.duplicates == 1);
  CHECK(r.duplicate_ids == std::vector<std::string>{"tx-1-4"});
  CHECK(r.failed_but_present == 1);
  CHECK(r.unexpected == 2);
  CHECK(r.unexpected_ids == std::vector<std::string>{"tx-1-12", "not-a-record"});
}

TEST_CASE("reconcile: an id far past every sequence number is unexpected, and costs no bitset of its size") {
  AckLedger l = acked_up_to(3);
  StoredIds ids(l.seq_limit());
  for (int s = 0; s < 3; ++s) ids.add("tx-1-" + std::to_string(s));
  ids.add("order-1700000000000");  // would be a 200 GB bitset
  LedgerReport r = reconcile(l, ids, nullptr, nullptr);
  CHECK(r.lost == 0);
  CHECK(r.unexpected == 1);
  CHECK(r.unexpected_ids == std::vector<std::string>{"order-1700000000000"});
}

TEST_CASE("reconcile: nothing stored names every acknowledged record lost, by seq") {
  AckLedger l = acked_up_to(150);
  LedgerReport r = reconcile(l, StoredIds(l.seq_limit()), nullptr, nullptr);
  CHECK(r.lost == 150);
  CHECK(r.lost_ids.size() == 100);  // the first 100
  CHECK(r.lost_ids.front() == "seq 0");
}

TEST_CASE("reconcile: Redis aggregates against PostgreSQL's, cell by cell over the union") {
  AckLedger l;
  SalesByState redis = {{"texas", {{"kitty litter", 12}, {"dog food", 3}}}};
  SalesByState postgres = {{"texas", {{"kitty litter", 11}, {"dog food", 3}}}, {"ohio", {{"fish", 1}}}};
  LedgerReport r = reconcile(l, StoredIds(l.seq_limit()), &redis, &postgres);
  CHECK(r.aggregate_mismatches == 2);
  CHECK(r.mismatches == std::vector<std::string>{"ohio/fish: redis 0, postgres 1", "texas/kitty litter: redis 12, postgres 11"});
}
