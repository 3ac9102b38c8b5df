#pragma once
// An ETL transform in Lua: transform(record) returns the record to write
// (the same table changed, or a new one) or nil to drop it.
#include <atomic>
#include <memory>
#include <optional>

#include <nlohmann/json.hpp>

#include "lua/LuaState.h"
#include "scenario/Scenario.h"

namespace kapture {

class LuaTransform {
 public:
  static Result<std::unique_ptr<LuaTransform>> create(const GeneratorSpec& spec, const std::vector<std::string>& allow, uint64_t seed,
                                                      int worker, bool probe = false);
  // nullopt: the transform dropped the record.
  Result<std::optional<nlohmann::json>> apply(const nlohmann::json& record);
  const std::atomic<int64_t>& busy_since_ms() const { return busy_since_ms_; }

 private:
  LuaTransform(const GeneratorSpec& spec, LuaSandbox sandbox) : spec_(spec), lua_(sandbox) {}
  const GeneratorSpec& spec_;
  LuaState lua_;
  std::atomic<int64_t> busy_since_ms_{0};
};

Status probe_transform(const GeneratorSpec& spec, const std::vector<std::string>& allow, uint64_t seed);

}  // namespace kapture
