#include "operator/controllers/modelrelease/reconciler.hpp"

#include "operator/api/modelrelease.hpp"
#include "operator/controllers/modelrelease/workloads.hpp"
#include "operator/kube/errors.hpp"

namespace cd4ml::controllers::modelrelease {

namespace {
const std::string& meta_string(const Json& object, const char* key) {
  static const std::string kEmpty;
  const auto meta = object.find("metadata");
  if (meta == object.end()) return kEmpty;
  const auto it = meta->find(key);
  return (it == meta->end() || !it->is_string()) ? kEmpty : it->get_ref<const std::string&>();
}
}  // namespace

Reconciler::Reconciler(kube::Client& client, Caches caches, runtime::EventRecorder& recorder,
                       const util::Clock& clock)
    : client_(client),
      caches_(caches),
      recorder_(recorder),
      clock_(clock),
      log_(runtime::Logger().with({{"controller", "modelrelease"}})) {}

Observed Reconciler::observe(const Json& release) const {
  const std::string& ns = meta_string(release, "namespace");
  const api::ReleaseSpec spec = api::parse_release_spec(release);
  Observed o;
  o.release = release;
  o.now = clock_.wall_now();
  if (!spec.training_run.empty()) {
    if (auto run = caches_.training_runs.get(ns, spec.training_run)) o.training_run = *run;
  }
  for (const auto& d : caches_.deployments.by_controller_owner(meta_string(release, "uid"))) {
    o.deployments.push_back(*d);
  }
  if (auto s = caches_.services.get(ns, spec.active_service)) o.active_service = *s;
  if (auto s = caches_.services.get(ns, spec.preview_service)) o.preview_service = *s;
  return o;
}

bool Reconciler::apply_writes(const Json& release, const Plan& plan, Observed& observed) {
  const std::string& ns = meta_string(release, "namespace");
  const std::string& name = meta_string(release, "name");
  const auto log = log_.with({{"namespace", ns}, {"name", name}});
  const auto scale = [&](const Scale& s) {
    client_.patch(kube::resources::kDeployments, ns, s.deployment, kube::PatchType::Merge,
                  {{"spec", {{"replicas", s.replicas}}}});
    log.info("scaled", {{"deployment", s.deployment}, {"replicas", std::to_string(s.replicas)}});
  };

  for (const auto& d : plan.create_deployments) {
    try {
      client_.create(kube::resources::kDeployments, ns, d);
      log.info("created Deployment", {{"deployment", meta_string(d, "name")}});
    } catch (const kube::ApiError& e) {
      // Ours, created before a restart and not yet in the cache: next round sees it.
      if (!kube::is_already_exists(e)) throw;
      return false;
    }
  }
  for (const auto& s : plan.scale_up) scale(s);
  for (const auto& w : plan.services) {
    if (w.create) {
      try {
        client_.create(kube::resources::kServices, ns, *w.create);
      } catch (const kube::ApiError& e) {
        if (!kube::is_already_exists(e)) throw;
        // Not in our labelled cache: most likely someone else's Service.
        auto live = client_.try_get(kube::resources::kServices, ns, w.name);
        const api::ReleaseSpec spec = api::parse_release_spec(release);
        (w.name == spec.active_service ? observed.active_service : observed.preview_service) = live;
        return false;
      }
    } else {
      client_.patch(kube::resources::kServices, ns, w.name, kube::PatchType::Merge,
                    selector_patch(name, w.revision));
    }
    log.info("Service selects revision", {{"service", w.name}, {"revision", w.revision}});
  }
  for (const auto& s : plan.scale_down) scale(s);
  for (const auto& d : plan.delete_deployments) {
    try {
      client_.remove(kube::resources::kDeployments, ns, d, {"Background", {}, {}});
      log.info("deleted Deployment", {{"deployment", d}});
    } catch (const kube::ApiError& e) {
      if (!kube::is_not_found(e)) throw;
    }
  }
  return true;
}

runtime::Result Reconciler::reconcile(const runtime::Request& request) {
  const runtime::ObjectPtr cached = caches_.releases.get(request.ns, request.name);
  if (!cached) return runtime::Result::done();  // deleted: owned objects go with it
  const Json& release = *cached;

  Observed observed = observe(release);
  Plan p = plan(observed);
  if (!apply_writes(release, p, observed)) {
    // A create met an object the cache did not show. Plan again on what the
    // server said: a foreign Service stalls the release (a status-only plan);
    // anything else means the cache is behind our own create: wait for it,
    // writing nothing more on this stale view.
    p = plan(observed);
    if (p.object_writes() > 0) return runtime::Result::requeue_after(std::chrono::seconds(1));
  }
  // Events now: the writes they describe have happened even if the status
  // write below meets a conflict (a retry that re-decides a status-only
  // transition records it again; the recorder folds repeats into a count).
  for (const auto& e : p.events) recorder_.record(release, e.type, e.reason, e.message);
  if (p.status) {
    Json updated = release;
    updated["status"] = *p.status;
    client_.update_status(kube::resources::kModelReleases, updated);
  }
  if (p.requeue_after) return runtime::Result::requeue_after(*p.requeue_after);
  return runtime::Result::done();
}

}  // namespace cd4ml::controllers::modelrelease
