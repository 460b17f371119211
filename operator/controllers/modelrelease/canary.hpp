#pragma once
// Where a canary rollout stands and how its steps advance: pure, from the
// previous status.canary, the canary's Deployment and the time. The
// planner turns the outcome into the candidate's size (candidate.hpp) and
// its share of traffic (traffic.hpp).
//
// Without traffic routing a weight is a ratio of pods: the active Service
// selects the pods of both revisions, the stable revision keeps `replicas`
// pods and the canary gets the whole number of pods whose share comes
// closest to the weight (at least one). With an HTTPRoute the weight is
// written there, exactly, and the canary gets pods for its share of the
// load. Step times are kept in status, so a restart resumes the same step
// with the same pause end and deadline.

#include <chrono>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "operator/api/modelrelease.hpp"
#include "operator/api/revision_record.hpp"
#include "operator/controllers/event_spec.hpp"
#include "operator/controllers/modelrelease/candidate.hpp"

namespace cd4ml::controllers::modelrelease {

using Json = nlohmann::json;

// "5%", "0.5%", "12.25%": a weight as status and Events write it.
std::string format_percent(double weight);

// status.canary.
struct CanaryStatus {
  std::string revision;
  std::size_t step = 0;  // steps completed; the one in progress has this index
  double weight = 0;     // the share of traffic the canary has now, percent
  std::optional<api::Seconds> step_started_at;
  bool operator==(const CanaryStatus&) const = default;
};

// status.canary as read; nullopt when absent or not an object.
std::optional<CanaryStatus> canary_status_from_json(const Json& status);
Json to_json(const CanaryStatus& status);

// How a weight reaches the traffic.
enum class WeightBy {
  Pods,   // the ratio of ready pods behind the shared active Service
  Route,  // the backend weights of an HTTPRoute
};

// Canary pods for `weight` percent beside `replicas` stable ones: the count
// c whose share c / (replicas + c) is closest to the weight, at least one
// for any weight above 0, 0 for none.
int canary_replicas(double weight, int replicas);
// The pods a canary needs for `weight`: canary_replicas() by pods; by
// route, its share of the load, ceil(weight x replicas), at least one.
int canary_pods(double weight, int replicas, WeightBy by);

// The share `canary` available pods get beside `stable` ones, percent.
double pod_share(int canary, int stable);

struct CanaryStepInput {
  const api::CanaryStrategy& strategy;
  int replicas;                          // spec.replicas
  const std::string& revision;           // the canary
  const std::string& subject;            // "revision <id> (model <version>)", for Events
  std::optional<CanaryStatus> previous;  // status.canary as read
  const Json* deployment;                // the canary's; null when there is none
  bool promote_annotation;               // cd4ml.io/promote names it: pauses are skipped
  WeightBy by;
  // The weight can be written (a route that is missing or has no rule for
  // both Services cannot take one): a setWeight step is done only then.
  bool weight_settable;
  // No steps: it served before (a rollback), or nothing is live (a first
  // release has no stable revision to compare with or fall back to).
  bool skip_steps;
  std::chrono::system_clock::time_point now;
  // Live analysis (analysis_plan.hpp): the step whose analysis passed, and
  // whether missing evidence holds every step where it is.
  std::optional<std::size_t> analysis_passed_step = std::nullopt;
  bool analysis_holds = false;
};

struct CanaryStepOutcome {
  WeightBy by = WeightBy::Pods;
  CanaryStatus status;     // step and its start after this reconcile; weight set by the planner
  CanarySizing sizing;     // for the verdict
  double step_weight = 0;  // what the current step asks for (the last setWeight so far)
  // Weights of the setWeight steps reached so far, in step order: the ones
  // the canary may carry while its pods for the current step come up.
  std::vector<double> reached_weights;
  bool step_started = false;  // a step began now: its progress window opens
  std::vector<EventSpec> events;
};

CanaryStepOutcome advance_canary(const CanaryStepInput& in);

// The largest weight the canary may carry with `available` pods: a reached
// weight, at most the current step's, whose pods are all available. By
// pods, 0 once its steps are done (it scales up to take over, and carries
// nothing until the switch) or while it has more pods than its step asks
// for; by route, extra pods change nothing and the last weight holds until
// the switch.
double allowed_weight(const CanaryStepOutcome& outcome, int replicas, int available);

}  // namespace cd4ml::controllers::modelrelease
