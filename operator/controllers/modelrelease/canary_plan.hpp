#pragma once
// The canary strategy's part of planning a release: where its weight goes
// (a share of the active Service's pods, or an HTTPRoute), its steps, the
// traffic decision with the share, status.canary, and the route's write.
// plan.cpp calls these in order; blue/green releases pass through them
// unchanged.

#include <optional>
#include <string>

#include "operator/controllers/modelrelease/analysis_plan.hpp"
#include "operator/controllers/modelrelease/canary.hpp"
#include "operator/controllers/modelrelease/candidate.hpp"
#include "operator/controllers/modelrelease/http_route.hpp"
#include "operator/controllers/modelrelease/plan_context.hpp"
#include "operator/controllers/modelrelease/revision_set.hpp"
#include "operator/controllers/modelrelease/services.hpp"
#include "operator/controllers/modelrelease/traffic.hpp"

namespace cd4ml::controllers::modelrelease {

// How a canary's weight reaches the traffic, and what its HTTPRoute carries.
struct Routing {
  WeightBy by = WeightBy::Pods;
  RouteView route;      // by route only
  std::string through;  // "Service churn" or "HTTPRoute churn", for Events
};

Routing routing_of(const Release& r);

// The canary's steps, from where status.canary left them; a new step opens
// a new progress window. Its live analysis (null: none) passes analysis
// steps and holds the steps while it lacks evidence.
CanaryStepOutcome step_canary(const Release& r, const RevisionSet& revisions,
                              const Routing& routing, api::RevisionRecord& candidate,
                              const LiveAnalysis* live);

struct TrafficDecision {
  BlueGreenTraffic services;
  bool shared = false;  // the active Service selects the canary's pods too
  double weight = 0;    // the canary's share, percent
};

// Where traffic goes: blue/green's decision, with the canary's share on top.
TrafficDecision decide_traffic(const Release& r, RevisionSet& revisions,
                               const ServiceSelections& seen, const Routing& routing,
                               const std::string& candidate, const CandidateVerdict* verdict,
                               const std::optional<CanaryStepOutcome>& steps);

// A canary losing its share: it keeps its pods for the scale-down delay,
// and while a shared active Service narrows, the candidate gets no new pods.
void end_share(const Release& r, RevisionSet& revisions, const ServiceSelections& seen,
               const Routing& routing, const TrafficDecision& decision,
               const api::RevisionRecord* candidate, Plan& plan);

// status.canary while a canary is the target, and the WeightSet Event when
// its share changes. Gone once the target is live; an aborted or rejected
// canary keeps where it got to, at weight 0.
void record_canary(const Release& r, const std::string& target, const std::string& live,
                   const api::RevisionRecord* candidate,
                   const std::optional<CanaryStepOutcome>& steps, double weight,
                   const std::string& through, Json& status, Plan& plan);

// The route's new weights, when it routes and does not carry `weight` yet.
std::optional<RouteWrite> route_write(const Release& r, const Routing& routing, double weight);

// "canary step 2 of 4, 5% of traffic" (and the route's problem) for the
// status message; a route problem is told once and looked at again.
std::string canary_note(const Release& r, const Routing& routing, const Json& status, Plan& plan);

}  // namespace cd4ml::controllers::modelrelease
