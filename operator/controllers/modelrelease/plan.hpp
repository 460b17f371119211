#pragma once
// The ModelRelease controller's decision, as a pure function of what is in the
// cluster: plan(observed) -> writes. The executor applies them in the order
// the fields appear below, so a Service never selects a revision before its
// pods are up, and a revision is never scaled down while a Service selects it.
//
// Truth comes from the cluster: the active Service's selector says which
// revision is live (so a restart between a switch and its status write loses
// nothing); status keeps only what the cluster cannot show (creation and
// promotion times, gate results, rejections, pending scale-downs).
//
// plan() runs these steps, each a pure function in its own file:
//   revision_set  records from status, repaired from the cluster;
//   target        the revision spec asks for, its record, superseded others;
//   candidate     the verdict on that revision (rules 3 and 4);
//   traffic       which revision each Service selects (rules 1 and 2);
//   history       scale-downs after the delay, pruning (rule 5);
//   services, release_status  the Service writes and the new status.
//
// The safety rules (docs/concepts.md, "The safety rules and how each is
// kept"; fields and Events in docs/api-reference.md), each tested in
// tests/controllers/modelrelease_plan_test.cpp:
//   1. the active Service selects only a fully available revision;
//   2. the preview Service moves to a revision only once it has a ready pod
//      (and moves back to the active one if the candidate loses them all);
//   3. a candidate failing its gates is Rejected before any pod starts;
//   4. a candidate not available within progressDeadlineSeconds is Aborted;
//   5. the old active revision is scaled down scaleDownDelaySeconds after the
//      switch; revisionHistoryLimit old revisions stay at 0 for fast rollback;
//   6. the newest spec wins; abandoned candidates are scaled down.

#include <chrono>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "operator/controllers/create_failure.hpp"
#include "operator/controllers/event_spec.hpp"
#include "operator/controllers/modelrelease/measurement.hpp"

namespace cd4ml::controllers::modelrelease {

using Json = nlohmann::json;

using controllers::CreateFailure;

struct Observed {
  Json release;
  std::optional<Json> training_run;     // the referenced TrainingRun, if any
  std::vector<Json> deployments;        // Deployments controlled by the release
  std::optional<Json> active_service;   // Services of the configured names,
  std::optional<Json> preview_service;  // whoever controls them (a canary's: canaryService)
  std::optional<Json> stable_service;   // a canary's with an HTTPRoute
  // The canary's HTTPRoute, read live (nullopt: not found, or unreadable and
  // then http_route_error says why).
  std::optional<Json> http_route;
  std::string http_route_error;
  std::vector<Json> owned_services;  // every Service the release controls
  // Pods labelled with the release's name: why a revision's pods do not come
  // up (the kubelet's reason) is only on them.
  std::vector<Json> pods;
  // Deployment creates refused in this reconcile, by revision.
  std::map<std::string, CreateFailure> create_failures;
  // Live analysis measurements taken in this reconcile (the plan asked for
  // them through Plan::analysis_due), of `measured_revision`.
  std::vector<Measurement> measurements;
  std::string measured_revision;
  AnalysisStage measured_stage = AnalysisStage::PrePromotion;
  std::chrono::system_clock::time_point now;
};

// What to measure now: the analysis metrics of `revision` (a candidate, or
// after its promotion the live revision), each query also for
// `active_revision` when a metric compares with it (after a promotion, the
// revision it replaced, as it measured at `baseline_at`: the switch).
struct AnalysisRequest {
  std::string revision;
  std::string model_version;
  std::string active_revision;
  std::string active_model_version;
  AnalysisStage stage = AnalysisStage::PrePromotion;
  std::optional<std::chrono::system_clock::time_point> baseline_at;
};

struct Scale {
  std::string deployment;
  int replicas;
  bool operator==(const Scale&) const = default;
};

struct ServiceWrite {
  std::string name;
  std::string revision;
  std::optional<Json> create;  // the whole Service when it does not exist yet
  std::optional<Json> ports;   // new spec.ports when spec.service changed
};

// New spec.rules for the canary's HTTPRoute, sent with the resourceVersion
// they were computed from (a route changed meanwhile is refused and read again).
struct RouteWrite {
  std::string name;
  std::string resource_version;
  Json rules;
};

struct Plan {
  std::vector<Json> create_deployments;
  std::vector<Scale> scale_up;
  std::vector<ServiceWrite> services;
  std::optional<RouteWrite> route;  // after the Services: the canary Service is in place first
  std::vector<Scale> scale_down;
  std::vector<std::string> delete_deployments;
  std::vector<std::string> delete_services;  // owned Services no longer named in spec
  std::optional<Json> status;                // the whole new status, only when it changed
  std::vector<EventSpec> events;
  std::optional<std::chrono::milliseconds> requeue_after;
  // Set when a measurement is due: the caller measures and plans again with
  // Observed::measurements (the plan itself makes no calls).
  std::optional<AnalysisRequest> analysis_due;

  // Writes to objects other than the release's own status.
  std::size_t object_writes() const {
    return create_deployments.size() + scale_up.size() + services.size() + (route ? 1 : 0) +
           scale_down.size() + delete_deployments.size() + delete_services.size();
  }
};

Plan plan(const Observed& observed);

}  // namespace cd4ml::controllers::modelrelease
