#pragma once
// Exponential backoff with jitter: the delay doubles from `initial` up to
// `max`; each returned delay is scaled by a random factor in
// [1 - jitter, 1 + jitter] and then capped at max.

#include <chrono>

#include "operator/util/random.hpp"

namespace cd4ml::util {

class ExponentialBackoff {
 public:
  struct Options {
    std::chrono::milliseconds initial{800};
    std::chrono::milliseconds max{30'000};
    double factor = 2.0;
    double jitter = 0.2;
  };

  ExponentialBackoff(Options options, Uniform01 random);

  std::chrono::milliseconds next();
  void reset();
  int attempts() const { return attempts_; }

 private:
  Options options_;
  Uniform01 random_;
  int attempts_ = 0;
};

}  // namespace cd4ml::util
