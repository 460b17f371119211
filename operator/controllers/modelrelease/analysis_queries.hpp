#pragma once
// Taking the measurements a plan asks for (Plan::analysis_due): each metric's
// query for the candidate, and for the active revision and the sample count
// when the metric has them, all at one instant, judged by measurement.hpp.
// The only part of the analysis that talks to Prometheus.

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "operator/api/analysis_spec.hpp"
#include "operator/controllers/modelrelease/analysis_credentials.hpp"
#include "operator/controllers/modelrelease/measurement.hpp"
#include "operator/controllers/modelrelease/plan.hpp"
#include "operator/kube/prometheus.hpp"

namespace cd4ml::controllers::modelrelease {

// Counts for the operator's own metrics (runtime::Metrics implements it).
class AnalysisObserver {
 public:
  virtual ~AnalysisObserver() = default;
  // release: "namespace/name"; result and verdict as status writes them.
  virtual void on_analysis_measurement(const std::string& release, const std::string& metric,
                                       const std::string& result) = 0;
  virtual void on_analysis_verdict(const std::string& release, const std::string& verdict) = 0;
};

// How the reconciler reaches Prometheus. A release's
// spec.analysis.prometheus.address wins over default_address (the
// operator's --prometheus-address).
struct AnalysisAccess {
  std::shared_ptr<kube::PromQuerier> querier;
  std::string default_address;
  std::shared_ptr<AnalysisObserver> observer;
};

struct MeasuredRelease {
  std::string name;
  std::string ns;
};

// One measurement per metric of `spec`, taken at `at`. Queries per metric:
// 1, +1 with compareToActive, +1 with minSamples. Credentials with a
// problem make every measurement an Error saying it; no query is sent.
std::vector<Measurement> take_measurements(const AnalysisAccess& access,
                                           const api::AnalysisSpec& spec,
                                           const PromCredentials& credentials,
                                           const AnalysisRequest& request,
                                           const MeasuredRelease& release,
                                           std::chrono::system_clock::time_point at);

}  // namespace cd4ml::controllers::modelrelease
