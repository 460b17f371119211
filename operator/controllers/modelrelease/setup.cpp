#include "operator/controllers/modelrelease/setup.hpp"

#include "operator/api/labels.hpp"
#include "operator/api/modelrelease.hpp"
#include "operator/controllers/modelrelease/reconciler.hpp"

namespace cd4ml::controllers::modelrelease {

namespace {

// cd4ml_analysis_measurements_total and cd4ml_analysis_verdicts_total in
// the operator's registry.
class AnalysisMetrics final : public AnalysisObserver {
 public:
  explicit AnalysisMetrics(prometheus::Registry& registry)
      : measurements_(prometheus::BuildCounter()
                          .Name("cd4ml_analysis_measurements_total")
                          .Help("Live analysis measurements by release, metric and result")
                          .Register(registry)),
        verdicts_(prometheus::BuildCounter()
                      .Name("cd4ml_analysis_verdicts_total")
                      .Help("Live analysis verdicts by release (Successful, Failed, "
                            "Inconclusive, Error)")
                      .Register(registry)) {}

  void on_analysis_measurement(const std::string& release, const std::string& metric,
                               const std::string& result) override {
    measurements_.Add({{"release", release}, {"metric", metric}, {"result", result}}).Increment();
  }
  void on_analysis_verdict(const std::string& release, const std::string& verdict) override {
    verdicts_.Add({{"release", release}, {"verdict", verdict}}).Increment();
  }

 private:
  // Family::Add is thread-safe (it locks), and these are counted once per
  // measurement interval, so no lookup cache is needed here.
  prometheus::Family<prometheus::Counter>& measurements_;
  prometheus::Family<prometheus::Counter>& verdicts_;
};

}  // namespace

void setup(runtime::Manager& manager) {
  const std::string ours = api::label::kRelease;
  auto& releases = manager.informer(kube::resources::kModelReleases);
  auto& runs = manager.informer(kube::resources::kTrainingRuns);
  auto& deployments = manager.informer(kube::resources::kDeployments, ours);
  auto& services = manager.informer(kube::resources::kServices, ours);
  // The serving pods, for the kubelet's reason when they do not come up.
  auto& pods = manager.informer(kube::resources::kPods, ours);

  releases.store().add_index(kTrainingRunIndex, [](const Json& release) {
    const std::string run = api::parse_release_spec(release).training_run;
    if (run.empty()) return std::vector<std::string>{};
    return std::vector<std::string>{
        release.value("/metadata/namespace"_json_pointer, std::string()) + "/" + run};
  });

  auto& controller = manager.add_controller(
      "modelrelease",
      std::make_unique<Reconciler>(
          manager.writer(),
          Caches{releases.store(), runs.store(), deployments.store(), services.store(),
                 pods.store()},
          manager.recorder(), manager.clock(),
          AnalysisAccess{kube::make_prom_client(), manager.options().prometheus_address,
                         std::make_shared<AnalysisMetrics>(manager.metrics().registry())}));
  controller.for_primary(releases);
  controller.owns(deployments, api::kModelReleaseKind);
  controller.owns(services, api::kModelReleaseKind);
  // Pods belong to ReplicaSets, not to the release: mapped by their label.
  controller.watches(pods, [](const runtime::ObjectPtr& pod) {
    std::vector<runtime::Request> requests;
    for (const std::string& key : release_of_pod(*pod)) {
      const auto slash = key.find('/');
      requests.push_back({key.substr(0, slash), key.substr(slash + 1)});
    }
    return requests;
  });
  controller.watches(runs, [&releases](const runtime::ObjectPtr& run) {
    const std::string key = run->value("/metadata/namespace"_json_pointer, std::string()) + "/" +
                            run->value("/metadata/name"_json_pointer, std::string());
    std::vector<runtime::Request> requests;
    for (const auto& release : releases.store().by_index(kTrainingRunIndex, key)) {
      requests.push_back({(*release)["metadata"].value("namespace", ""),
                          (*release)["metadata"].value("name", "")});
    }
    return requests;
  });
}

}  // namespace cd4ml::controllers::modelrelease
