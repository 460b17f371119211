#include "operator/controllers/trainingrun/reconciler.hpp"

#include "operator/api/conditions.hpp"
#include "operator/api/trainingrun.hpp"
#include "operator/controllers/trainingrun/job.hpp"
#include "operator/kube/errors.hpp"

namespace cd4ml::controllers::trainingrun {

namespace {
// A Job of the run's name that is not ours is invisible to the labelled Job
// cache, so nothing wakes the run when it goes away: look again this often.
constexpr auto kConflictRecheck = std::chrono::seconds(30);
}  // namespace

Reconciler::Reconciler(kube::Writer& writer, Caches caches, runtime::EventSink& events,
                       const util::Clock& clock)
    : writer_(writer),
      caches_(caches),
      events_(events),
      status_writer_(writer, kube::resources::kTrainingRuns, clock),
      clock_(clock),
      log_(runtime::Logger().with({{"controller", "trainingrun"}})) {}

Observed Reconciler::observe(const Json& run, std::optional<Json> job) const {
  Observed observed{run, std::move(job), {}, clock_.wall_now(), std::nullopt};
  if (observed.job) {
    const std::string job_uid = (*observed.job)["metadata"].value("uid", "");
    for (const auto& pod : caches_.pods.by_controller_owner(job_uid)) {
      observed.pods.push_back(*pod);
    }
  }
  return observed;
}

runtime::Result Reconciler::reconcile(const runtime::Request& request) {
  const runtime::ObjectPtr cached = caches_.runs.get(request.ns, request.name);
  if (!cached) {
    // Deleted; its Job goes with it (ownerReference).
    status_writer_.forget(runtime::object_key(request.ns, request.name));
    return runtime::Result::done();
  }
  const Json& run = *cached;
  if (api::is_terminal_phase(run.value("/status/phase"_json_pointer, std::string()))) {
    status_writer_.forget(runtime::object_key(request.ns, request.name));
    return runtime::Result::done();
  }
  // Woken (by its Job or pod) before the cache shows our last status write:
  // planning now would re-decide that write's transition and record its
  // Event a second time. The write's own watch event brings the run back.
  if (auto wait = status_writer_.wait_for_own_write(run)) {
    return runtime::Result::deferred(runtime::kCacheBehind, *wait);
  }
  const auto log = log_.with({{"namespace", request.ns}, {"name", request.name}});

  std::optional<Json> job;
  if (auto cached_job = caches_.jobs.get(request.ns, request.name)) job = *cached_job;
  if (!job && !run.value("/status/jobName"_json_pointer, std::string()).empty()) {
    job = writer_.try_get(kube::resources::kJobs, request.ns, request.name);
  }

  Plan p = plan(observe(run, std::move(job)));
  std::optional<CreateFailure> failure;
  if (p.create_job) {
    try {
      writer_.create(kube::resources::kJobs, request.ns, *p.create_job);
      log.info("created training Job", {{"job", request.name}});
    } catch (const kube::ApiError& e) {
      if (kube::is_already_exists(e)) {
        // Not in our cache: either our own create the cache has not seen yet,
        // or someone else's Job. Decide on the live object.
        p = plan(observe(run, writer_.try_get(kube::resources::kJobs, request.ns, request.name)));
        if (p.create_job) return runtime::Result::requeue_after(std::chrono::seconds(1));
      } else {
        // Refused: say why in status (and fail the run if it can never work).
        log.warn("training Job refused", {{"error", e.what()}});
        failure = CreateFailure{
            e.kind() == kube::ErrorKind::Invalid || e.kind() == kube::ErrorKind::BadRequest,
            e.user_message()};
        Observed again = observe(run, std::nullopt);
        again.job_create_failure = failure;
        p = plan(again);
      }
    }
  }
  // Events before the status write: see the ModelRelease reconciler.
  for (const auto& e : p.events) events_.record(run, e.type, e.reason, e.message);
  if (p.status) {
    // A PUT with a resourceVersion: if the run changed meanwhile the server
    // answers 409 and the key is retried on fresh data, so a stale cache can
    // never overwrite a newer phase (see runtime/status_writes.hpp).
    if (status_writer_.write(run, *p.status)) {
      const std::string before = run.value("/status/phase"_json_pointer, std::string());
      const std::string after = p.status->value("phase", "");
      if (before != after) log.info("phase changed", {{"from", before}, {"to", after}});
    }
  }

  if (failure && !failure->permanent) return runtime::Result::failed(failure->message);
  if (p.recheck_after) return runtime::Result::requeue_after(*p.recheck_after);
  const Json status = p.status ? *p.status : run.value("status", Json::object());
  const Json* stalled = status.contains("conditions")
                            ? api::find_condition(status["conditions"], api::condition::kStalled)
                            : nullptr;
  if (stalled != nullptr && stalled->value("reason", "") == "JobConflict") {
    return runtime::Result::requeue_after(kConflictRecheck);
  }
  return runtime::Result::done();
}

}  // namespace cd4ml::controllers::trainingrun
