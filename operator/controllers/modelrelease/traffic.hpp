#pragma once
// Which revision each Service selects: the traffic decision, in one place
// and as a value. Safety rules 1 and 2 are decided here and nowhere else;
// the Service writes only carry the value out.
//
// One decision per rollout strategy: blue/green moves whole Services; a
// canary shares the active Service between two revisions by pods.

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "operator/controllers/modelrelease/candidate.hpp"

namespace cd4ml::controllers::modelrelease {

using Json = nlohmann::json;

struct BlueGreenTraffic {
  // What the active Service selects; nullopt while nothing is live (the
  // Service is then neither created nor touched).
  std::optional<std::string> active;
  std::string preview;  // "" selects nothing
  bool operator==(const BlueGreenTraffic&) const = default;
};

struct TrafficInput {
  const std::string& live;             // the active revision as recorded ("" when none)
  const std::string& observed_active;  // what the active Service selects now
  const std::string& candidate;        // "" when there is none
  const CandidateVerdict* verdict;     // the candidate's; null when there is none
  const Json* live_deployment;         // null when it has none
  const Json* candidate_deployment;
  int replicas;  // spec.replicas
};

// Rule 1: the active Service moves only to a fully available revision (the
// candidate that is ready to go live, or a live revision whose Service is
// missing); otherwise it keeps what it selects. Rule 2: the preview Service
// shows the candidate once it has a ready pod, else the live revision.
BlueGreenTraffic decide_blue_green(const TrafficInput& in);

// A canary without traffic routing: the blue/green decision, except that
// while the canary rolls out with a weight allowed by its available pods,
// the active Service selects every serving pod of the release (stable and
// canary) instead of the live revision's alone. The canary Service is the
// preview one (rule 2). Leaving the shared selection back to the live
// revision is always allowed: it narrows to pods that already serve.
struct CanaryTraffic {
  BlueGreenTraffic services;  // active is kEveryRevision while shared
  bool shared = false;
};

struct CanaryShare {
  double weight;    // allowed_weight() of the canary's available pods
  bool other_pods;  // a revision other than the live one and the canary has pods
};

CanaryTraffic decide_canary(const TrafficInput& in, const CanaryShare& share);

}  // namespace cd4ml::controllers::modelrelease
