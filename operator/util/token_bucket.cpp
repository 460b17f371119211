#include "operator/util/token_bucket.hpp"

#include <algorithm>

namespace cd4ml::util {

TokenBucket::TokenBucket(double qps, int burst, const Clock& clock)
    : qps_(qps),
      burst_(static_cast<double>(std::max(burst, 1))),
      clock_(clock),
      tokens_(burst_),
      last_(clock.now()) {}

void TokenBucket::refill_locked(std::chrono::steady_clock::time_point now) {
  if (now <= last_) {
    return;
  }
  const double elapsed = std::chrono::duration<double>(now - last_).count();
  tokens_ = std::min(burst_, tokens_ + elapsed * qps_);
  last_ = now;
}

std::chrono::nanoseconds TokenBucket::reserve() {
  std::lock_guard lock(mutex_);
  refill_locked(clock_.now());
  tokens_ -= 1.0;
  if (tokens_ >= 0.0 || qps_ <= 0.0) {
    return std::chrono::nanoseconds(0);
  }
  // In debt: the token we took is paid back when the deficit refills.
  return std::chrono::nanoseconds(static_cast<long long>(-tokens_ / qps_ * 1e9));
}

bool TokenBucket::try_take() {
  std::lock_guard lock(mutex_);
  refill_locked(clock_.now());
  if (tokens_ < 1.0) {
    return false;
  }
  tokens_ -= 1.0;
  return true;
}

}  // namespace cd4ml::util
