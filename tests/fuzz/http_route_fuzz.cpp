// A user's HTTPRoute (any JSON) and a weight: the operator's rewrite of it
// must carry that weight, to a hundredth of a percent, and change nothing but
// the weights of the stable and canary backendRefs.
//
// Input: bytes 0-1 = the weight in hundredths of a percent (mod 10001), the
// rest = the route.

#include <cmath>
#include <cstdint>
#include <cstdlib>

#include "operator/controllers/modelrelease/http_route.hpp"

using Json = nlohmann::json;
namespace mr = cd4ml::controllers::modelrelease;

namespace {

// `rules` without any backendRef weight of the two Services.
Json without_weights(Json rules, const std::string& stable, const std::string& canary) {
  if (!rules.is_array()) return rules;
  for (auto& rule : rules) {
    if (!rule.is_object() || !rule.contains("backendRefs") || !rule["backendRefs"].is_array()) {
      continue;
    }
    for (auto& ref : rule["backendRefs"]) {
      if (ref.is_object() && ref.value("name", Json()).is_string() &&
          (ref["name"] == stable || ref["name"] == canary)) {
        ref.erase("weight");
      }
    }
  }
  return rules;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  const double weight = static_cast<double>((data[0] << 8 | data[1]) % 10001) / 100;
  Json route = Json::parse(data + 2, data + size, nullptr, false);
  if (route.is_discarded() || !route.is_object()) return 0;
  const std::string stable = "stable";
  const std::string canary = "canary";
  try {
    const mr::RouteView view = mr::read_route("web", route, "", {stable, canary});
    if (!view.problem.empty()) return 0;
    const auto rules = mr::rules_with_weight(route, {stable, canary}, weight);
    if (!rules) {
      // "Nothing to write": weights in another scale give the share already.
      if (std::abs(view.weight - weight) > 0.005) std::abort();
      return 0;
    }
    const Json before = route.value("/spec/rules"_json_pointer, Json::array());
    if (without_weights(*rules, stable, canary) != without_weights(before, stable, canary)) {
      std::abort();  // something besides the two weights changed
    }
    route["spec"]["rules"] = *rules;
    // Written in hundredths of a percent out of 10000: exactly the weight.
    if (std::abs(mr::read_route("web", route, "", {stable, canary}).weight - weight) > 1e-9) {
      std::abort();
    }
  } catch (const nlohmann::json::exception&) {
    // A route the API server's schema would have refused (spec not an object,
    // a name that is not a string): refusing it is fine.
  }
  return 0;
}
