#pragma once
// A canary's traffic routing through a Gateway API HTTPRoute the user owns:
// its rules send requests to the stable and the canary Service, and the
// operator writes only the weights of those two backendRefs. Every other
// rule, match, filter and backend stays exactly as written, in its order.
//
// Weights are written in hundredths of a percent (canary + stable = 10000),
// so 0.5 % is 50 against 9950: any Gateway that honours backendRef weights
// splits at that ratio.

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

namespace cd4ml::controllers::modelrelease {

using Json = nlohmann::json;

inline constexpr int kRouteWeightScale = 10000;

struct RouteBackends {
  const std::string& stable;  // Service names
  const std::string& canary;
};

struct RouteView {
  std::string problem;  // why the route cannot carry a weight ("" when it can)
  double weight = 0;    // the canary's share it carries now, percent
};

// What `route` (nullopt: not found, or not readable: `read_error`) carries.
RouteView read_route(const std::string& name, const std::optional<Json>& route,
                     const std::string& read_error, const RouteBackends& backends);

// spec.rules of `route` with the canary at `weight` percent and the stable
// Service at the rest, in every rule that has both; nullopt when they say so
// already.
std::optional<Json> rules_with_weight(const Json& route, const RouteBackends& backends,
                                      double weight);

}  // namespace cd4ml::controllers::modelrelease
