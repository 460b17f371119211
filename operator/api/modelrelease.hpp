#pragma once
// ModelRelease spec with its defaults applied, and revision ids exactly as the
// API contract defines them.

#include <chrono>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "operator/api/analysis_spec.hpp"

namespace cd4ml::api {

using Json = nlohmann::json;

namespace release_phase {
inline constexpr const char* kPending = "Pending";
inline constexpr const char* kProgressing = "Progressing";
inline constexpr const char* kAwaitingPromotion = "AwaitingPromotion";
inline constexpr const char* kHealthy = "Healthy";
inline constexpr const char* kDegraded = "Degraded";
}  // namespace release_phase

namespace revision_state {
inline constexpr const char* kActive = "Active";
inline constexpr const char* kPreview = "Preview";
inline constexpr const char* kInactive = "Inactive";
inline constexpr const char* kRejected = "Rejected";
inline constexpr const char* kAborted = "Aborted";
}  // namespace revision_state

struct Gate {
  std::string metric;
  std::optional<double> min;
  std::optional<double> max;
  std::string compare_to_active;  // "", "NoWorse", "Better"
  double tolerance = 0;
  bool higher_is_better = true;
};

// One step of a canary rollout: exactly one of set_weight, pause and analysis.
struct CanaryStep {
  std::optional<double> set_weight;  // percent of traffic for the canary, 0-100
  bool pause = false;
  // analysis: {}: the release's analysis must pass (each metric `count`
  // Successful measurements taken in this step) before the next step.
  bool analysis = false;
  // Pause: how long; nullopt pauses until annotation cd4ml.io/promote=<revision>.
  std::optional<std::chrono::seconds> pause_duration;
};

struct CanaryStrategy {
  std::vector<CanaryStep> steps;
  // trafficRouting.gatewayAPI.httpRoute: the HTTPRoute whose backend
  // weights carry the canary's share ("" without: a ratio of pods).
  std::string http_route;
  std::string stable_service;  // a Service of the live revision alone, for the route
};

struct ReleaseSpec {
  // Exactly one model source: a TrainingRun, or uri + version (+ metrics).
  std::string training_run;
  std::string model_uri;
  std::string model_version;
  std::map<std::string, double> model_metrics;

  Json pod_template;
  int replicas = 1;
  int port = 80;
  Json target_port;  // number, name, or null (first port of the first container)
  // Set when spec.strategy.canary is; blue/green otherwise. With it,
  // preview_service names the canary Service.
  std::optional<CanaryStrategy> canary;
  bool auto_promotion = true;
  int preview_replicas = 1;
  int scale_down_delay_seconds = 30;
  std::string active_service;
  std::string preview_service;
  std::vector<Gate> gates;
  std::optional<AnalysisSpec> analysis;  // live metrics; nullopt: none
  int progress_deadline_seconds = 600;
  int revision_history_limit = 2;
};

// Reads the spec of a ModelRelease object, applying the CRD's defaults for
// anything absent (the API server applies them too; this keeps the operator
// right for objects written before a default existed).
ReleaseSpec parse_release_spec(const Json& release);

// Seconds of a duration written as in Go and Kubernetes ("90s", "10m",
// "1h30m"; whole units of h, m and s, in that order); nullopt when malformed.
std::optional<std::chrono::seconds> parse_duration(const std::string& text);

// First 10 hex characters of sha256 over the canonical JSON of
// {"modelURI", "modelVersion", "template"}: replicas and Service settings are
// not part of a revision, so scaling never creates one.
std::string revision_id(const std::string& model_version, const std::string& model_uri,
                        const Json& pod_template);

}  // namespace cd4ml::api
