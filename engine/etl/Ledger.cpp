#include "etl/Ledger.h"

#include <bit>

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

bool ledger_seq_of(const std::string& id, uint64_t& seq) {
  size_t end = id.size();
  size_t start = end;
  while (start > 0 && id[start - 1] >= '0' && id[start - 1] <= '9') --start;
  if (start == end || end - start > 18) return false;
  seq = std::stoull(id.substr(start));
  return true;
}

LedgerReport reconcile(const AckLedger& ledger, const std::map<std::string, int64_t>& postgres_ids, const SalesByState* redis_sales,
                       const SalesByState* postgres_sales) {
  LedgerReport r;
  r.checked = true;
  r.acked = static_cast<int64_t>(ledger.acked.count());
  r.failed = static_cast<int64_t>(ledger.failed.count());
  SeqSet present;
  std::string prefix;  // how ids look, to name lost ones: "tx-42-"
  for (const auto& [id, n] : postgres_ids) {
    r.rows += n;
    uint64_t seq;
    if (!ledger_seq_of(id, seq)) {
      ++r.unexpected;
      if (r.unexpected_ids.size() < 100) r.unexpected_ids.push_back(id);
      continue;
    }
    if (prefix.empty()) prefix = id.substr(0, id.size() - std::to_string(seq).size());
    present.add(seq);
    if (n > 1) {
      ++r.duplicates;
      if (r.duplicate_ids.size() < 100) r.duplicate_ids.push_back(id);
    }
    if (!ledger.acked.contains(seq) && ledger.failed.contains(seq)) {
      // Reported failed (a timeout, a purge) yet written: in doubt, as any
      // client that gave up waiting must allow. Not an error of the system.
      ++r.failed_but_present;
    } else if (!ledger.acked.contains(seq)) {
      ++r.unexpected;
      if (r.unexpected_ids.size() < 100) r.unexpected_ids.push_back(id);
    }
  }
  for (uint64_t seq = 0; seq < ledger.acked.limit(); ++seq) {
    if (!ledger.acked.contains(seq) || present.contains(seq)) continue;
    ++r.lost;
    if (r.lost_ids.size() < 100) r.lost_ids.push_back(prefix.empty() ? "seq " + std::to_string(seq) : prefix + std::to_string(seq));
  }
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
