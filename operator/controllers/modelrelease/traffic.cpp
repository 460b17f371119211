#include "operator/controllers/modelrelease/traffic.hpp"

#include "operator/controllers/modelrelease/workloads.hpp"

namespace cd4ml::controllers::modelrelease {

BlueGreenTraffic decide_blue_green(const TrafficInput& in) {
  using Kind = CandidateVerdict::Kind;
  const auto verdict_is = [&in](Kind kind) {
    return in.verdict != nullptr && in.verdict->kind == kind;
  };
  const bool promote = verdict_is(Kind::Promote);
  const std::string& next = promote ? in.candidate : in.live;
  const Json* next_deployment = promote ? in.candidate_deployment : in.live_deployment;

  BlueGreenTraffic traffic;
  if (!next.empty()) {
    // A move only onto a fully available revision (also the live one, when
    // its Service is missing and comes back); otherwise the Service stays.
    const bool moves = next != in.observed_active;
    const bool available =
        next_deployment != nullptr && fully_available(*next_deployment, in.replicas);
    traffic.active = (!moves || available) ? next : in.observed_active;
  }
  // Shown while its rollout goes on and it has a ready pod; a promoted one is
  // shown in both Services; a finished one (rejected, aborted) or one whose
  // Deployment is still refused, never.
  const bool rolling_out = in.verdict != nullptr && in.verdict->rolling_out();
  const bool ready_pod =
      in.candidate_deployment != nullptr && has_ready_pod(*in.candidate_deployment);
  traffic.preview = (promote || (rolling_out && ready_pod)) ? in.candidate : next;
  return traffic;
}

CanaryTraffic decide_canary(const TrafficInput& in, const CanaryShare& share) {
  CanaryTraffic traffic{decide_blue_green(in), false};
  const bool rolling_out = in.verdict != nullptr && in.verdict->rolling_out();
  // Only beside the live revision as it stands, with no third revision's
  // pods behind the shared selector.
  if (rolling_out && share.weight > 0 && !share.other_pods && !in.live.empty() &&
      traffic.services.active == in.live) {
    traffic.services.active = kEveryRevision;
    traffic.shared = true;
  }
  return traffic;
}

}  // namespace cd4ml::controllers::modelrelease
