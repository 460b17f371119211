#pragma once
// The trainer's baseline: the training data's distribution of each feature
// and of the prediction, kept in the run's status for drift detection.
//   {"samples": <count>,
//    "features": {"<name>": {"edges": [e1, ...], "fractions": [f0, ..., fn]}, ...},
//    "prediction": {"edges": [...], "fractions": [...]}}
// Buckets follow Prometheus `le`: fraction i covers (edges[i-1], edges[i]],
// the last one (edges[n-1], +Inf), so a server can count live values into
// histograms with exactly these upper bounds.

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

namespace cd4ml::controllers::trainingrun {

// Upper bounds per histogram: beyond this, drift statistics gain nothing and
// a Prometheus histogram costs a series per bucket.
inline constexpr std::size_t kMaxBaselineEdges = 64;

// Why the baseline is unusable, or nullopt when it is a valid one.
std::optional<std::string> baseline_error(const nlohmann::json& baseline);

}  // namespace cd4ml::controllers::trainingrun
