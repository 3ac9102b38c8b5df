#pragma once
// Runs a scenario's Lua generator: init(params) once, then generate(seq,
// now_ms) per record, turning what it returns into value, topic and key.
#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "lua/LuaState.h"
#include "scenario/Scenario.h"

namespace kapture {

struct GeneratedRecord {
  std::string value;
  // Set instead of `value` by next_batch when Lua returned a string: the
  // bytes stay in Lua (saving a copy per record) and are valid until the
  // generator's next call.
  std::string_view borrowed;
  bool is_borrowed = false;
  std::string topic;
  std::string key;
  bool has_key = false;

  std::string_view bytes() const { return is_borrowed ? borrowed : std::string_view(value); }
};

struct GeneratorContext {
  uint64_t seed = 0;
  int worker = 0;
  int workers = 1;
};

class LuaRecordGenerator {
 public:
  // `probe` runs with the JIT off and a per-call instruction budget, which is
  // how validation catches runaway scripts (count hooks do not fire in traces).
  static Result<std::unique_ptr<LuaRecordGenerator>> create(const ProducerWorkloadSpec& spec, const GeneratorContext& ctx,
                                                            bool probe = false);

  // Fills `out`; on failure returns the error ("file:line: message").
  Status next(int64_t seq, int64_t now_ms, GeneratedRecord& out);
  // Fills out[0..n) with records seq, seq+stride, ... in one call into Lua:
  // crossing from C into Lua per record is the expensive part at high rates.
  Status next_batch(int64_t seq, int64_t stride, int64_t now_ms, std::vector<GeneratedRecord>& out, size_t n);

  // Non-zero while inside a Lua call: when it started (steady clock, ms).
  // The run's watchdog reads it from another thread.
  const std::atomic<int64_t>& busy_since_ms() const { return busy_since_ms_; }

 private:
  LuaRecordGenerator(const ProducerWorkloadSpec& spec, LuaSandbox sandbox);
  Status fill_template(const FieldTemplate& t, int record_index, std::string& out);
  // Turns the values at record_index (and key_index) into `out`; `borrow`
  // lets a string value stay in Lua (the caller keeps it referenced).
  Status convert(int record_index, int key_index, GeneratedRecord& out, bool borrow = false);

  const ProducerWorkloadSpec& spec_;
  LuaState lua_;
  std::atomic<int64_t> busy_since_ms_{0};
  std::string json_error_;
};

// Validation: load the script in probe mode and call generate() a few times.
Status probe_generator(const ProducerWorkloadSpec& spec, uint64_t seed);

}  // namespace kapture
