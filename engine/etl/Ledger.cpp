#include "etl/Ledger.h"

#include <bit>

#include "etl/StoredIds.h"

namespace kapture {

void SeqSet::add(uint64_t seq) {
  size_t w = seq / 64;
  if (w >= words_.size()) words_.resize(std::max(w + 1, words_.size() * 2), 0);
  words_[w] |= uint64_t{1} << (seq % 64);
}

bool SeqSet::contains(uint64_t seq) const {
  size_t w = seq / 64;
  return w < words_.size() && (words_[w] >> (seq % 64)) & 1;
}

void SeqSet::merge(const SeqSet& other) {
  if (other.words_.size() > words_.size()) words_.resize(other.words_.size(), 0);
  for (size_t i = 0; i < other.words_.size(); ++i) words_[i] |= other.words_[i];
}

uint64_t SeqSet::count() const {
  uint64_t n = 0;
  for (uint64_t w : words_) n += static_cast<uint64_t>(std::popcount(w));
  return n;
}

LedgerReport reconcile(const AckLedger& ledger, const StoredIds& stored, const SalesByState* redis_sales,
                       const SalesByState* postgres_sales) {
  LedgerReport r;
  r.checked = true;
  r.acked = static_cast<int64_t>(ledger.acked.count());
  r.failed = static_cast<int64_t>(ledger.failed.count());
  r.rows = stored.rows();
  auto unexpected = [&](const std::string& id) {
    ++r.unexpected;
    if (r.unexpected_ids.size() < 100) r.unexpected_ids.push_back(id);
  };
  SeqSet present;
  std::string prefix;  // how ids look, to name lost ones: "tx-42-"
  stored.for_each_sequenced([&](const std::string& id_prefix, uint64_t seq, int64_t n) {
    if (prefix.empty()) prefix = id_prefix;
    present.add(seq);
    if (n > 1) {
      ++r.duplicates;
      if (r.duplicate_ids.size() < 100) r.duplicate_ids.push_back(id_prefix + std::to_string(seq));
    }
    if (ledger.acked.contains(seq)) return;
    // Reported failed (a timeout, a purge) yet written: in doubt, as any
    // client that gave up waiting must allow. Not an error of the system.
    if (ledger.failed.contains(seq)) ++r.failed_but_present;
    else unexpected(id_prefix + std::to_string(seq));
  });
  stored.for_each_other([&](const std::string& id, int64_t) { unexpected(id); });
  ledger.acked.for_each(0, ledger.acked.limit(), [&](uint64_t seq) {
    if (present.contains(seq)) return;
    ++r.lost;
    if (r.lost_ids.size() < 100) r.lost_ids.push_back(prefix.empty() ? "seq " + std::to_string(seq) : prefix + std::to_string(seq));
  });
  if (redis_sales && postgres_sales) {
    auto cell = [](const SalesByState& s, const std::string& state, const std::string& cat) -> int64_t {
      auto a = s.find(state);
      if (a == s.end()) return 0;
      auto b = a->second.find(cat);
      return b == a->second.end() ? 0 : b->second;
    };
    SalesByState all = *redis_sales;
    for (const auto& [state, cats] : *postgres_sales)
      for (const auto& kv : cats) all[state][kv.first];  // the union of cells
    for (const auto& [state, cats] : all) {
      for (const auto& [cat, unused] : cats) {
        (void)unused;
        int64_t rv = cell(*redis_sales, state, cat), pv = cell(*postgres_sales, state, cat);
        if (rv == pv) continue;
        ++r.aggregate_mismatches;
        if (r.mismatches.size() < 100)
          r.mismatches.push_back(state + "/" + cat + ": redis " + std::to_string(rv) + ", postgres " + std::to_string(pv));
      }
    }
  }
  return r;
}

}  // namespace kapture
