// A canary routed by a Gateway API HTTPRoute on the real control plane (the
// pinned release's own CRDs, with their validation): the route carries each
// step's weight exactly, in hundredths of a percent; everything else in it
// stays as the user wrote it; an abort takes the weight back in one write.
// No Gateway implementation runs here: what a Gateway does with the weights
// is its own business, tested by its project (docs/concepts.md says which
// ones honour backendRef weights).

#include <gtest/gtest.h>

#include "cluster.hpp"
#include "helm.hpp"
#include "modelrelease_fixture.hpp"

namespace cd4ml::e2e {
namespace {

class CanaryRouteE2E : public ReleaseFixture {
 protected:
  static void SetUpTestSuite() {
    // Server-side apply: the same on every run and in every test process.
    kubectl_ok({"apply", "--server-side", "--force-conflicts", "-f",
                (gateway_api_crds_dir() / "gateway.networking.k8s.io_httproutes.yaml").string()});
    kubectl_ok({"wait", "--for=condition=Established", "--timeout=60s",
                "crd/httproutes.gateway.networking.k8s.io"});
  }

  // The user's route: an admin rule with a filter, then the rule that splits.
  Json route() const {
    Json r = Json::parse(R"({
      "apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute",
      "metadata": {"name": "web"},
      "spec": {"parentRefs": [{"name": "gateway"}], "hostnames": ["churn.example"], "rules": [
        {"matches": [{"path": {"type": "PathPrefix", "value": "/admin"}}],
         "filters": [{"type": "RequestHeaderModifier",
                      "requestHeaderModifier": {"add": [{"name": "x-admin", "value": "1"}]}}],
         "backendRefs": [{"name": "admin", "port": 80}]},
        {"matches": [{"path": {"type": "PathPrefix", "value": "/"}}],
         "backendRefs": [{"name": "churn-stable", "port": 80},
                         {"name": "churn-canary", "port": 80, "weight": 0}]}
      ]}
    })");
    r["metadata"]["namespace"] = ns_.name();
    return r;
  }

  Json live_route() const { return get_json("httproute", ns_.name(), "web").value(); }

  // {canary, stable} weights of the splitting rule.
  static std::pair<long, long> weights(const Json& r) {
    const Json& refs = r["spec"]["rules"][1]["backendRefs"];
    return {refs[1].value("weight", 1L), refs[0].value("weight", 1L)};
  }

  // Waits until the route carries `canary` of 10000; returns the release then.
  Json wait_for_weight(long canary, double percent) {
    wait_until("HTTPRoute web carries " + std::to_string(canary) + " for the canary", 90s, [&] {
      return weights(live_route()) == std::pair{canary, 10000 - canary};
    });
    const Json mr = get_json("mr", ns_.name(), "churn").value();
    EXPECT_EQ(mr.value("/status/canary/weight"_json_pointer, -1.0), percent);
    return mr;
  }

  // What the operator must never change: all but the two weights.
  void expect_the_rest_unchanged(const Json& original) {
    Json now = live_route()["spec"];
    Json before = original["spec"];
    for (Json* spec : {&now, &before}) {
      for (auto& ref : (*spec)["rules"][1]["backendRefs"]) ref.erase("weight");
    }
    EXPECT_EQ(now, before);
  }
};

TEST_F(CanaryRouteE2E, EachStepsWeightIsOnTheRouteAndAnAbortTakesItBack) {
  watch("churn", 2);
  apply_json(training_run("churn-1", 0.9));
  apply_json(training_run("churn-2", 0.93));
  apply_json(training_run("churn-3", 0.95));
  apply_json(route());
  const Json steps = Json::parse(R"([
      {"setWeight": 0.5}, {"pause": {"duration": "5s"}},
      {"setWeight": 5}, {"pause": {"duration": "5s"}},
      {"setWeight": 50}, {"pause": {}}])");
  apply_json(release("churn", "churn-1",
                     {{"strategy",
                       {{"blueGreen", nullptr},
                        {"canary",
                         {{"steps", steps},
                          {"scaleDownDelaySeconds", 5},
                          {"trafficRouting", {{"gatewayAPI", {{"httpRoute", "web"}}}}}}}}}}));
  const std::string first = wait_for_phase("churn", "Healthy")["status"]["activeRevision"];
  const Json original = live_route();
  EXPECT_EQ(get_json("service", ns_.name(), "churn-stable")
                .value()["spec"]["selector"]["cd4ml.io/revision"],
            first);
  EXPECT_EQ(weights(original), (std::pair{0L, 1L})) << "a first release leaves the route alone";

