#include "operator/controllers/modelrelease/setup.hpp"

#include "operator/api/labels.hpp"
#include "operator/api/modelrelease.hpp"
#include "operator/controllers/modelrelease/reconciler.hpp"

namespace cd4ml::controllers::modelrelease {

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
      std::make_unique<Reconciler>(manager.writer(),
                                   Caches{releases.store(), runs.store(), deployments.store(),
                                          services.store(), pods.store()},
                                   manager.recorder(), manager.clock()));
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
