#pragma once
// Token bucket (golang.org/x/time/rate semantics): `burst` tokens, refilled at
// `qps` per second. reserve() always takes a token and says how long the
// caller must wait before using it; callers wait outside any lock.

#include <chrono>
#include <mutex>

#include "operator/util/clock.hpp"

namespace cd4ml::util {

class TokenBucket {
 public:
  TokenBucket(double qps, int burst, const Clock& clock);

  // Takes one token (possibly going into debt) and returns the wait before it
  // may be used; zero when a token was available.
  std::chrono::nanoseconds reserve();
  // Takes a token only if one is available now.
  bool try_take();

 private:
  void refill_locked(std::chrono::steady_clock::time_point now);

  double qps_;
  double burst_;
  const Clock& clock_;
  std::mutex mutex_;
  double tokens_;
  std::chrono::steady_clock::time_point last_;
};

}  // namespace cd4ml::util
