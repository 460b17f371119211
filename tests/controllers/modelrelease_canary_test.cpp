// The canary strategy without traffic routing: weights as pod ratios behind
// the shared active Service, steps, pauses, promotion and abort. The sim
// checks the traffic rules after every step (modelrelease_sim.hpp), the
// shared selection's too.

#include <gtest/gtest.h>

#include "modelrelease_sim.hpp"
#include "operator/controllers/modelrelease/canary.hpp"

namespace cd4ml::controllers::modelrelease {
namespace {

using sim::canary_status;
using sim::Cluster;
using sim::first_release;
using sim::revision_for;
using sim::start_canary;
using std::chrono::seconds;

Cluster canary_cluster(const Json& steps, int replicas = 4) {
  Cluster c;
  c.release["spec"]["replicas"] = replicas;
  c.release["spec"]["strategy"] = {{"canary", {{"steps", steps}, {"scaleDownDelaySeconds", 30}}}};
  return c;
}

// A canary of model "bbb" (revision b) at 20% beside model "aaa" (revision
// a), behind the shared active Service, paused until promoted.
struct SharingCanary {
  Cluster c;
  std::string a;
  std::string b;
};
SharingCanary paused_at_twenty_percent() {
  SharingCanary out{canary_cluster(Json::parse(R"([{"setWeight": 20}, {"pause": {}}])")), "", ""};
  out.a = first_release(out.c);
  out.b = start_canary(out.c);
  out.c.pods_up(out.b);
  out.c.step();
  EXPECT_EQ(out.c.selected("churn"), kEveryRevision);
  return out;
}

TEST(CanaryReplicas, ClosestShareWithAtLeastOnePod) {
  EXPECT_EQ(canary_replicas(0, 4), 0);
  EXPECT_EQ(canary_replicas(0.5, 4), 1) << "any weight gets a pod";
  EXPECT_EQ(canary_replicas(5, 4), 1);
  EXPECT_EQ(canary_replicas(20, 4), 1) << "1 of 5 pods is exactly 20%";
  EXPECT_EQ(canary_replicas(25, 3), 1);
  EXPECT_EQ(canary_replicas(30, 4), 2) << "2 of 6 (33%) is closer than 1 of 5 (20%)";
  EXPECT_EQ(canary_replicas(50, 4), 4);
  EXPECT_EQ(canary_replicas(50, 1), 1);
  EXPECT_EQ(canary_replicas(90, 2), 18);
  EXPECT_EQ(canary_replicas(100, 2), 18) << "capped at 9x the stable pods (90%)";
  // A tie goes to fewer pods: 1 of 3 (33.3%) and 2 of 4 (50%) around 41.67%.
  EXPECT_EQ(canary_replicas(125.0 / 3, 2), 1);
  EXPECT_DOUBLE_EQ(pod_share(1, 4), 20);
  EXPECT_DOUBLE_EQ(pod_share(0, 4), 0);
}

TEST(CanaryPlan, StepsPauseAndPromoteWithTheActiveServiceShared) {
  Cluster c = canary_cluster(Json::parse(
      R"([{"setWeight": 20}, {"pause": {"duration": "1m"}}, {"setWeight": 50}, {"pause": {}}])"));
  const std::string a = first_release(c);
  EXPECT_EQ(c.selected("churn"), a);
  EXPECT_EQ(c.selected("churn-canary"), a) << "the canary Service shows the stable revision";

  const std::string b = start_canary(c);
  EXPECT_EQ(c.replicas(b), 1) << "20% beside 4 stable pods is 1 pod";
  EXPECT_EQ(c.selected("churn"), a) << "no share before its pod is available";
  EXPECT_EQ(canary_status(c)["weight"], 0.0);
  EXPECT_EQ(canary_status(c)["step"], 0);

  c.pods_up(b);
  c.step();
  EXPECT_EQ(c.selected("churn"), kEveryRevision) << "stable and canary pods both serve";
  EXPECT_EQ(c.selected("churn-canary"), b);
  EXPECT_EQ(canary_status(c)["weight"], 20.0);
  EXPECT_EQ(canary_status(c)["step"], 1) << "setWeight done, pausing";
  EXPECT_TRUE(c.has_event("StepCompleted"));
  EXPECT_TRUE(c.has_event("Paused"));
  EXPECT_TRUE(c.has_event("WeightSet"));
  EXPECT_EQ(c.phase(), "Progressing");
  EXPECT_NE(c.status()["message"].get<std::string>().find("canary step 2 of 4, 20% of traffic"),
            std::string::npos)
      << c.status()["message"];
  EXPECT_EQ(c.replicas(a), 4) << "the stable revision keeps its pods";

  // The pause ends by its recorded start, however often the release is planned.
  c.advance(seconds(30));
  Plan p = c.step();
  EXPECT_EQ(p.object_writes(), 0u);
  ASSERT_TRUE(p.requeue_after.has_value());
  EXPECT_LE(*p.requeue_after, std::chrono::milliseconds(30'100));
  c.advance(seconds(31));
  c.step();
  EXPECT_EQ(canary_status(c)["step"], 2);
  EXPECT_EQ(c.replicas(b), 4) << "50% is as many canary pods as stable ones";
  EXPECT_EQ(c.selected("churn"), kEveryRevision) << "its available pod keeps its share meanwhile";
  c.pods_up(b, 2);
  c.step();
  EXPECT_NEAR(canary_status(c)["weight"].get<double>(), 33.33, 1e-9) << "2 of 6 pods";
  c.pods_up(b);
  c.step();
  EXPECT_EQ(canary_status(c)["step"], 3);
  EXPECT_EQ(canary_status(c)["weight"], 50.0);
  EXPECT_EQ(c.phase(), "AwaitingPromotion");
  EXPECT_EQ(c.settle(), 0) << "paused until promoted";

  c.annotate("cd4ml.io/promote", b);
  c.step();
  EXPECT_EQ(c.selected("churn"), b) << "the switch, as blue/green";
  EXPECT_FALSE(c.status().contains("canary")) << "no canary once it is live";
  EXPECT_EQ(c.status()["activeRevision"], b);
  EXPECT_TRUE(c.has_event("Promoted"));
  EXPECT_EQ(c.replicas(a), 4) << "scaled down only after the delay";
  c.advance(seconds(31));
  c.step();
  EXPECT_EQ(c.replicas(a), 0);
  EXPECT_EQ(c.phase(), "Healthy");
}

TEST(CanaryPlan, AStepWaitsForItsPodsAndItsDeadlineCountsFromItsStart) {
  Cluster c = canary_cluster(Json::parse(R"([{"setWeight": 20}, {"setWeight": 50}])"));
  c.release["spec"]["progressDeadlineSeconds"] = 120;
  first_release(c);
  const std::string b = start_canary(c);
  c.advance(seconds(100));
  c.pods_up(b);
  c.step();
  EXPECT_EQ(canary_status(c)["step"], 1);
  EXPECT_EQ(c.replicas(b), 4);
  // 100 s into the rollout, but the second step has its own 120 s.
  c.advance(seconds(100));
  c.step();
  EXPECT_EQ(c.phase(), "Progressing");
  c.advance(seconds(21));
  c.step();
  EXPECT_EQ(c.phase(), "Degraded");
  EXPECT_EQ(c.condition("Ready", "reason"), "ProgressDeadlineExceeded");
  EXPECT_EQ(c.selected("churn"), revision_for(c, "aaa")) << "all traffic back on stable";
  EXPECT_EQ(canary_status(c)["weight"], 0.0);
  c.advance(seconds(31));
  c.step();
  EXPECT_EQ(c.replicas(b), 0);
}

TEST(CanaryPlan, AbortPutsEveryRequestOnStableAtOnceAndTheNextSpecProceeds) {
  auto [c, a, b] = paused_at_twenty_percent();

  c.annotate("cd4ml.io/abort", b);
  Plan p = c.step();
  EXPECT_EQ(c.selected("churn"), a) << "the abort narrows the Service in the same reconcile";
  EXPECT_EQ(c.selected("churn-canary"), a);
  ASSERT_FALSE(p.services.empty());
  EXPECT_EQ(c.phase(), "Degraded");
  EXPECT_EQ(c.condition("Ready", "reason"), "Aborted");
  EXPECT_EQ(canary_status(c)["revision"], b);
  EXPECT_EQ(canary_status(c)["weight"], 0.0);
  EXPECT_EQ(c.replicas(b), 1) << "requests sent to it just before the abort finish";
  c.advance(seconds(31));
  c.step();
  EXPECT_EQ(c.replicas(b), 0) << "gone after the scale-down delay";
  EXPECT_EQ(c.settle(), 0);
  c.pods_up(b);  // its pods are gone

  // A new spec goes ahead with nothing to clean up by hand.
  c.set_model("ccc", 0.95);
  const std::string cc = revision_for(c, "ccc");
  c.step();
  c.pods_up(cc);
  c.step();
  EXPECT_EQ(canary_status(c)["revision"], cc);
  EXPECT_EQ(c.selected("churn"), kEveryRevision);
  EXPECT_EQ(c.phase(), "AwaitingPromotion");
}

TEST(CanaryPlan, PromoteAnnotationSkipsEveryRemainingPause) {
  Cluster c = canary_cluster(Json::parse(
      R"([{"setWeight": 20}, {"pause": {"duration": "1h"}}, {"setWeight": 50}, {"pause": {}}])"));
  first_release(c);
  const std::string b = start_canary(c);
  c.pods_up(b);
  c.step();
  ASSERT_EQ(canary_status(c)["step"], 1);
  c.annotate("cd4ml.io/promote", b);
  c.step();
  EXPECT_EQ(canary_status(c)["step"], 2) << "the pause is skipped, the weight step is not";
  c.pods_up(b);
  c.step();
  c.pods_up(b);
  c.step();
  EXPECT_EQ(c.selected("churn"), b);
}

TEST(CanaryPlan, ANewModelMidCanaryNarrowsTheServiceBeforeItsPodsStart) {
  auto [c, a, b] = paused_at_twenty_percent();

  c.set_model("ccc", 0.95);
  const std::string cc = revision_for(c, "ccc");
  Plan p = c.step();
  EXPECT_EQ(c.selected("churn"), a);
  EXPECT_TRUE(p.create_deployments.empty()) << "the new canary waits for the narrowed Service";
  EXPECT_FALSE(c.has_deployment(cc));
  EXPECT_FALSE(c.has_event("RevisionCreated") &&
               c.last_event("RevisionCreated")->message.find(cc) != std::string::npos);
  ASSERT_TRUE(p.requeue_after.has_value());
  c.step();
  EXPECT_TRUE(c.has_deployment(cc));
  EXPECT_EQ(c.replicas(b), 1) << "the superseded canary finishes its requests";
  c.pods_up(cc);
  c.step();
  EXPECT_EQ(c.replicas(b), 0) << "cut short once the new canary could take a share";
  EXPECT_EQ(c.selected("churn"), a);
  c.pods_up(b);  // its pods are gone
  c.step();
  EXPECT_EQ(c.selected("churn"), kEveryRevision);
  EXPECT_EQ(canary_status(c)["revision"], cc);
}

TEST(CanaryPlan, AReplacedRevisionStillInItsDelayGoesWhenTheCanaryTakesAShare) {
  Cluster c = canary_cluster(Json::parse(R"([{"setWeight": 20}, {"pause": {}}])"));
  c.release["spec"]["strategy"]["canary"]["scaleDownDelaySeconds"] = 600;
  const std::string a = first_release(c);
  const std::string b = start_canary(c);
  c.pods_up(b);
  c.step();
  c.annotate("cd4ml.io/promote", b);
  c.step();  // out of the shared selection first
  c.step();  // then up to full size
  c.pods_up(b);
  c.step();
  ASSERT_EQ(c.selected("churn"), b);
  ASSERT_EQ(c.replicas(a), 4) << "kept for its 600 s";

  c.set_model("ccc", 0.95);
  const std::string cc = revision_for(c, "ccc");
  c.step();
  c.pods_up(cc);
  c.step();
  EXPECT_EQ(c.replicas(a), 0) << "cut short: the shared Service would reach it";
  EXPECT_EQ(c.selected("churn"), b) << "no share while its pods may still serve";
  c.pods_up(a);
  c.step();
  EXPECT_EQ(c.selected("churn"), kEveryRevision);
}

TEST(CanaryPlan, GatesRejectBeforeAnyPodAndARollbackSkipsTheSteps) {
  Cluster c = canary_cluster(Json::parse(R"([{"setWeight": 20}, {"pause": {}}])"));
  c.release["spec"]["gates"] = Json::parse(R"([{"metric": "accuracy", "min": 0.8}])");
  const std::string a = first_release(c);
  c.set_model("bbb", 0.5);
  c.step();
  EXPECT_FALSE(c.has_deployment(revision_for(c, "bbb")));
  EXPECT_EQ(c.condition("Ready", "reason"), "GateFailed");

  // Release "ccc", promote it, then go back to "aaa": a revision that served.
  c.set_model("ccc", 0.95);
  const std::string cc = revision_for(c, "ccc");
  c.step();
  c.annotate("cd4ml.io/promote", cc);
  c.pods_up(cc);
  c.step();
  c.pods_up(cc);
  c.step();
  ASSERT_EQ(c.selected("churn"), cc);
  c.set_model("aaa", 0.9);
  c.step();
  EXPECT_EQ(c.replicas(a), 4) << "straight to full size";
  c.step();
  EXPECT_EQ(c.selected("churn"), a) << "no steps on the way back";
  EXPECT_TRUE(c.has_event("RolledBack"));
}

TEST(CanaryPlan, StatusRecordsTheStepSoARestartResumesIt) {
  Cluster c = canary_cluster(Json::parse(R"([{"setWeight": 20}, {"pause": {"duration": "10m"}}])"));
  first_release(c);
  const std::string b = start_canary(c);
  c.pods_up(b);
  c.step();
  const Json started = canary_status(c)["stepStartedAt"];
  // A new operator process plans from the same status: same step, same end.
  c.advance(seconds(300));
  Plan p = plan(c.observe());
  ASSERT_TRUE(p.requeue_after.has_value());
  EXPECT_NEAR(std::chrono::duration<double>(*p.requeue_after).count(), 300, 1.5);
  EXPECT_EQ(p.object_writes(), 0u);
  EXPECT_EQ(canary_status(c)["stepStartedAt"], started);
}

TEST(CanaryPlan, AWeightStepDownWaitsForTheExtraPodsToGo) {
  Cluster c =
      canary_cluster(Json::parse(R"([{"setWeight": 50}, {"setWeight": 20}, {"pause": {}}])"));
  first_release(c);
  const std::string b = start_canary(c);
  c.pods_up(b);
  c.step();
  ASSERT_EQ(canary_status(c)["step"], 1);
  EXPECT_EQ(c.replicas(b), 1);
  EXPECT_NE(c.selected("churn"), kEveryRevision) << "4 available pods would carry 50%";
  c.pods_up(b);
  c.step();
  EXPECT_EQ(c.selected("churn"), kEveryRevision);
  EXPECT_EQ(canary_status(c)["weight"], 20.0);
}

}  // namespace
}  // namespace cd4ml::controllers::modelrelease
