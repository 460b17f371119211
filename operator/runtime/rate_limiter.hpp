#pragma once
// Per-item retry delays for the work queue, with client-go's default numbers:
// the larger of a per-item exponential backoff (5 ms doubling to 1000 s) and
// an overall token bucket (10 qps, burst 100) shared by all items.

#include <chrono>
#include <map>
#include <mutex>
#include <string>

#include "operator/util/clock.hpp"
#include "operator/util/token_bucket.hpp"

namespace cd4ml::runtime {

class ItemRateLimiter {
 public:
  struct Options {
    std::chrono::milliseconds base_delay{5};
    std::chrono::milliseconds max_delay{1000 * 1000};
    double qps = 10.0;
    int burst = 100;
  };

  ItemRateLimiter(Options options, const util::Clock& clock);
  explicit ItemRateLimiter(const util::Clock& clock) : ItemRateLimiter(Options{}, clock) {}

  // Delay before `key` may be retried; counts one more failure for it.
  std::chrono::nanoseconds when(const std::string& key);
  // Forgets the failures of `key` (after a successful reconcile).
  void forget(const std::string& key);
  int failures(const std::string& key) const;

 private:
  Options options_;
  util::TokenBucket bucket_;
  mutable std::mutex mutex_;
  std::map<std::string, int> failures_;
};

}  // namespace cd4ml::runtime
