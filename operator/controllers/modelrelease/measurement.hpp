#pragma once
// One measurement of a live metric: the answers Prometheus gave for the
// candidate (and for the active revision and the sample count, when the
// metric asks for them), judged against the metric's rule. Pure: the
// queries are made by analysis_queries.hpp, the verdict over many
// measurements is analysis.hpp's.
//
// What counts as what, so that missing evidence never decides anything:
//   Error         Prometheus unreachable, timed out, refused the query, or
//                 answered with several series where one value is needed;
//   Inconclusive  no series, NaN, or fewer samples than minSamples (for
//                 compareToActive, also when the active revision has none);
//   Failed        a value outside min/max, or worse than the active one;
//   Successful    otherwise.

#include <chrono>
#include <map>
#include <optional>
#include <string>

#include "operator/api/analysis_spec.hpp"
#include "operator/kube/prometheus.hpp"

namespace cd4ml::controllers::modelrelease {

enum class MeasurementResult { Successful, Failed, Inconclusive, Error };

// Which run a measurement is for: the candidate's before its promotion, or
// the live revision's in the window after it (postPromotion).
enum class AnalysisStage { PrePromotion, PostPromotion };
const char* to_string(AnalysisStage stage);

const char* to_string(MeasurementResult result);
std::optional<MeasurementResult> measurement_result_from(const std::string& text);

struct Measurement {
  std::string metric;
  std::chrono::system_clock::time_point at;
  MeasurementResult result = MeasurementResult::Error;
  std::optional<double> value;         // the candidate's, when it had one
  std::optional<double> active_value;  // compareToActive: the active revision's
  std::optional<double> samples;       // minSamples: what its query counted
  std::string message;
};

// What {{release}}, {{namespace}}, {{revision}}, {{activeRevision}} and
// {{modelVersion}} stand for in a query.
using TemplateVars = std::map<std::string, std::string>;

// `query` with each {{name}} of `vars` replaced (spaces inside the braces
// allowed); unknown names are left as written, so Prometheus's parse error
// shows them to the user.
std::string render_query(const std::string& query, const TemplateVars& vars);

// The answers of one measurement: the candidate's query, and when the
// metric has them, the same query for the active revision and minSamples'.
struct MeasuredAnswers {
  kube::PromResult candidate;
  std::optional<kube::PromResult> active = std::nullopt;
  std::optional<kube::PromResult> samples = std::nullopt;
};

Measurement judge_measurement(const api::AnalysisMetric& metric, const MeasuredAnswers& answers,
                              std::chrono::system_clock::time_point at);

}  // namespace cd4ml::controllers::modelrelease
