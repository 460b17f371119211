#pragma once
// Percentiles of a set of measured durations, as JSON in milliseconds.

#include <chrono>
#include <nlohmann/json.hpp>
#include <vector>

namespace cd4ml::bench {

// {"count", "min", "p50", "p90", "p99", "max", "mean"}; percentiles by the
// nearest-rank method (p99 of 500 samples is the 495th smallest). An empty
// set gives {"count": 0}.
nlohmann::json summarize_ms(std::vector<std::chrono::nanoseconds> samples);

}  // namespace cd4ml::bench
