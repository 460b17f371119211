#pragma once
// The TrainingRun controller's decision, as a pure function of what is in the
// cluster: plan(observed) -> the writes to make. No I/O here, so every rule
// below is a table-driven unit test (tests/controllers/trainingrun_plan_test.cpp).
//
// Rules:
//   - a run in a terminal phase (Succeeded, Failed) is never touched again;
//   - no Job and none ever created -> create it (phase Pending); if the API
//     server refuses it as invalid -> Failed, reason JobRejected (the spec is
//     immutable, so it never could succeed); refused otherwise (quota, RBAC,
//     webhook) -> Pending with reason JobCreateFailed, retried;
//   - no Job but status.jobName set -> Failed, reason JobDeleted (a rerun is a
//     new TrainingRun, never a silent second Job);
//   - a Job of that name not controlled by the run -> Stalled, reason
//     JobConflict; nothing is overwritten;
//   - Job Complete -> Succeeded, result read from the succeeded pod's
//     termination message (invalid -> MetricsReported=False, InvalidMetrics);
//   - Job Failed -> Failed with the Job's reason and the failing container's
//     exit code, reason and message;
//   - Job being deleted before it finished -> Failed, JobDeleted;
//   - otherwise Pending until a pod runs, then Running; phases never go back.

#include <chrono>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "operator/controllers/create_failure.hpp"
#include "operator/controllers/event_spec.hpp"

namespace cd4ml::controllers::trainingrun {

using Json = nlohmann::json;

struct Observed {
  Json run;                 // the TrainingRun
  std::optional<Json> job;  // the Job named after the run, whoever controls it
  std::vector<Json> pods;   // pods controlled by that Job
  std::chrono::system_clock::time_point now;
  // Set when this reconcile's Job create was refused by the API server.
  std::optional<CreateFailure> job_create_failure = std::nullopt;
};

using controllers::CreateFailure;
using controllers::EventSpec;

struct Plan {
  std::optional<Json> create_job;
  std::optional<Json> status;     // the whole new status, only when it changed
  std::vector<EventSpec> events;  // recorded once the Job create (if any) succeeded
  // The Job has finished but the pod cache has not seen its pod finish yet:
  // look again after this long (the pod's own update usually comes first).
  std::optional<std::chrono::seconds> recheck_after;
  bool empty() const { return !create_job && !status && events.empty() && !recheck_after; }
};

Plan plan(const Observed& observed);

}  // namespace cd4ml::controllers::trainingrun
