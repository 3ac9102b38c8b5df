#include "workloads/ArrivalSchedule.h"

#include <cmath>

namespace kapture {

ArrivalSchedule::ArrivalSchedule(const LoadSpec& load, int64_t start_us, int64_t duration_us, int worker, int workers, uint64_t seed)
    : load_(load), start_us_(start_us), end_us_(start_us + duration_us), workers_(workers < 1 ? 1 : workers),
      k_(worker), rng_(seed ^ (0x9E3779B97F4A7C15ULL * static_cast<uint64_t>(worker + 1)) ^ static_cast<uint64_t>(start_us)) {
  done_ = false;
  if (load.kind == LoadSpec::Kind::Rate && load.rate <= 0) done_ = true;
  if (load.kind == LoadSpec::Kind::Ramp && load.from <= 0 && load.to <= 0) done_ = true;
}

// Time of global event k (seconds from the phase start), or nothing past the end.
std::optional<int64_t> ArrivalSchedule::time_of(int64_t k) const {
  double duration_s = static_cast<double>(end_us_ - start_us_) / 1e6;
  double t;
  if (load_.kind == LoadSpec::Kind::Rate) {
    t = static_cast<double>(k) / load_.rate;
  } else {
    // Rate grows linearly from a to b over D: events so far N(t) = a t + (b-a) t^2 / 2D.
    // Event k is where N(t) = k.
    double a = load_.from, b = load_.to, D = duration_s;
    double c = (b - a) / (2 * D);
    if (std::fabs(c) < 1e-12) {
      t = static_cast<double>(k) / a;
    } else {
      double disc = a * a + 4 * c * static_cast<double>(k);
      if (disc < 0) return std::nullopt;  // a falling ramp ran out of events
      t = (-a + std::sqrt(disc)) / (2 * c);
    }
  }
  if (!std::isfinite(t) || t < 0 || t >= duration_s) return std::nullopt;
  int64_t at = start_us_ + static_cast<int64_t>(std::llround(t * 1e6));
  // Less than half a microsecond before the end rounds onto it: that
  // microsecond belongs to the next phase.
  if (at >= end_us_) return std::nullopt;
  return at;
}

std::optional<int64_t> ArrivalSchedule::next() {
  if (done_ || is_max()) return std::nullopt;
  if (load_.kind == LoadSpec::Kind::Rate && load_.arrivals == Arrivals::Poisson) {
    // Each worker is an independent Poisson process at rate/workers; their
    // union is Poisson at the full rate.
    double per_worker = load_.rate / workers_;
    std::uniform_real_distribution<double> u(0.0, 1.0);
    double gap = -std::log(1.0 - u(rng_)) / per_worker;
    poisson_t_ += gap;
    int64_t t = start_us_ + static_cast<int64_t>(std::llround(poisson_t_ * 1e6));
    if (t >= end_us_) {
      done_ = true;
      return std::nullopt;
    }
    return t;
  }
  auto t = time_of(k_);
  if (!t) {
    done_ = true;
    return std::nullopt;
  }
  k_ += workers_;
  return t;
}

}  // namespace kapture
