#pragma once
// The bytes a distributed worker ships for what it measured: one second's
// counters, gauges and histograms (SecondSample), and a ledger's sequence
// numbers. Histograms travel as their buckets, so the coordinator merges
// them exactly (no percentile of percentiles).
#include <cstdint>
#include <string>
#include <string_view>

#include "etl/Ledger.h"
#include "metrics/MetricsStore.h"

namespace kapture {

void encode_sample(const SecondSample& sample, std::string& out);
// Takes one sample from the front of `in` into an empty `out`; false on garbage.
bool decode_sample(std::string_view& in, SecondSample& out);

// Members in increasing order as varint gaps: a worker's sequence numbers
// are an arithmetic progression per thread, so most gaps take a byte.
// `from`/`to` bound the members encoded (a large ledger goes in chunks).
void encode_seqs(const SeqSet& set, uint64_t from, uint64_t to, std::string& out);
bool decode_seqs(std::string_view in, SeqSet& into);

}  // namespace kapture
