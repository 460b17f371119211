#include "operator/controllers/modelrelease/reconciler.hpp"

#include <map>

#include "operator/api/labels.hpp"
#include "operator/api/modelrelease.hpp"
#include "operator/controllers/modelrelease/release_status.hpp"
#include "operator/kube/errors.hpp"
#include "operator/kube/object_meta.hpp"

namespace cd4ml::controllers::modelrelease {

namespace {
// A create that met something the cache did not show is planned again with
// what it learnt; each round learns something, and a third one still
// stopped says the view is too stale to go on.
constexpr int kApplyRounds = 3;
// How soon to look again after a round that wrote nothing on a stale view.
constexpr std::chrono::seconds kStaleViewRetry{1};
}  // namespace

std::vector<std::string> release_of_pod(const Json& pod) {
  const Json labels = pod.value("/metadata/labels"_json_pointer, Json::object());
  const std::string release = labels.value(api::label::kRelease, "");
  if (release.empty()) return {};
  return {pod.value("/metadata/namespace"_json_pointer, std::string()) + "/" + release};
}

Reconciler::Reconciler(kube::Writer& writer, Caches caches, runtime::EventSink& events,
                       const util::Clock& clock, AnalysisAccess analysis)
    : writer_(writer),
      caches_(caches),
      events_(events),
      status_writer_(writer, kube::resources::kModelReleases, clock),
      service_patches_(clock),
      executor_(writer, {service_patches_, deleted_deployments_, deleted_services_},
                runtime::Logger().with({{"controller", "modelrelease"}})),
      clock_(clock),
      analysis_(std::move(analysis)) {
  caches_.pods.add_index(kReleasePodIndex, release_of_pod);
}

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
  if (spec.canary && !spec.canary->http_route.empty()) {
    if (auto s = caches_.services.get(ns, spec.canary->stable_service)) o.stable_service = *s;
    // Read live: a route is the user's object, changed by others, and one
    // GET per reconcile of a routed canary is cheaper than watching every
    // HTTPRoute of the cluster (nor does the operator need the Gateway API
    // installed to start).
    try {
      o.http_route = writer_.try_get(kube::resources::kHTTPRoutes, ns, spec.canary->http_route);
    } catch (const kube::ApiError& e) {
      o.http_route_error = "cannot be read: " + e.user_message();
    }
  }
  for (const auto& svc : caches_.services.by_controller_owner(kube::meta_string(release, "uid"))) {
    o.owned_services.push_back(*svc);
  }
  for (const auto& pod :
       caches_.pods.by_index(kReleasePodIndex, ns + "/" + kube::meta_string(release, "name"))) {
    o.pods.push_back(*pod);
  }
  return o;
}

bool Reconciler::measure(const Json& release, const Plan& p, Observed& observed) const {
  if (!p.analysis_due || !observed.measurements.empty()) return false;
  const api::ReleaseSpec spec = api::parse_release_spec(release);
  if (!spec.analysis) return false;
  const std::string& ns = kube::meta_string(release, "namespace");
  // Without an address every measurement is an Error saying so: no Secret
  // is read for it.
  const bool addressed = !spec.analysis->address.empty() || !analysis_.default_address.empty();
  const PromCredentials credentials =
      addressed
          ? read_prom_credentials(*spec.analysis, ns,
                                  [&](const std::string& name) {
                                    return writer_.try_get(kube::resources::kSecrets, ns, name);
                                  })
          : PromCredentials{};
  observed.measurements = take_measurements(analysis_, *spec.analysis, credentials, *p.analysis_due,
                                            {kube::meta_string(release, "name"), ns}, observed.now);
  observed.measured_revision = p.analysis_due->revision;
  observed.measured_stage = p.analysis_due->stage;
  return true;
}

void Reconciler::count_verdicts(const Json& release, const Plan& p) const {
  if (!analysis_.observer) return;
  static const std::map<std::string, std::string> kVerdicts = {
      {"AnalysisPassed", "Successful"},
      {"AnalysisFailed", "Failed"},
      {"AnalysisInconclusive", "Inconclusive"},
      {"AnalysisError", "Error"}};
  const std::string key =
      kube::meta_string(release, "namespace") + "/" + kube::meta_string(release, "name");
  for (const auto& e : p.events) {
    const auto it = kVerdicts.find(e.reason);
    if (it != kVerdicts.end()) analysis_.observer->on_analysis_verdict(key, it->second);
  }
}

runtime::Result Reconciler::report_service_refused(const Json& release,
                                                   const WriteOutcome& outcome) {
  // Only that in status: the plan's status assumed the write. The plan's
  // Events are left for the retry to decide again, as some describe the
  // write that failed.
  const std::string message = "writing Service " + outcome.service + " failed: " + outcome.message;
  events_.record(release, "Warning", kServiceWriteFailed, message);
  const Json old_status = release.value("status", Json::object());
  const Json status = service_write_failed_status(
      old_status, release.value("/metadata/generation"_json_pointer, 0L), outcome.service,
      outcome.message, clock_.wall_now());
  if (status != old_status) status_writer_.write(release, status);
  return runtime::Result::failed(message);
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
  for (auto* s : {&observed.active_service, &observed.preview_service, &observed.stable_service}) {
    if (!*s) continue;
    if (auto patch = service_patches_.unseen(**s)) (*s)->merge_patch(*patch);
  }
  Plan p = plan(observed);
  // Measured once per reconcile, at observed.now, then planned with the
  // measurements; a write conflict below loses them rather than counting
  // them twice (the retry measures again).
  if (measure(release, p, observed)) p = plan(observed);
  for (int round = 1;; ++round) {
    const WriteOutcome outcome = executor_.apply(release, p, observed);
    if (outcome.kind == WriteOutcome::Kind::Applied) break;
    if (outcome.kind == WriteOutcome::Kind::ServiceRefused) {
      return report_service_refused(release, outcome);
    }
    // The cache is behind our own create: write nothing more on this stale view.
    if (outcome.kind == WriteOutcome::Kind::CacheBehind || round == kApplyRounds) {
      return runtime::Result::requeue_after(kStaleViewRetry);
    }
    p = plan(observed);
  }
  // Events now: the writes they describe have happened even if the status
  // write below meets a conflict (a retry after a conflict re-decides a
  // status-only transition and records it again; the recorder folds repeats
  // into a count).
  for (const auto& e : p.events) events_.record(release, e.type, e.reason, e.message);
  count_verdicts(release, p);
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