  wait_for_run("churn-2");
  patch_release("churn", {{"spec", {{"model", {{"trainingRunRef", {{"name", "churn-2"}}}}}}}});
  wait_for_weight(50, 0.5);
  wait_for_weight(500, 5);
  const Json paused = wait_for_weight(5000, 50);
  const std::string second = paused["status"]["canary"]["revision"];
  wait_for_phase("churn", "AwaitingPromotion");
  EXPECT_EQ(get_json("service", ns_.name(), "churn-canary")
                .value()["spec"]["selector"]["cd4ml.io/revision"],
            second);
  EXPECT_EQ(get_json("service", ns_.name(), "churn-stable")
                .value()["spec"]["selector"]["cd4ml.io/revision"],
            first);
  expect_the_rest_unchanged(original);

  kubectl_ok({"annotate", "mr", "churn", "-n", ns_.name(), "cd4ml.io/promote=" + second});
  wait_until_release("churn", "churn-2 promoted", [&](const Json& mr) {
    return mr.value("/status/activeRevision"_json_pointer, std::string()) == second &&
           mr.value("/status/phase"_json_pointer, std::string()) == "Healthy";
  });
  wait_for_weight(0, -1);  // no status.canary once it is live
  EXPECT_EQ(get_json("service", ns_.name(), "churn-stable")
                .value()["spec"]["selector"]["cd4ml.io/revision"],
            second);

  // The next canary is aborted at 50%: the whole weight comes back at once.
  wait_for_run("churn-3");
  patch_release("churn", {{"spec", {{"model", {{"trainingRunRef", {{"name", "churn-3"}}}}}}}});
  const std::string third = wait_for_weight(5000, 50)["status"]["canary"]["revision"];
  const long generation_at_50 = live_route()["metadata"]["generation"];
  const auto aborted_at = std::chrono::steady_clock::now();
  kubectl_ok({"annotate", "mr", "churn", "-n", ns_.name(), "cd4ml.io/abort=" + third});
  wait_for_weight(0, 0);
  const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - aborted_at);
  std::cout << "abort: route weight back to 0 within " << took.count()
            << " ms of the annotation (as polled)\n";
  const Json after = live_route();
  EXPECT_EQ(after["metadata"]["generation"], generation_at_50 + 1)
      << "one write to the route's spec (no other writer in this namespace)";
  const Json r = wait_for_phase("churn", "Degraded");
  EXPECT_EQ(r["status"]["activeRevision"], second);
  EXPECT_EQ(get_json("service", ns_.name(), "churn-stable")
                .value()["spec"]["selector"]["cd4ml.io/revision"],
            second);
  expect_the_rest_unchanged(original);
  EXPECT_TRUE(has_release_event("churn", "WeightSet"));
  expect_no_violations();
}

TEST_F(CanaryRouteE2E, AMissingRouteIsSaidAndTheCanaryWaitsAtNoTraffic) {
  apply_json(training_run("churn-1", 0.9));
  apply_json(training_run("churn-2", 0.93));
  apply_json(release("churn", "churn-1",
                     {{"strategy",
                       {{"blueGreen", nullptr},
                        {"canary",
                         {{"steps", Json::parse(R"([{"setWeight": 10}, {"pause": {}}])")},
                          {"trafficRouting", {{"gatewayAPI", {{"httpRoute", "web"}}}}}}}}}}));
  wait_for_phase("churn", "Healthy");
  wait_for_run("churn-2");
  patch_release("churn", {{"spec", {{"model", {{"trainingRunRef", {{"name", "churn-2"}}}}}}}});
  const Json waiting =
      wait_until_release("churn", "the missing route in status", [](const Json& mr) {
        return mr.value("/status/message"_json_pointer, std::string())
                   .find("HTTPRoute web not found") != std::string::npos;
      });
  EXPECT_EQ(waiting.value("/status/canary/weight"_json_pointer, -1.0), 0.0);
  EXPECT_TRUE(has_release_event("churn", "RouteUnusable"));

  // Created: the next reconcile (a step's requeue at the latest) uses it.
  apply_json(route());
  wait_for_weight(1000, 10);
}

}  // namespace
}  // namespace cd4ml::e2e
