#include "operator/util/backoff.hpp"

#include <algorithm>
#include <cmath>

namespace cd4ml::util {

ExponentialBackoff::ExponentialBackoff(Options options, Uniform01 random)
    : options_(options), random_(std::move(random)) {}

std::chrono::milliseconds ExponentialBackoff::next() {
  const double base = static_cast<double>(options_.initial.count()) *
                      std::pow(options_.factor, static_cast<double>(attempts_));
  const double capped = std::min(base, static_cast<double>(options_.max.count()));
  // Stop growing the exponent once capped, so it cannot overflow.
  if (base < static_cast<double>(options_.max.count())) {
    ++attempts_;
  }
  const double factor = 1.0 + options_.jitter * (2.0 * random_() - 1.0);
  const double jittered = std::min(capped * factor, static_cast<double>(options_.max.count()));
  return std::chrono::milliseconds(static_cast<long long>(std::max(0.0, jittered)));
}

void ExponentialBackoff::reset() {
  attempts_ = 0;
}

}  // namespace cd4ml::util
