#pragma once
// ModelRelease spec.analysis: how a candidate is judged on live metrics from
// Prometheus, with the CRD's defaults applied. The vocabulary is the offline
// gates' (min, max, compareToActive, direction, tolerance), so a user who
// wrote gates can read an analysis.

#include <chrono>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace cd4ml::api {

// The same alias as modelrelease.hpp's, so this header stands on its own.
using Json = nlohmann::json;

// Fewer samples than `count` behind a measurement make it Inconclusive.
struct MinSamples {
  std::string query;  // templated like the metric's query; one value
  double count = 0;
};

struct AnalysisMetric {
  std::string name;
  std::string query;  // PromQL with {{release}}, {{namespace}}, {{revision}}, ...
  std::optional<double> min;
  std::optional<double> max;
  std::string compare_to_active;  // "", "NoWorse", "Better"
  bool higher_is_better = true;   // direction, for compareToActive
  double tolerance = 0;           // for compareToActive, absolute
  std::optional<MinSamples> min_samples;
  int failure_limit = 0;            // more Failed measurements than this: the analysis fails
  int inconclusive_limit = 3;       // more consecutive Inconclusive ones: the release pauses
  int consecutive_error_limit = 4;  // more consecutive Error ones: the release pauses
  // Successful measurements that pass an analysis step or a blue/green
  // pre-promotion analysis (background analysis runs until its step ends).
  std::optional<int> count;
};

// One key of a Secret in the release's namespace.
struct SecretKeyRef {
  std::string name;
  std::string key;
};

struct AnalysisSpec {
  std::string address;  // Prometheus base URL; "" = the operator's --prometheus-address
  // prometheus.bearerTokenSecretRef (key default "token") and
  // prometheus.caSecretRef (key default "ca.crt"): read when a measurement
  // is taken, so a rotated Secret is used from the next one.
  std::optional<SecretKeyRef> bearer_token_secret;
  std::optional<SecretKeyRef> ca_secret;
  std::chrono::seconds interval{30};
  std::vector<AnalysisMetric> metrics;
  // postPromotion.duration: how long the metrics keep being measured after
  // a switch, with the previous revision kept running to switch back to;
  // nullopt: no analysis after promotion.
  std::optional<std::chrono::seconds> post_promotion;
};

// spec.analysis of a ModelRelease's spec object, with the CRD's defaults
// applied (nullopt when absent or with no metrics). Malformed members read as
// their defaults: it never throws.
std::optional<AnalysisSpec> parse_analysis_spec(const Json& spec);

}  // namespace cd4ml::api
