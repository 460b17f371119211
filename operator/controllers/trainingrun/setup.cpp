#include "operator/controllers/trainingrun/setup.hpp"

#include "operator/api/labels.hpp"
#include "operator/controllers/trainingrun/reconciler.hpp"

namespace cd4ml::controllers::trainingrun {

void setup(runtime::Manager& manager) {
  // Only what the operator created is cached: clusters have many Jobs and pods.
  const std::string ours = api::label::kTrainingRun;
  auto& runs = manager.informer(kube::resources::kTrainingRuns);
  auto& jobs = manager.informer(kube::resources::kJobs, ours);
  auto& pods = manager.informer(kube::resources::kPods, ours);

  auto& controller = manager.add_controller(
      "trainingrun", std::make_unique<Reconciler>(manager.writer(),
                                                  Caches{runs.store(), jobs.store(), pods.store()},
                                                  manager.recorder(), manager.clock()));
  controller.for_primary(runs);
  controller.owns(jobs, api::kTrainingRunKind);
  controller.watches(pods, [](const runtime::ObjectPtr& pod) {
    const Json& meta = (*pod)["metadata"];
    const auto labels = meta.value("labels", Json::object());
    return std::vector<runtime::Request>{
        {meta.value("namespace", ""), labels.value(api::label::kTrainingRun, "")}};
  });
}

}  // namespace cd4ml::controllers::trainingrun
