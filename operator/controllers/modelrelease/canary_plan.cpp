#include "operator/controllers/modelrelease/canary_plan.hpp"

#include "operator/api/labels.hpp"
#include "operator/controllers/modelrelease/workloads.hpp"
#include "operator/kube/object_meta.hpp"

namespace cd4ml::controllers::modelrelease {

namespace {

using std::chrono::system_clock;

// Nothing watches a canary's HTTPRoute (it is read on each reconcile): one
// that cannot carry the weight is read again this often.
constexpr std::chrono::seconds kRouteRecheck{10};

// A revision other than these two that has pods: a shared active Service
// would send it requests.
bool other_revisions_have_pods(const RevisionSet& revisions, const std::string& live,
                               const std::string& canary) {
  for (const auto& [revision, deployment] : revisions.deployments) {
    if (revision != live && revision != canary && has_pods(*deployment)) return true;
  }
  return false;
}

// A canary about to take a share: revisions replaced before it (still
// within scaleDownDelaySeconds) go now, as the shared Service would
// otherwise reach them too.
void cut_short_scale_downs(RevisionSet& revisions, const std::string& live,
                           const std::string& canary, system_clock::time_point now) {
  for (auto& record : revisions.records) {
    if (record.revision != live && record.revision != canary && record.scale_down_at) {
      record.scale_down_at = std::chrono::floor<std::chrono::seconds>(now);
    }
  }
}

// "canary step 2 of 4, 5% of traffic" from status.canary as recorded.
std::string describe_canary(const api::CanaryStrategy& strategy, const Json& canary) {
  const std::size_t step = canary.value("step", std::size_t{0});
  const std::string weight = format_percent(canary.value("weight", 0.0)) + " of traffic";
  if (step >= strategy.steps.size()) return "canary steps done, " + weight;
  return "canary step " + std::to_string(step + 1) + " of " +
         std::to_string(strategy.steps.size()) + ", " + weight;
}

}  // namespace

Routing routing_of(const Release& r) {
  Routing out;
  if (!r.spec.canary) return out;
  const api::CanaryStrategy& canary = *r.spec.canary;
  out.through = "Service " + r.spec.active_service;
  if (canary.http_route.empty()) return out;
  out.by = WeightBy::Route;
  out.through = "HTTPRoute " + canary.http_route;
  out.route = read_route(canary.http_route, r.observed.http_route, r.observed.http_route_error,
                         {canary.stable_service, r.spec.preview_service});
  return out;
}

CanaryStepOutcome step_canary(const Release& r, const RevisionSet& revisions,
                              const Routing& routing, api::RevisionRecord& candidate,
                              const LiveAnalysis* live) {
  const Json annotations =
      r.observed.release.value("/metadata/annotations"_json_pointer, Json::object());
  const std::string what = subject(candidate);
  CanaryStepInput input{
      *r.spec.canary,
      r.spec.replicas,
      candidate.revision,
      what,
      canary_status_from_json(r.old_status),
      revisions.deployment(candidate.revision),
      kube::string_field(annotations, api::annotation::kPromote) == candidate.revision,
      routing.by,
      routing.route.problem.empty(),
      candidate.ever_active || revisions.live.empty(),
      r.observed.now};
  if (live != nullptr) {
    if (live->passed()) input.analysis_passed_step = live->record.step;
    input.analysis_holds = live->holds();
  }
  CanaryStepOutcome steps = advance_canary(input);
  if (steps.step_started) {
    candidate.progressing_since = std::chrono::floor<std::chrono::seconds>(r.observed.now);
  }
  return steps;
}

TrafficDecision decide_traffic(const Release& r, RevisionSet& revisions,
                               const ServiceSelections& seen, const Routing& routing,
                               const std::string& candidate, const CandidateVerdict* verdict,
                               const std::optional<CanaryStepOutcome>& steps) {
  const Json* live_deployment = revisions.deployment(revisions.live);
  const Json* candidate_deployment = revisions.deployment(candidate);
  // Narrowing a shared active Service to the live revision is not a switch.
  const std::string& observed_active = seen.active_shared ? revisions.live : seen.active;
  const TrafficInput in{revisions.live,  observed_active,      candidate,      verdict,
                        live_deployment, candidate_deployment, r.spec.replicas};
  if (!r.spec.canary) return {decide_blue_green(in)};
  const int available = candidate_deployment ? available_replicas(*candidate_deployment) : 0;
  const double allowed = steps ? allowed_weight(*steps, r.spec.replicas, available) : 0;
  if (routing.by == WeightBy::Route) {
    // Services by revision, as blue/green; the weight goes to the route,
    // while the canary rolls out beside a live revision (before the first
    // one there is no stable Service to share with) and the route can take it.
    const bool rolling_out = verdict != nullptr && verdict->rolling_out();
    const bool usable = routing.route.problem.empty();
    const bool beside_live = !revisions.live.empty();
    return {decide_blue_green(in), false, rolling_out && usable && beside_live ? allowed : 0};
  }
  const bool others = other_revisions_have_pods(revisions, revisions.live, candidate);
  if (allowed > 0 && others)
    cut_short_scale_downs(revisions, revisions.live, candidate, r.observed.now);
  const CanaryTraffic traffic = decide_canary(in, {allowed, others});
  TrafficDecision out{traffic.services, traffic.shared};
  if (traffic.shared) {
    out.weight = pod_share(available, live_deployment ? available_replicas(*live_deployment) : 0);
  }
  return out;
}

void record_canary(const Release& r, const std::string& target, const std::string& live,
                   const api::RevisionRecord* candidate,
                   const std::optional<CanaryStepOutcome>& steps, double weight,
                   const std::string& through, Json& status, Plan& plan) {
  const std::optional<CanaryStatus> old = canary_status_from_json(r.old_status);
  std::optional<CanaryStatus> now;
  if (r.spec.canary && candidate != nullptr && steps && candidate->revision != live) {
    now = steps->status;
    now->weight = candidate->state == api::RevisionState::Preview ? weight : 0;
  } else if (r.spec.canary && old && old->revision == target && target != live) {
    now = old;
    now->weight = 0;
  }
  if (!now) {
    status.erase("canary");
    return;
  }
  status["canary"] = to_json(*now);
  const double before = old && old->revision == now->revision ? old->weight : 0;
  const double after = status["canary"]["weight"].get<double>();
  if (after != before && candidate != nullptr) {
    tell(plan, {"Normal", "WeightSet",
                "canary " + subject(*candidate) + " now gets " + format_percent(after) +
                    " of the traffic of " + through});
  }
}

void end_share(const Release& r, RevisionSet& revisions, const ServiceSelections& seen,
               const Routing& routing, const TrafficDecision& decision,
               const api::RevisionRecord* candidate, Plan& plan) {
  const system_clock::time_point now = r.observed.now;
  // A share before this reconcile and none after.
  const bool had_share = seen.active_shared || routing.route.weight > 0;
  if (had_share && !decision.shared && decision.weight == 0) {
    // A canary leaving the shared Service (aborted, superseded, past its
    // deadline) keeps its pods for the scale-down delay, as a replaced
    // revision does: requests kube-proxy sent it just before finish.
    const auto old = canary_status_from_json(r.old_status);
    api::RevisionRecord* left = old ? revisions.find(old->revision) : nullptr;
    if (left != nullptr && left->revision != revisions.live &&
        left->state != api::RevisionState::Preview && !left->scale_down_at) {
      left->scale_down_at =
          scale_down_time(now, std::chrono::seconds(r.spec.scale_down_delay_seconds));
    }
  }
  if (seen.active_shared && !decision.shared && candidate != nullptr) {
    // Out of the shared selection first: pods the candidate gets now could
    // be ready before the Service narrows. The Service's own watch event
    // brings the release back.
    const std::string name = deployment_name(r.name, candidate->revision);
    std::erase_if(plan.create_deployments,
                  [&name](const Json& d) { return kube::meta_string(d, "name") == name; });
    std::erase_if(plan.scale_up, [&name](const Scale& s) { return s.deployment == name; });
    std::erase_if(plan.events, [](const EventSpec& e) { return e.reason == "RevisionCreated"; });
    requeue_at(plan, now + std::chrono::seconds(1), now);
  }
}

std::optional<RouteWrite> route_write(const Release& r, const Routing& routing, double weight) {
  if (routing.by != WeightBy::Route || !routing.route.problem.empty()) return std::nullopt;
  const Json& route = *r.observed.http_route;
  auto rules =
      rules_with_weight(route, {r.spec.canary->stable_service, r.spec.preview_service}, weight);
  if (!rules) return std::nullopt;
  return RouteWrite{r.spec.canary->http_route, kube::meta_string(route, "resourceVersion"),
                    std::move(*rules)};
}

std::string canary_note(const Release& r, const Routing& routing, const Json& status, Plan& plan) {
  if (!r.spec.canary || !status.contains("canary")) return "";
  std::string note = describe_canary(*r.spec.canary, status["canary"]);
  const std::string& problem = routing.route.problem;
  if (problem.empty()) return note;
  note += "; " + problem;
  requeue_at(plan, r.observed.now + kRouteRecheck, r.observed.now);
  // Told once per problem: the status message keeps it while it lasts.
  if (r.old_status.value("message", "").find(problem) == std::string::npos) {
    tell(plan,
         {"Warning", "RouteUnusable", problem + "; the canary gets no traffic until it is fixed"});
  }
  return note;
}

}  // namespace cd4ml::controllers::modelrelease
