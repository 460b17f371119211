#pragma once
// Randomness as a dependency (jitter, randomized watch timeouts), so tests can
// fix the sequence.

#include <functional>

namespace cd4ml::util {

// Returns a value uniformly distributed in [0, 1).
using Uniform01 = std::function<double()>;

// A thread-safe generator seeded from std::random_device.
Uniform01 default_random();

}  // namespace cd4ml::util
