#include "operator/controllers/trainingrun/plan.hpp"

#include <algorithm>
#include <sstream>

#include "operator/api/conditions.hpp"
#include "operator/api/trainingrun.hpp"
#include "operator/controllers/owner.hpp"
#include "operator/controllers/pod_trouble.hpp"
#include "operator/controllers/trainingrun/job.hpp"
#include "operator/controllers/trainingrun/result.hpp"

namespace cd4ml::controllers::trainingrun {

namespace {

namespace cond = api::condition;
inline constexpr const char* kMetricsReported = "MetricsReported";
inline constexpr const char* kPendingMessage = "training Job created, waiting for its pod to run";
inline constexpr const char* kPodFailing = "PodFailing";

struct Context {
  const Observed& observed;
  Json status;
  long generation;
  Plan plan;

  void set(const char* type, bool value, const std::string& reason, const std::string& message) {
    api::set_condition(status["conditions"], {type, value, reason, message}, generation,
                       observed.now);
  }
  void event(const char* type, const char* reason, const std::string& message) {
    plan.events.push_back({type, reason, api::truncate_message(message)});
  }
  std::string phase() const { return status.value("phase", ""); }
};

const Json* job_condition(const Json& job, const char* type) {
  const auto status = job.find("status");
  if (status == job.end() || !status->contains("conditions")) return nullptr;
  const Json* c = api::find_condition((*status)["conditions"], type);
  return (c != nullptr && c->value("status", "") == "True") ? c : nullptr;
}

// The trainer container's status in a pod (by name, else the first container).
const Json* trainer_status(const Json& pod) {
  const Json* statuses = nullptr;
  if (auto it = pod.find("status"); it != pod.end()) {
    if (auto s = it->find("containerStatuses"); s != it->end() && s->is_array()) statuses = &*s;
  }
  if (statuses == nullptr || statuses->empty()) return nullptr;
  for (const auto& s : *statuses) {
    if (s.value("name", "") == kTrainerContainer) return &s;
  }
  return &statuses->front();
}

const Json* terminated_state(const Json& pod) {
  const Json* s = trainer_status(pod);
  if (s == nullptr) return nullptr;
  for (const char* where : {"state", "lastState"}) {
    if (auto it = s->find(where); it != s->end() && it->contains("terminated")) {
      return &(*it)["terminated"];
    }
  }
  return nullptr;
}

// The pod of `phase` whose trainer finished last.
const Json* latest_pod_in_phase(const std::vector<Json>& pods, const char* pod_phase) {
  const Json* best = nullptr;
  std::string best_time;
  for (const auto& pod : pods) {
    if (pod.value("/status/phase"_json_pointer, std::string()) != pod_phase) continue;
    const Json* t = terminated_state(pod);
    const std::string finished = t ? t->value("finishedAt", "") : "";
    if (best == nullptr || finished > best_time) {
      best = &pod;
      best_time = finished;
    }
  }
  return best;
}

void set_running_conditions(Context& c, const std::string& reason, const std::string& message) {
  c.set(cond::kReady, false, reason, message);
  c.set(cond::kReconciling, true, reason, message);
  c.set(cond::kStalled, false, reason, message);
}

void fail(Context& c, const std::string& reason, const std::string& message, const Json& failure) {
  c.status["phase"] = api::phase::kFailed;
  c.status["failure"] = failure;
  if (!c.status.contains("completionTime"))
    c.status["completionTime"] = api::rfc3339(c.observed.now);
  c.set(cond::kReady, false, reason, message);
  c.set(cond::kReconciling, false, reason, "the run has finished");
  c.set(cond::kStalled, true, reason, message);
  c.event("Warning", "Failed", reason + ": " + message);
}

void fail_job_deleted(Context& c) {
  const std::string message =
      "the Job " + c.status.value("jobName", std::string()) +
      " was deleted before the run finished; to train again, create a new TrainingRun";
  fail(c, "JobDeleted", message, {{"reason", "JobDeleted"}, {"message", message}});
}

void succeed(Context& c, const Json& job) {
  c.status["phase"] = api::phase::kSucceeded;
  c.status["completionTime"] =
      job.value("/status/completionTime"_json_pointer, api::rfc3339(c.observed.now));
  const std::string version = c.status.value("modelVersion", "");
  c.set(cond::kReady, true, "Succeeded", "model version " + version + " trained");
  c.set(cond::kReconciling, false, "Succeeded", "the run has finished");
  c.set(cond::kStalled, false, "Succeeded", "the run has finished");

  const Json* pod = latest_pod_in_phase(c.observed.pods, "Succeeded");
  const Json* terminated = pod ? terminated_state(*pod) : nullptr;
  if (terminated == nullptr) {
    const std::string message =
        "the training pod was gone before its result could be read (ttlSecondsAfterFinished "
        "too short?)";
    c.set(kMetricsReported, false, "ResultUnavailable", message);
    c.event("Warning", "ResultUnavailable", message);
    c.event("Normal", "Succeeded", "model version " + version + " trained");
    return;
  }
  auto parsed = parse_trainer_result(terminated->value("message", ""));
  if (auto* error = std::get_if<ResultError>(&parsed)) {
    c.set(kMetricsReported, false, "InvalidMetrics", error->message);
    c.event("Warning", "InvalidMetrics", error->message);
    c.event("Normal", "Succeeded", "model version " + version + " trained");
    return;
  }
  const auto& result = std::get<TrainerResult>(parsed);
  Json metrics = Json::object();
  std::ostringstream summary;
  for (const auto& [name, value] : result.metrics) {
    metrics[name] = value;
    summary << (summary.tellp() > 0 ? ", " : "") << name << "=" << value;
  }
  if (!metrics.empty()) c.status["metrics"] = metrics;
  if (!result.artifact_digest.empty()) c.status["artifactDigest"] = result.artifact_digest;
  if (!result.baseline.is_null()) c.status["baseline"] = result.baseline;
  if (metrics.empty()) {
    c.set(kMetricsReported, false, "NoMetrics", "the trainer reported no metrics");
  } else {
    c.set(kMetricsReported, true, "MetricsReported", "metrics: " + summary.str());
  }
  c.event("Normal", "Succeeded",
          "model version " + version + " trained" +
              (metrics.empty() ? std::string() : " (" + summary.str() + ")"));
}

void fail_from_job(Context& c, const Json& failed_condition) {
  const std::string reason = failed_condition.value("reason", "JobFailed");
  std::string message = failed_condition.value("message", "the training Job failed");
  Json failure = {{"reason", reason}, {"message", message}};
  if (const Json* pod = latest_pod_in_phase(c.observed.pods, "Failed")) {
    if (const Json* t = terminated_state(*pod)) {
      const int exit_code = t->value("exitCode", 0);
      const std::string container_reason = t->value("reason", "");
      const std::string container_message = t->value("message", "");
      failure["exitCode"] = exit_code;
      if (!container_reason.empty()) failure["containerReason"] = container_reason;
      message += "; container " + std::string(kTrainerContainer) + " exited with code " +
                 std::to_string(exit_code);
      if (!container_reason.empty()) message += " (" + container_reason + ")";
      if (!container_message.empty()) message += ": " + container_message;
    }
  }
  if (auto t = failed_condition.find("lastTransitionTime"); t != failed_condition.end()) {
    c.status["completionTime"] = *t;
  }
  fail(c, reason, message, failure);
}

bool any_pod_started(const std::vector<Json>& pods) {
  return std::any_of(pods.begin(), pods.end(), [](const Json& pod) {
    const std::string p = pod.value("/status/phase"_json_pointer, std::string());
    return p == "Running" || p == "Succeeded" || p == "Failed";
  });
}

// The trainer's pod cannot start or keeps crashing: the run says so in the
// kubelet's words (the Job only counts it active), told once per pod,
// container and reason.
void report_pod_trouble(Context& c) {
  std::vector<const Json*> pods;
  for (const auto& pod : c.observed.pods) pods.push_back(&pod);
  const auto trouble = find_pod_trouble(pods);
  if (!trouble) return;
  const Json old_conditions =
      c.observed.run.value("/status/conditions"_json_pointer, Json::array());
  const Json* old = api::find_condition(old_conditions, cond::kReconciling);
  const bool told =
      old != nullptr && old->value("message", "").find(trouble->key()) != std::string::npos;
  const std::string message = "the training pod is not running: " + trouble->describe();
  set_running_conditions(c, kPodFailing, message);
  if (!told) c.event("Warning", kPodFailing, message);
}

// The Job controller marks a Job finished from its pod's final state, but
// our pod cache may see the Job's condition first. Finishing the run then
// would lose the trainer's result or exit code for good (a finished run is
// never read again), so the run waits for the pod, for a bounded time: a pod
// that never reports its end (its node gone) must not hold the run forever.
constexpr std::chrono::seconds kPodCacheGrace{15};

bool pods_behind_job(const Context& c, const Json& finished_condition) {
  const bool pod_unfinished =
      std::any_of(c.observed.pods.begin(), c.observed.pods.end(), [](const Json& pod) {
        const std::string p = pod.value("/status/phase"_json_pointer, std::string());
        return p != "Succeeded" && p != "Failed";
      });
  if (!pod_unfinished) return false;
  const auto since = api::parse_rfc3339(finished_condition.value("lastTransitionTime", ""));
  return !since || c.observed.now - *since < kPodCacheGrace;
}

void track_job(Context& c, const Json& job) {
  // The Job's startTime, recorded once the run leaves Pending (recording it
  // earlier would cost a status write of its own).
  const auto record_start = [&c, &job] {
    if (auto t = job.find("status"); t != job.end() && t->contains("startTime")) {
      c.status["startTime"] = (*t)["startTime"];
    }
  };
  const Json* complete = job_condition(job, "Complete");
  const Json* failed = complete != nullptr ? nullptr : job_condition(job, "Failed");
  const Json* finished = complete != nullptr ? complete : failed;
  if (finished != nullptr && pods_behind_job(c, *finished)) {
    c.plan.recheck_after = std::chrono::seconds(1);
    return;
  }
  if (complete != nullptr) {
    record_start();
    succeed(c, job);
  } else if (failed != nullptr) {
    record_start();
    fail_from_job(c, *failed);
  } else if (job.value("/metadata/deletionTimestamp"_json_pointer, std::string()) != "") {
    fail_job_deleted(c);
  } else if (c.phase() == api::phase::kRunning || any_pod_started(c.observed.pods)) {
    if (c.phase() != api::phase::kRunning) {
      c.event("Normal", "Running", "training pod started");
    }
    record_start();
    c.status["phase"] = api::phase::kRunning;
    set_running_conditions(c, "Running", "training is running");
    report_pod_trouble(c);
  } else {
    c.status["phase"] = api::phase::kPending;
    set_running_conditions(c, "Pending", kPendingMessage);
    report_pod_trouble(c);
  }
}

}  // namespace

Plan plan(const Observed& observed) {
  const Json& run = observed.run;
  Context c{observed, run.value("status", Json::object()), 0, {}};
  if (api::is_terminal_phase(c.phase())) return {};
  c.generation = run.value("/metadata/generation"_json_pointer, 0L);

  const auto identity = api::identify(run.value("spec", Json::object()));
  c.status["fingerprint"] = identity.fingerprint;
  c.status["modelVersion"] = identity.model_version;
  c.status["modelURI"] = identity.model_uri;
  c.status["observedGeneration"] = c.generation;
  const std::string name = run.value("/metadata/name"_json_pointer, std::string());
  const std::string uid = run.value("/metadata/uid"_json_pointer, std::string());

  if (!observed.job) {
    if (!c.status.value("jobName", std::string()).empty()) {
      fail_job_deleted(c);
    } else if (observed.job_create_failure && observed.job_create_failure->permanent) {
      const std::string message =
          "the API server refused the training Job: " + observed.job_create_failure->message;
      fail(c, "JobRejected", message, {{"reason", "JobRejected"}, {"message", message}});
    } else if (observed.job_create_failure) {
      const std::string message =
          "cannot create the training Job (retrying): " + observed.job_create_failure->message;
      c.status["phase"] = api::phase::kPending;
      set_running_conditions(c, "JobCreateFailed", message);
      c.event("Warning", "JobCreateFailed", message);
    } else {
      c.plan.create_job = build_job(run, identity);
      c.status["jobName"] = name;
      c.status["phase"] = api::phase::kPending;
      set_running_conditions(c, "Pending", kPendingMessage);
      c.event("Normal", "JobCreated",
              "created Job " + name + " to train model " + run["spec"].value("model", "") +
                  " version " + identity.model_version);
    }
  } else if (!is_controlled_by(*observed.job, uid)) {
    const bool already_stalled = api::condition_is_true(c.status["conditions"], cond::kStalled);
    const std::string message = "a Job named " + name +
                                " already exists and is not controlled by this TrainingRun; "
                                "it was left untouched: delete it or rename the TrainingRun";
    if (c.phase().empty()) c.status["phase"] = api::phase::kPending;
    c.set(cond::kReady, false, "JobConflict", message);
    c.set(cond::kReconciling, false, "JobConflict", message);
    c.set(cond::kStalled, true, "JobConflict", message);
    if (!already_stalled) c.event("Warning", "JobConflict", message);
  } else {
    c.status["jobName"] = name;
    track_job(c, *observed.job);
  }

  if (c.status != run.value("status", Json::object())) c.plan.status = std::move(c.status);
  return std::move(c.plan);
}

}  // namespace cd4ml::controllers::trainingrun
