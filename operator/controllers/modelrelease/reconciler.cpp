#include "operator/controllers/modelrelease/reconciler.hpp"

#include "operator/api/modelrelease.hpp"
#include "operator/controllers/modelrelease/release_status.hpp"
#include "operator/controllers/modelrelease/workloads.hpp"
#include "operator/controllers/owner.hpp"
#include "operator/kube/errors.hpp"
#include "operator/kube/object_meta.hpp"

namespace cd4ml::controllers::modelrelease {

namespace {
// A Service write the plan needs was refused; reported in status, retried.
struct ServiceWriteError {
  std::string service;
  std::string message;
};

}  // namespace

Reconciler::Reconciler(kube::Client& client, Caches caches, runtime::EventRecorder& recorder,
                       const util::Clock& clock)
    : client_(client),
      caches_(caches),
      recorder_(recorder),
      status_writer_(client, kube::resources::kModelReleases, clock),
      clock_(clock),
      log_(runtime::Logger().with({{"controller", "modelrelease"}})) {}

Observed Reconciler::observe(const Json& release) const {
  const std::string& ns = kube::meta_string(release, "namespace");
  const api::ReleaseSpec spec = api::parse_release_spec(release);
  Observed o;
  o.release = release;
  o.now = clock_.wall_now();
  if (!spec.training_run.empty()) {
    if (auto run = caches_.training_runs.get(ns, spec.training_run)) o.training_run = *run;
  }
  for (const auto& d : caches_.deployments.by_controller_owner(kube::meta_string(release, "uid"))) {
    o.deployments.push_back(*d);
  }
  if (auto s = caches_.services.get(ns, spec.active_service)) o.active_service = *s;
  if (auto s = caches_.services.get(ns, spec.preview_service)) o.preview_service = *s;
  for (const auto& svc : caches_.services.by_controller_owner(kube::meta_string(release, "uid"))) {
    o.owned_services.push_back(*svc);
  }
  return o;
}

Reconciler::Outcome Reconciler::apply_writes(const Json& release, const Plan& plan,
                                             Observed& observed) {
  const std::string& ns = kube::meta_string(release, "namespace");
  const std::string& name = kube::meta_string(release, "name");
  const api::ReleaseSpec spec = api::parse_release_spec(release);
  const auto log = log_.with({{"namespace", ns}, {"name", name}});
  const auto scale = [&](const Scale& s) {
    client_.patch(kube::resources::kDeployments, ns, s.deployment, kube::PatchType::Merge,
                  {{"spec", {{"replicas", s.replicas}}}});
    log.info("scaled", {{"deployment", s.deployment}, {"replicas", std::to_string(s.replicas)}});
  };

  for (const auto& d : plan.create_deployments) {
    try {
      client_.create(kube::resources::kDeployments, ns, d);
      log.info("created Deployment", {{"deployment", kube::meta_string(d, "name")}});
    } catch (const kube::ApiError& e) {
      const std::string& deployment = kube::meta_string(d, "name");
      const std::string revision =
          d.value("/metadata/labels"_json_pointer, Json::object()).value("cd4ml.io/revision", "");
      if (kube::is_already_exists(e)) {
        // Ours, created before a restart and not yet in the cache: next round sees it.
        const auto live = client_.try_get(kube::resources::kDeployments, ns, deployment);
        if (!live || is_controlled_by(*live, kube::meta_string(release, "uid"))) {
          return Outcome::CacheBehind;
        }
        // Someone else's, under the name this revision needs: never touched,
        // and said in status instead of retried quietly forever.
        observed.create_failures[revision] = {
            true,
            "a Deployment of that name already exists and is not controlled by this "
            "release; it is left as it is"};
        log.warn("Deployment name taken", {{"deployment", deployment}});
        return Outcome::Replan;
      }
      // Refused (invalid template, admission webhook, quota, RBAC): the plan
      // must say so in status rather than fail silently.
      const bool permanent =
          e.kind() == kube::ErrorKind::Invalid || e.kind() == kube::ErrorKind::BadRequest;
      observed.create_failures[revision] = {permanent, e.user_message()};
      log.warn("Deployment refused", {{"deployment", deployment}, {"error", e.what()}});
      return Outcome::Replan;
    }
  }
  for (const auto& s : plan.scale_up) scale(s);
  for (const auto& w : plan.services) {
    if (w.create) {
      try {
        client_.create(kube::resources::kServices, ns, *w.create);
      } catch (const kube::ApiError& e) {
        if (!kube::is_already_exists(e)) throw ServiceWriteError{w.name, e.user_message()};
        // Not in our labelled cache: most likely someone else's Service.
        auto live = client_.try_get(kube::resources::kServices, ns, w.name);
        (w.name == spec.active_service ? observed.active_service : observed.preview_service) = live;
        return Outcome::Replan;
      }
    } else {
      Json patch = selector_patch(name, w.revision);
      if (w.ports) patch["spec"]["ports"] = *w.ports;
      const std::optional<Json>& cached =
          w.name == spec.active_service ? observed.active_service : observed.preview_service;
      try {
        const Json response =
            client_.patch(kube::resources::kServices, ns, w.name, kube::PatchType::Merge, patch);
        if (cached) service_patches_.sent(*cached, patch, response);
      } catch (const kube::ApiError& e) {
        // Gone meanwhile: the cache will say so; plain retry.
        if (kube::is_not_found(e)) throw;
        throw ServiceWriteError{w.name, e.user_message()};
      }
    }
    log.info("Service selects revision", {{"service", w.name}, {"revision", w.revision}});
  }
  for (const auto& s : plan.scale_down) scale(s);
  const std::string release_key = runtime::object_key(ns, name);
  const auto remove = [&](const kube::ResourceType& type, const std::string& object,
                          const std::vector<Json>& cached, runtime::DeleteMemo& memo) {
    try {
      client_.remove(type, ns, object, {"Background", {}, {}});
      log.info("deleted", {{"kind", type.kind}, {"object", object}});
    } catch (const kube::ApiError& e) {
      if (!kube::is_not_found(e)) throw;
    }
    for (const auto& o : cached) {
      if (kube::meta_string(o, "name") == object) memo.sent(release_key, o);
    }
  };
  for (const auto& d : plan.delete_deployments) {
    remove(kube::resources::kDeployments, d, observed.deployments, deleted_deployments_);
  }
  for (const auto& svc : plan.delete_services) {
    remove(kube::resources::kServices, svc, observed.owned_services, deleted_services_);
  }
  return Outcome::Applied;
}

runtime::Result Reconciler::reconcile(const runtime::Request& request) {
  const std::string key = runtime::object_key(request.ns, request.name);
  const runtime::ObjectPtr cached = caches_.releases.get(request.ns, request.name);
  if (!cached) {
    // Deleted: owned objects go with it.
    status_writer_.forget(key);
    deleted_deployments_.forget(key);
    deleted_services_.forget(key);
    return runtime::Result::done();
  }
  const Json& release = *cached;
  // Woken (by a Deployment or Service) before the cache shows our last status
  // write: planning now would re-decide that write's transitions and record
  // their Events again. The write's own watch event brings the release back.
  if (auto wait = status_writer_.wait_for_own_write(release)) {
    return runtime::Result::deferred(runtime::kCacheBehind, *wait);
  }

  Observed observed = observe(release);
  // Nor from objects we deleted that the cache still shows.
  deleted_deployments_.hide_deleted(key, observed.deployments);
  deleted_services_.hide_deleted(key, observed.owned_services);
  // Our own Service patches the cache does not show yet: plan from the
  // Services as the server holds them, not from the copies before the switch.
  for (auto* s : {&observed.active_service, &observed.preview_service}) {
    if (!*s) continue;
    if (auto patch = service_patches_.unseen(**s)) (*s)->merge_patch(*patch);
  }
  Plan p = plan(observed);
  // A create that met something the cache did not show (a foreign Service, a
  // refused Deployment) is fed back and planned again; bounded, as each
  // round adds what it learnt to `observed`.
  for (int round = 0;; ++round) {
    Outcome outcome = Outcome::Applied;
    try {
      outcome = apply_writes(release, p, observed);
    } catch (const ServiceWriteError& e) {
      // Say why in status (only that: the plan's status assumed the write)
      // and retry with backoff. The plan's Events are left for the retry to
      // decide again, as some describe the write that failed.
      const std::string message = "writing Service " + e.service + " failed: " + e.message;
      recorder_.record(release, "Warning", kServiceWriteFailed, message);
      const Json old_status = release.value("status", Json::object());
      const Json status = service_write_failed_status(
          old_status, release.value("/metadata/generation"_json_pointer, 0L), e.service, e.message,
          clock_.wall_now());
      if (status != old_status) status_writer_.write(release, status);
      return runtime::Result::failed(message);
    }
    if (outcome == Outcome::Applied) break;
    // The cache is behind our own create: write nothing more on this stale view.
    if (outcome == Outcome::CacheBehind || round == 2) {
      return runtime::Result::requeue_after(std::chrono::seconds(1));
    }
    p = plan(observed);
  }
  // Events now: the writes they describe have happened even if the status
  // write below meets a conflict (a retry after a conflict re-decides a
  // status-only transition and records it again; the recorder folds repeats
  // into a count).
  for (const auto& e : p.events) recorder_.record(release, e.type, e.reason, e.message);
  if (p.status) status_writer_.write(release, *p.status);
  for (const auto& [revision, failure] : observed.create_failures) {
    // Transient refusals (quota, RBAC, webhooks down) are retried with
    // backoff, and by the progress deadline at the latest, to abort there.
    if (!failure.permanent) {
      return runtime::Result::failed(failure.message,
                                     p.requeue_after.value_or(std::chrono::milliseconds::zero()));
    }
  }
  if (p.requeue_after) return runtime::Result::requeue_after(*p.requeue_after);
  return runtime::Result::done();
}

}  // namespace cd4ml::controllers::modelrelease
