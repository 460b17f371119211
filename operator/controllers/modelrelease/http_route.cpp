#include "operator/controllers/modelrelease/http_route.hpp"

#include <algorithm>
#include <cmath>

namespace cd4ml::controllers::modelrelease {

namespace {

// A backendRef to Service `name` of the route's own namespace.
bool refers_to(const Json& ref, const Json& route, const std::string& name) {
  if (!ref.is_object() || ref.value("name", "") != name) return false;
  if (!ref.value("group", std::string()).empty() || ref.value("kind", "Service") != "Service") {
    return false;
  }
  const std::string ns = route.value("/metadata/namespace"_json_pointer, std::string());
  return ref.value("namespace", ns) == ns;
}

// Indexes of the stable and canary backendRefs of a rule; -1 when absent.
struct Pair {
  int stable = -1;
  int canary = -1;
  bool complete() const { return stable >= 0 && canary >= 0; }
};

Pair find_pair(const Json& rule, const Json& route, const RouteBackends& backends) {
  Pair pair;
  const Json refs = rule.is_object() ? rule.value("backendRefs", Json::array()) : Json::array();
  for (std::size_t i = 0; i < refs.size(); ++i) {
    if (pair.stable < 0 && refers_to(refs[i], route, backends.stable)) {
      pair.stable = static_cast<int>(i);
    } else if (pair.canary < 0 && refers_to(refs[i], route, backends.canary)) {
      pair.canary = static_cast<int>(i);
    }
  }
  return pair;
}

// A backendRef's weight; the Gateway API default is 1. Held to the CRD's
// bounds, so that no route, valid or not, makes the sums below overflow.
long weight_of(const Json& ref) {
  constexpr long kMaxWeight = 1'000'000;
  const Json w = ref.value("weight", Json(1));
  return w.is_number_integer() ? std::clamp(w.get<long>(), 0L, kMaxWeight) : 1;
}

}  // namespace

RouteView read_route(const std::string& name, const std::optional<Json>& route,
                     const std::string& read_error, const RouteBackends& backends) {
  RouteView view;
  if (!route) {
    view.problem = read_error.empty() ? "HTTPRoute " + name + " not found"
                                      : "HTTPRoute " + name + " " + read_error;
    return view;
  }
  for (const auto& rule : route->value("/spec/rules"_json_pointer, Json::array())) {
    const Pair pair = find_pair(rule, *route, backends);
    if (!pair.complete()) continue;
    const Json& refs = rule["backendRefs"];
    const long canary = weight_of(refs[static_cast<std::size_t>(pair.canary)]);
    const long total = canary + weight_of(refs[static_cast<std::size_t>(pair.stable)]);
    view.weight = total > 0 ? 100.0 * static_cast<double>(canary) / static_cast<double>(total) : 0;
    return view;
  }
  view.problem = "HTTPRoute " + name + " has no rule with backendRefs to both Service " +
                 backends.stable + " and Service " + backends.canary;
  return view;
}

std::optional<Json> rules_with_weight(const Json& route, const RouteBackends& backends,
                                      double weight) {
  const long canary = std::lround(std::clamp(weight, 0.0, 100.0) * kRouteWeightScale / 100);
  Json rules = route.value("/spec/rules"_json_pointer, Json::array());
  bool changed = false;
  for (auto& rule : rules) {
    const Pair pair = find_pair(rule, route, backends);
    if (!pair.complete()) continue;
    Json& refs = rule["backendRefs"];
    Json& canary_ref = refs[static_cast<std::size_t>(pair.canary)];
    Json& stable_ref = refs[static_cast<std::size_t>(pair.stable)];
    // Weights in another scale that give the same share stay as written
    // (a route with the canary at 0 and the stable at the default 1, say).
    const long total = weight_of(canary_ref) + weight_of(stable_ref);
    const long share = total > 0 ? std::lround(static_cast<double>(weight_of(canary_ref)) *
                                               kRouteWeightScale / static_cast<double>(total))
                                 : -1;
    if (share == canary) continue;
    canary_ref["weight"] = canary;
    stable_ref["weight"] = kRouteWeightScale - canary;
    changed = true;
  }
  if (!changed) return std::nullopt;
  return rules;
}

}  // namespace cd4ml::controllers::modelrelease
