#pragma once
// What a store holds, for the ledger: how many times each record id was found.
// Ids are the generator's "<prefix><seq>" ("tx-42-1017"), so they are kept per
// prefix as a bitset over sequence numbers, as compact as the producer's
// ledger, plus the few found more than once: reading back ten million rows
// costs megabytes, not ten million strings in a map. Ids of any other shape,
// and sequence numbers no producer reached (at or past seq_limit), are kept by
// name: they cannot be in the ledger, and a bitset sized by a foreign id such
// as "order-1700000000000" would not fit in memory.
#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "etl/Ledger.h"

namespace kapture {

class StoredIds {
 public:
  explicit StoredIds(uint64_t seq_limit) : seq_limit_(seq_limit) {}

  void add(std::string_view id, int64_t times = 1);
  int64_t times(std::string_view id) const;  // 0 when never found
  int64_t rows() const { return rows_; }     // the sum of times over all ids
  int64_t distinct() const;

  // fn(prefix, seq, times) for each id of the ledger's shape, by prefix then seq.
  template <typename F>
  void for_each_sequenced(F&& fn) const {
    for (const auto& [prefix, p] : sequenced_)
      p.found.for_each(0, p.found.limit(), [&](uint64_t seq) { fn(prefix, seq, p.times(seq)); });
  }
  // fn(id, times) for every other id, in id order.
  template <typename F>
  void for_each_other(F&& fn) const {
    for (const auto& [id, n] : other_) fn(id, n);
  }

 private:
  struct Sequenced {
    SeqSet found;
    std::map<uint64_t, int64_t> extra;  // times beyond the first
    int64_t times(uint64_t seq) const {
      auto it = extra.find(seq);
      return 1 + (it == extra.end() ? 0 : it->second);
    }
  };
  // "tx-42-1017" -> "tx-42-", 1017, when that is how the id is kept.
  bool split(std::string_view id, std::string_view& prefix, uint64_t& seq) const;

  uint64_t seq_limit_;
  std::map<std::string, Sequenced, std::less<>> sequenced_;
  std::map<std::string, int64_t, std::less<>> other_;
  int64_t rows_ = 0;
};

}  // namespace kapture
