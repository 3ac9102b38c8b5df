#pragma once
// Lowercase letters and digits from the OS's entropy, for names that must
// differ between runs (a namespace, a run's Kafka topics) and stay valid
// Kubernetes and Kafka names. Not from the scenario seed: two runs with the
// same seed must not collide.
#include <random>
#include <string>

namespace kapture {

inline std::string random_suffix(int length = 6) {
  static const char digits[] = "0123456789abcdefghijklmnopqrstuvwxyz";
  std::random_device rd;
  std::string out;
  for (int i = 0; i < length; ++i) out += digits[rd() % 36];
  return out;
}

}  // namespace kapture
