#include "bench/cluster/duration_summary.hpp"

#include <algorithm>
#include <cmath>

namespace cd4ml::bench {

namespace {
double to_ms(std::chrono::nanoseconds d) {
  // Microsecond resolution is plenty and keeps the JSON readable.
  return std::round(static_cast<double>(d.count()) / 1e3) / 1e3;
}
}  // namespace

nlohmann::json summarize_ms(std::vector<std::chrono::nanoseconds> samples) {
  nlohmann::json out = {{"count", samples.size()}};
  if (samples.empty()) return out;
  std::sort(samples.begin(), samples.end());
  const auto rank = [&](double p) {
    const auto n = static_cast<double>(samples.size());
    const auto index = static_cast<std::size_t>(std::ceil(p / 100.0 * n));
    return samples[std::clamp<std::size_t>(index, 1, samples.size()) - 1];
  };
  std::chrono::nanoseconds total{0};
  for (const auto s : samples) total += s;
  out["min"] = to_ms(samples.front());
  out["p50"] = to_ms(rank(50));
  out["p90"] = to_ms(rank(90));
  out["p99"] = to_ms(rank(99));
  out["max"] = to_ms(samples.back());
  out["mean"] = to_ms(total / static_cast<long>(samples.size()));
  return out;
}

}  // namespace cd4ml::bench
