#pragma once
// Which revision each Service selects: the traffic decision, in one place
// and as a value. Safety rules 1 and 2 are decided here and nowhere else;
// the Service writes only carry the value out.
//
// One struct per rollout strategy. Blue/green moves whole Services; a canary
// strategy adds its own (stable, canary, weight) and its own decide function
// beside this one, and plan() picks one by spec.strategy.

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

}  // namespace cd4ml::controllers::modelrelease
