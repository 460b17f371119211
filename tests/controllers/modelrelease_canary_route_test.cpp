// The canary strategy with trafficRouting.gatewayAPI: the user's HTTPRoute
// carries the canary's weight in hundredths of a percent, the operator
// touches nothing of it but the two weights, and the Services select one
// revision each as in blue/green. The sim (modelrelease_sim.hpp) checks after
// every step that the route carries exactly what status.canary says, never
// more than the step reached, and only to a canary with the pods for it.

#include <gtest/gtest.h>

#include "modelrelease_sim.hpp"
#include "operator/controllers/modelrelease/canary.hpp"
#include "operator/controllers/modelrelease/http_route.hpp"

namespace cd4ml::controllers::modelrelease {
namespace {

using sim::canary_status;
using sim::Cluster;
using sim::first_release;
using sim::revision_for;
using sim::start_canary;
using std::chrono::seconds;

const std::string kStable = "churn-stable";
const std::string kCanary = "churn-canary";

Cluster routed_cluster(const Json& steps, int replicas = 4) {
  Cluster c;
  c.release["spec"]["replicas"] = replicas;
  c.release["spec"]["strategy"] = {
      {"canary",
       {{"steps", steps},
        {"scaleDownDelaySeconds", 30},
        {"trafficRouting", {{"gatewayAPI", {{"httpRoute", "web"}}}}}}}};
  c.route = sim::make_route("web", kStable, kCanary);
  return c;
}

// The rule that splits, as the route holds it now.
const Json& split_rule(const Cluster& c) {
  return (*c.route)["spec"]["rules"][1];
}

TEST(HttpRoute, ReadsTheShareOfTheFirstRuleNamingBothServices) {
  Json route = sim::make_route("web", kStable, kCanary);
  EXPECT_EQ(read_route("web", route, "", {kStable, kCanary}).problem, "");
  EXPECT_EQ(read_route("web", route, "", {kStable, kCanary}).weight, 0);
  route["spec"]["rules"][1]["backendRefs"][1]["weight"] = 1;
  EXPECT_EQ(read_route("web", route, "", {kStable, kCanary}).weight, 50)
      << "a backendRef without a weight has the Gateway API's 1";

  EXPECT_EQ(read_route("web", std::nullopt, "", {kStable, kCanary}).problem,
            "HTTPRoute web not found");
  EXPECT_EQ(
      read_route("web", std::nullopt, "cannot be read: forbidden", {kStable, kCanary}).problem,
      "HTTPRoute web cannot be read: forbidden");
  EXPECT_EQ(read_route("web", route, "", {kStable, "other"}).problem,
            "HTTPRoute web has no rule with backendRefs to both Service churn-stable and "
            "Service other");
  // A backendRef to another namespace or kind is not the release's Service.
  route["spec"]["rules"][1]["backendRefs"][1]["namespace"] = "elsewhere";
  EXPECT_NE(read_route("web", route, "", {kStable, kCanary}).problem, "");
}

TEST(HttpRoute, OnlyTheTwoWeightsChangeInHundredthsOfAPercent) {
  const Json route = sim::make_route("web", kStable, kCanary);
  const std::optional<Json> rules = rules_with_weight(route, {kStable, kCanary}, 0.5);
  ASSERT_TRUE(rules.has_value());
  Json expected = route["spec"]["rules"];
  expected[1]["backendRefs"][0]["weight"] = 9950;
  expected[1]["backendRefs"][1]["weight"] = 50;
  EXPECT_EQ(*rules, expected) << "matches, filters, other rules and their order stay";

  Json written = route;
  written["spec"]["rules"] = *rules;
  EXPECT_EQ(rules_with_weight(written, {kStable, kCanary}, 0.5), std::nullopt)
      << "nothing to write when the route says so already";
  EXPECT_EQ((*rules_with_weight(written, {kStable, kCanary}, 100))[1]["backendRefs"],
            Json::parse(R"([{"name": "churn-stable", "port": 80, "weight": 0},
                            {"name": "churn-canary", "port": 80, "weight": 10000}])"));
}

TEST(CanaryRoutePlan, TheRouteCarriesEachStepsWeightOnceTheCanaryHasThePodsForIt) {
  Cluster c = routed_cluster(Json::parse(
      R"([{"setWeight": 5}, {"pause": {"duration": "1m"}}, {"setWeight": 50}, {"pause": {}}])"));
  const std::string a = first_release(c);
  EXPECT_EQ(c.selected("churn"), a);
  EXPECT_EQ(c.selected(kStable), a) << "the route's stable backend";
  EXPECT_EQ(c.route_writes, 0) << "a release with nothing in progress leaves the route alone";

  const std::string b = start_canary(c);
  EXPECT_EQ(c.replicas(b), 1) << "5% of 4 pods' traffic needs 1 pod";
  EXPECT_EQ(c.route_weight(), 0) << "no share before its pod is available";

  c.pods_up(b);
  c.step();
  EXPECT_EQ(c.selected("churn"), a) << "the active Service never shares with a route";
  EXPECT_EQ(c.selected(kCanary), b);
  EXPECT_EQ(split_rule(c)["backendRefs"][1]["weight"], 500);
  EXPECT_EQ(split_rule(c)["backendRefs"][0]["weight"], 9500);
  EXPECT_EQ(canary_status(c)["weight"], 5.0);
  ASSERT_NE(c.last_event("WeightSet"), nullptr);
  EXPECT_NE(c.last_event("WeightSet")->message.find("now gets 5% of the traffic of HTTPRoute web"),
            std::string::npos)
      << c.last_event("WeightSet")->message;

  c.advance(seconds(61));
  c.step();
  EXPECT_EQ(canary_status(c)["step"], 2);
  EXPECT_EQ(c.replicas(b), 2) << "ceil(50% of 4)";
  EXPECT_EQ(c.route_weight(), 5) << "the weight it has pods for, until the second is up";
  c.pods_up(b);
  c.step();
  EXPECT_EQ(c.route_weight(), 50);
  EXPECT_EQ(canary_status(c)["step"], 3);
  EXPECT_EQ(c.phase(), "AwaitingPromotion");
  EXPECT_EQ(c.replicas(a), 4) << "the stable revision keeps all its pods";

  c.annotate("cd4ml.io/promote", b);
  c.step();
  EXPECT_EQ(c.replicas(b), 4) << "full size before the switch";
  EXPECT_EQ(c.selected("churn"), a);
  c.pods_up(b);
  c.step();
  EXPECT_EQ(c.selected("churn"), b);
  EXPECT_EQ(c.selected(kStable), b);
  EXPECT_EQ(c.route_weight(), 0) << "the whole route goes to the stable backend, now the new model";
  EXPECT_FALSE(c.status().contains("canary"));
  c.advance(seconds(31));
  c.settle();
  EXPECT_EQ(c.replicas(a), 0);
}

TEST(CanaryRoutePlan, AnAbortTakesTheWholeWeightBackInOneWrite) {
  Cluster c = routed_cluster(Json::parse(R"([{"setWeight": 0.5}, {"pause": {}}])"));
  const std::string a = first_release(c);
  const std::string b = start_canary(c);
  c.pods_up(b);
  c.step();
  EXPECT_EQ(split_rule(c)["backendRefs"][1]["weight"], 50) << "half a percent";
  EXPECT_EQ(split_rule(c)["backendRefs"][0]["weight"], 9950);

  const int writes_before = c.route_writes;
  c.annotate("cd4ml.io/abort", b);
  c.step();
  EXPECT_EQ(c.route_writes, writes_before + 1);
  EXPECT_EQ(c.route_weight(), 0);
  EXPECT_EQ(canary_status(c)["weight"], 0.0);
  EXPECT_EQ(c.phase(), "Degraded");
  EXPECT_EQ(c.replicas(b), 1) << "requests already sent to it finish within scaleDownDelaySeconds";
  c.advance(seconds(31));
  c.settle();
  EXPECT_EQ(c.replicas(b), 0);
  EXPECT_EQ(c.selected(kStable), a);
}

TEST(CanaryRoutePlan, AnUnusableRouteHoldsTheCanaryAtNoTrafficAndSaysWhy) {
  Cluster c = routed_cluster(Json::parse(R"([{"setWeight": 20}, {"pause": {}}])"));
  first_release(c);
  const Json route = *c.route;
  c.route.reset();
  const std::string b = start_canary(c);
  c.pods_up(b);
  c.step();
  c.step();
  EXPECT_EQ(canary_status(c)["step"], 0) << "no step is done while its weight cannot be set";
  EXPECT_EQ(canary_status(c)["weight"], 0.0);
  EXPECT_NE(c.status()["message"].get<std::string>().find("HTTPRoute web not found"),
            std::string::npos)
      << c.status()["message"];
  EXPECT_EQ(c.count_events("RouteUnusable"), 1) << "told once while it lasts";
  const Plan again = c.step();
  ASSERT_TRUE(again.requeue_after.has_value()) << "nothing watches the route: looked at again";
  EXPECT_LE(*again.requeue_after, std::chrono::seconds(11));

  c.route = route;
  c.step();
  EXPECT_EQ(c.route_weight(), 20);
  EXPECT_EQ(canary_status(c)["step"], 1);
}

TEST(CanaryRoutePlan, TheUsersOwnEditsToTheRouteAreKept) {
  Cluster c = routed_cluster(Json::parse(R"([{"setWeight": 10}, {"pause": {}}])"));
  first_release(c);
  c.set_model("bbb", 0.95);
  c.step();
  c.pods_up(revision_for(c, "bbb"));
  c.step();
  ASSERT_EQ(c.route_weight(), 10);

  // Someone adds a rule and sets the weights by hand (as kubectl edit would).
  Json& rules = (*c.route)["spec"]["rules"];
  rules.push_back({{"backendRefs", Json::array({{{"name", "legacy"}, {"port", 80}}})}});
  rules[1]["backendRefs"][1]["weight"] = 1;
  rules[1]["backendRefs"][0]["weight"] = 1;
  (*c.route)["metadata"]["resourceVersion"] = "99";
  c.step();
  EXPECT_EQ(c.route_weight(), 10) << "the canary's weight is the release's to set";
  EXPECT_EQ((*c.route)["spec"]["rules"][2]["backendRefs"][0]["name"], "legacy");
  EXPECT_EQ((*c.route)["spec"]["rules"][0],
            sim::make_route("web", kStable, kCanary)["spec"]["rules"][0]);
}

}  // namespace
}  // namespace cd4ml::controllers::modelrelease
