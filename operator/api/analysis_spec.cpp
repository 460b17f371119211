#include "operator/api/analysis_spec.hpp"

#include "operator/api/json_read.hpp"
#include "operator/api/modelrelease.hpp"

namespace cd4ml::api {

namespace {

using json_read::get_or;
using json_read::member;
using json_read::number;

// A limit as the CRD bounds it (minimum 0). A negative one, stored before
// that bound, would fail or pause an analysis before its first measurement.
int limit_or(const Json& object, const char* key, int fallback) {
  const int value = get_or<int>(object, key, fallback);
  return value >= 0 ? value : fallback;
}

AnalysisMetric parse_metric(const Json& m) {
  AnalysisMetric metric;
  metric.name = get_or<std::string>(m, "name", "");
  metric.query = get_or<std::string>(m, "query", "");
  metric.min = number(m, "min");
  metric.max = number(m, "max");
  metric.compare_to_active = get_or<std::string>(m, "compareToActive", "");
  metric.higher_is_better =
      get_or<std::string>(m, "direction", "HigherIsBetter") != "LowerIsBetter";
  metric.tolerance = get_or<double>(m, "tolerance", 0.0);
  const Json& samples = member(m, "minSamples");
  if (samples.is_object()) {
    const double count = get_or<double>(samples, "count", 0.0);
    metric.min_samples =
        MinSamples{get_or<std::string>(samples, "query", ""), count >= 0 ? count : 0};
  }
  metric.failure_limit = limit_or(m, "failureLimit", 0);
  metric.inconclusive_limit = limit_or(m, "inconclusiveLimit", 3);
  metric.consecutive_error_limit = limit_or(m, "consecutiveErrorLimit", 4);
  // Below 1 no measurement could ever pass: read as "not set".
  if (const int count = get_or<int>(m, "count", 0); count >= 1) metric.count = count;
  return metric;
}

// nullopt when absent or nameless (the CRD requires the name).
std::optional<SecretKeyRef> parse_secret_key_ref(const Json& ref, const std::string& default_key) {
  std::string name = get_or<std::string>(ref, "name", "");
  if (name.empty()) return std::nullopt;
  std::string key = get_or<std::string>(ref, "key", "");
  if (key.empty()) key = default_key;
  return SecretKeyRef{std::move(name), std::move(key)};
}

}  // namespace

std::optional<AnalysisSpec> parse_analysis_spec(const Json& spec) {
  const Json& analysis = member(spec, "analysis");
  const Json& metrics = member(analysis, "metrics");
  if (!metrics.is_array() || metrics.empty()) return std::nullopt;

  AnalysisSpec out;
  const Json& prometheus = member(analysis, "prometheus");
  out.address = get_or<std::string>(prometheus, "address", "");
  out.bearer_token_secret =
      parse_secret_key_ref(member(prometheus, "bearerTokenSecretRef"), "token");
  out.ca_secret = parse_secret_key_ref(member(prometheus, "caSecretRef"), "ca.crt");
  // The CRD asks for at least 1s; a 0s interval would measure in a busy
  // loop, so it keeps the default like a malformed one.
  const auto interval = parse_duration(get_or<std::string>(analysis, "interval", ""));
  if (interval && *interval >= std::chrono::seconds(1)) out.interval = *interval;
  for (const auto& m : metrics) out.metrics.push_back(parse_metric(m));
  // The CRD asks for at least 1s, as for the interval.
  const auto window =
      parse_duration(get_or<std::string>(member(analysis, "postPromotion"), "duration", ""));
  if (window && *window >= std::chrono::seconds(1)) out.post_promotion = *window;
  return out;
}

}  // namespace cd4ml::api
