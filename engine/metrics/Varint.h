#pragma once
// LEB128 varints and zigzag, for the compact encodings of seconds that are
// no longer live (ColdSeconds): most counts and bucket gaps fit a byte.
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace kapture {

inline void put_varint(std::string& out, uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>(v | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

inline bool get_varint(std::string_view& in, uint64_t& v) {
  v = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    if (in.empty()) return false;
    auto b = static_cast<uint8_t>(in.front());
    in.remove_prefix(1);
    v |= static_cast<uint64_t>(b & 0x7f) << shift;
    if (!(b & 0x80)) return true;
  }
  return false;
}

inline uint64_t zigzag(int64_t v) { return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63); }
inline int64_t unzigzag(uint64_t v) { return static_cast<int64_t>(v >> 1) ^ -static_cast<int64_t>(v & 1); }

inline void put_double(std::string& out, double d) {
  char b[sizeof d];
  std::memcpy(b, &d, sizeof d);
  out.append(b, sizeof d);
}

inline bool get_double(std::string_view& in, double& d) {
  if (in.size() < sizeof d) return false;
  std::memcpy(&d, in.data(), sizeof d);
  in.remove_prefix(sizeof d);
  return true;
}

}  // namespace kapture
