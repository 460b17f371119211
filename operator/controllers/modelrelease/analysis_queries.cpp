#include "operator/controllers/modelrelease/analysis_queries.hpp"

namespace cd4ml::controllers::modelrelease {

namespace {

TemplateVars vars_for(const MeasuredRelease& release, const AnalysisRequest& request,
                      const std::string& revision, const std::string& model_version) {
  return {{"release", release.name},
          {"namespace", release.ns},
          {"revision", revision},
          {"activeRevision", request.active_revision},
          {"modelVersion", model_version}};
}

Measurement cannot_measure(const api::AnalysisMetric& metric,
                           std::chrono::system_clock::time_point at, std::string why) {
  Measurement m;
  m.metric = metric.name;
  m.at = at;
  m.result = MeasurementResult::Error;
  m.message = std::move(why);
  return m;
}

}  // namespace

std::vector<Measurement> take_measurements(const AnalysisAccess& access,
                                           const api::AnalysisSpec& spec,
                                           const PromCredentials& credentials,
                                           const AnalysisRequest& request,
                                           const MeasuredRelease& release,
                                           std::chrono::system_clock::time_point at) {
  const kube::PromEndpoint endpoint{spec.address.empty() ? access.default_address : spec.address,
                                    credentials.bearer_token, credentials.ca_pem};
  const TemplateVars candidate =
      vars_for(release, request, request.revision, request.model_version);
  const TemplateVars active =
      vars_for(release, request, request.active_revision, request.active_model_version);
  std::vector<Measurement> out;
  for (const auto& metric : spec.metrics) {
    if (endpoint.address.empty()) {
      out.push_back(cannot_measure(metric, at,
                                   "no Prometheus address: set spec.analysis.prometheus.address "
                                   "or the operator's --prometheus-address"));
    } else if (!credentials.problem.empty()) {
      out.push_back(cannot_measure(metric, at, credentials.problem));
    } else if (!access.querier) {
      out.push_back(cannot_measure(metric, at, "this operator has no Prometheus client"));
    } else {
      kube::PromQuerier& prom = *access.querier;
      MeasuredAnswers answers{prom.query(endpoint, render_query(metric.query, candidate), at),
                              std::nullopt, std::nullopt};
      // The other queries only when the first one was answered: an
      // unreachable Prometheus is not asked three times per metric.
      if (answers.candidate.ok && metric.min_samples) {
        answers.samples =
            prom.query(endpoint, render_query(metric.min_samples->query, candidate), at);
      }
      if (answers.candidate.ok && !metric.compare_to_active.empty()) {
        answers.active = prom.query(endpoint, render_query(metric.query, active),
                                    request.baseline_at.value_or(at));
      }
      out.push_back(judge_measurement(metric, answers, at));
    }
    if (access.observer) {
      access.observer->on_analysis_measurement(release.ns + "/" + release.name, metric.name,
                                               to_string(out.back().result));
    }
  }
  return out;
}

}  // namespace cd4ml::controllers::modelrelease
