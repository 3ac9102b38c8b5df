#pragma once
// The end-to-end ledger: which acknowledged records reached the stores.
// Record ids end in the producer's sequence number ("tx-42-1017"), so the
// producer side keeps a bitset over sequence numbers (10 million records cost
// 1.25 MB) instead of a set of strings.
#include <algorithm>
#include <bit>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace kapture {

class SeqSet {
 public:
  void add(uint64_t seq);
  bool contains(uint64_t seq) const;
  void merge(const SeqSet& other);
  uint64_t count() const;
  uint64_t limit() const { return words_.size() * 64; }  // every member is below this
  // Calls fn(seq) for each member in [from, to), in increasing order.
  template <typename F>
  void for_each(uint64_t from, uint64_t to, F&& fn) const {
    to = std::min<uint64_t>(to, limit());
    for (uint64_t w = from / 64; w * 64 < to; ++w) {
      for (uint64_t bits = words_[w]; bits; bits &= bits - 1) {
        uint64_t seq = w * 64 + static_cast<uint64_t>(std::countr_zero(bits));
        if (seq >= from && seq < to) fn(seq);
      }
    }
  }

 private:
  std::vector<uint64_t> words_;
};

// One per producer thread (no locks); merged at the end.
struct AckLedger {
  SeqSet acked;
  SeqSet failed;
  void merge(const AckLedger& other) {
    acked.merge(other.acked);
    failed.merge(other.failed);
  }
  // Every sequence number the producers reported is below this.
  uint64_t seq_limit() const { return std::max(acked.limit(), failed.limit()); }
};

using SalesByState = std::map<std::string, std::map<std::string, int64_t>>;

struct LedgerReport {
  bool checked = false;
  std::string source = "postgres";  // what the acknowledged ids were checked against: postgres or kafka
  std::string skipped_because;  // when not checked
  int64_t acked = 0, failed = 0, lost = 0, duplicates = 0, unexpected = 0, aggregate_mismatches = 0;
  int64_t failed_but_present = 0;  // the producer saw a failure, yet the record arrived
  int64_t rows = 0;                       // transaction rows found in PostgreSQL (records in Kafka)
  std::vector<std::string> lost_ids;      // the first 100
  std::vector<std::string> duplicate_ids; // the first 100
  std::vector<std::string> unexpected_ids;
  std::vector<std::string> mismatches;    // "texas/kitty litter: redis 12, postgres 11"
};

class StoredIds;

// Compares what the producers say was acknowledged with what a store holds
// (PostgreSQL's transaction rows, or the records read back from Kafka), and
// Redis aggregates with the same sums over PostgreSQL rows (when given).
LedgerReport reconcile(const AckLedger& ledger, const StoredIds& stored, const SalesByState* redis_sales,
                       const SalesByState* postgres_sales);

}  // namespace kapture
