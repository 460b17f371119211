#include "operator/runtime/rate_limiter.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace cd4ml::runtime {

ItemRateLimiter::ItemRateLimiter(Options options, const util::Clock& clock)
    : options_(options), bucket_(options.qps, options.burst, clock) {}

std::chrono::nanoseconds ItemRateLimiter::when(const std::string& key) {
  int previous_failures = 0;
  {
    std::lock_guard lock(mutex_);
    int& failures = failures_[key];
    previous_failures = failures;
    // Past ~40 doublings the delay is capped anyway; stop counting before int overflows.
    if (failures < std::numeric_limits<int>::max()) ++failures;
  }
  // Computed in floating point: 5 ms * 2^n overflows 64-bit nanoseconds near n = 61.
  const double base_ns = static_cast<double>(std::chrono::nanoseconds(options_.base_delay).count());
  const double max_ns = static_cast<double>(std::chrono::nanoseconds(options_.max_delay).count());
  const double backoff_ns = std::min(base_ns * std::exp2(previous_failures), max_ns);
  const auto backoff = std::chrono::nanoseconds(static_cast<long long>(backoff_ns));
  // Every call takes a token, as client-go's bucket limiter does: a burst of
  // failures across many keys is slowed even when each key's backoff is short.
  const auto bucket = bucket_.reserve();
  return std::max(backoff, bucket);
}

void ItemRateLimiter::forget(const std::string& key) {
  std::lock_guard lock(mutex_);
  failures_.erase(key);
}

int ItemRateLimiter::failures(const std::string& key) const {
  std::lock_guard lock(mutex_);
  const auto it = failures_.find(key);
  return it == failures_.end() ? 0 : it->second;
}

}  // namespace cd4ml::runtime
