#include "distributed/SampleCodec.h"

#include "metrics/Varint.h"

namespace kapture {

namespace {

void put_string(std::string& out, const std::string& s) {
  put_varint(out, s.size());
  out += s;
}

bool get_string(std::string_view& in, std::string& s) {
  uint64_t n = 0;
  if (!get_varint(in, n) || n > in.size()) return false;
  s.assign(in.substr(0, n));
  in.remove_prefix(n);
  return true;
}

// Counts of names in a sample: anything larger is garbage, not a sample.
constexpr uint64_t kMaxSeries = 100000;

}  // namespace

void encode_sample(const SecondSample& sample, std::string& out) {
  put_varint(out, sample.counters.size());
  for (const auto& [name, v] : sample.counters) {
    put_string(out, name);
    put_varint(out, zigzag(v));
  }
  put_varint(out, sample.gauges.size());
  for (const auto& [name, g] : sample.gauges) {
    put_string(out, name);
    put_double(out, g);
  }
  put_varint(out, sample.histograms.size());
  for (const auto& [name, h] : sample.histograms) {
    put_string(out, name);
    h.encode(out);
  }
}

bool decode_sample(std::string_view& in, SecondSample& out) {
  uint64_t n = 0;
  std::string name;
  if (!get_varint(in, n) || n > kMaxSeries) return false;
  for (uint64_t i = 0; i < n; ++i) {
    uint64_t v = 0;
    if (!get_string(in, name) || !get_varint(in, v)) return false;
    if (!out.counters.emplace(name, unzigzag(v)).second) return false;
  }
  if (!get_varint(in, n) || n > kMaxSeries) return false;
  for (uint64_t i = 0; i < n; ++i) {
    double g = 0;
    if (!get_string(in, name) || !get_double(in, g)) return false;
    if (!out.gauges.emplace(name, g).second) return false;
  }
  if (!get_varint(in, n) || n > kMaxSeries) return false;
  for (uint64_t i = 0; i < n; ++i) {
    SparseHistogram h;
    if (!get_string(in, name) || !SparseHistogram::decode(in, h)) return false;
    if (!out.histograms.emplace(name, h).second) return false;  // a name twice: not what encode_sample writes
  }
  return true;
}

void encode_seqs(const SeqSet& set, uint64_t from, uint64_t to, std::string& out) {
  // The first member as it is, then the gaps.
  uint64_t last = 0;
  set.for_each(from, to, [&](uint64_t seq) {
    put_varint(out, seq - last);
    last = seq;
  });
}

bool decode_seqs(std::string_view in, SeqSet& into) {
  constexpr uint64_t kMaxSeq = uint64_t{1} << 32;  // a 512 MB bitset: beyond it is garbage
  uint64_t seq = 0, gap = 0;
  for (bool first = true; !in.empty(); first = false) {
    if (!get_varint(in, gap) || (!first && gap == 0)) return false;
    seq += gap;
    if (seq >= kMaxSeq) return false;
    into.add(seq);
  }
  return true;
}

}  // namespace kapture
