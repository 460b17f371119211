#pragma once
// The trainer's result, read from its container termination message:
//   {"metrics": {"<name>": <number>, ...}, "artifactDigest": "sha256:<64 hex>",
//    "baseline": {...}}
// All keys are optional; unknown keys are ignored (newer trainers may report
// more). Anything else - not JSON, not an object, over 4096 bytes, a metric
// that is not a finite number, a bad metric name or digest, a malformed
// baseline (baseline.hpp) - makes the whole result invalid: no partial
// metrics, because quality gates read them.

#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

namespace cd4ml::controllers::trainingrun {

// Kubernetes keeps at most 4096 bytes of a termination message.
inline constexpr std::size_t kMaxResultBytes = 4096;

// Metric and feature names: Prometheus-like, so gates, dashboards and label
// values can use them as they are.
bool valid_result_name(const std::string& name);
inline constexpr const char* kResultNameRule =
    "use letters, digits, '_', '.', ':' or '-' (starting with a letter or '_', at most 128 "
    "characters)";

struct TrainerResult {
  std::map<std::string, double> metrics;
  std::string artifact_digest;  // "" if not reported
  nlohmann::json baseline;      // null if not reported
};

struct ResultError {
  std::string message;  // why the result was rejected, for the condition message
};

// Returns the result, or the reason it is invalid. An empty message is a valid
// result with no metrics.
std::variant<TrainerResult, ResultError> parse_trainer_result(std::string_view message);

}  // namespace cd4ml::controllers::trainingrun
