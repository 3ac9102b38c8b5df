#include "etl/StoredIds.h"

namespace kapture {

bool StoredIds::split(std::string_view id, std::string_view& prefix, uint64_t& seq) const {
  size_t start = id.size();
  while (start > 0 && id[start - 1] >= '0' && id[start - 1] <= '9') --start;
  size_t digits = id.size() - start;
  // A leading zero would not read back as the same id.
  if (digits == 0 || digits > 18 || (digits > 1 && id[start] == '0')) return false;
  seq = 0;
  for (size_t i = start; i < id.size(); ++i) seq = seq * 10 + static_cast<uint64_t>(id[i] - '0');
  if (seq >= seq_limit_) return false;
  prefix = id.substr(0, start);
  return true;
}

void StoredIds::add(std::string_view id, int64_t times) {
  if (times <= 0) return;
  rows_ += times;
  std::string_view prefix;
  uint64_t seq = 0;
  if (!split(id, prefix, seq)) {
    auto it = other_.find(id);
    if (it == other_.end()) other_.emplace(std::string(id), times);
    else it->second += times;
    return;
  }
  auto it = sequenced_.find(prefix);
  if (it == sequenced_.end()) it = sequenced_.emplace(std::string(prefix), Sequenced{}).first;
  Sequenced& s = it->second;
  if (s.found.contains(seq)) {
    s.extra[seq] += times;
    return;
  }
  s.found.add(seq);
  if (times > 1) s.extra[seq] = times - 1;
}

int64_t StoredIds::times(std::string_view id) const {
  std::string_view prefix;
  uint64_t seq = 0;
  if (!split(id, prefix, seq)) {
    auto it = other_.find(id);
    return it == other_.end() ? 0 : it->second;
  }
  auto it = sequenced_.find(prefix);
  if (it == sequenced_.end() || !it->second.found.contains(seq)) return 0;
  return it->second.times(seq);
}

int64_t StoredIds::distinct() const {
  int64_t n = static_cast<int64_t>(other_.size());
  for (const auto& [prefix, s] : sequenced_) n += static_cast<int64_t>(s.found.count());
  return n;
}

}  // namespace kapture
