#include <gtest/gtest.h>

#include "modelrelease_sim.hpp"

namespace cd4ml::controllers::modelrelease {
namespace {

using sim::Cluster;
using sim::first_release;
using sim::revision_for;
using std::chrono::seconds;

// Rolls the release's current spec out with every pod ready, until the plan
// is empty.
void roll_out(Cluster& c) {
  c.step();
  c.all_pods_up();
  c.settle();
}

// Switches the release to model `version` (accuracy 0.95), rolls it out
// and returns its revision.
std::string release_model(Cluster& c, const std::string& version) {
  c.set_model(version, 0.95);
  roll_out(c);
  return revision_for(c, version);
}

// Switches the release to model "bbb" and brings one of its pods up: the
// candidate is in the preview Service, not yet in the active one. Returns
// its revision.
std::string candidate_in_preview(Cluster& c) {
  c.set_model("bbb", 0.95);
  const std::string rev = revision_for(c, "bbb");
  c.step();
  c.pods_up(rev, 1);
  c.step();
  EXPECT_EQ(c.selected("churn-preview"), rev);
  return rev;
}

// Points the release at the succeeded TrainingRun "churn-2" (model "v2") and
// rolls it out.
void release_from_training_run(Cluster& c) {
  c.release["spec"]["model"] = {{"trainingRunRef", {{"name", "churn-2"}}}};
  c.run = sim::training_run("churn-2", "v2", 0.9);
  roll_out(c);
}

// The state the status gives each revision, by revision.
std::map<std::string, std::string> revision_states(const Cluster& c) {
  std::map<std::string, std::string> states;
  for (const auto& r : c.status()["revisions"]) states[r["revision"]] = r["state"];
  return states;
}

TEST(ModelReleasePlan, FirstReleaseGoesHealthy) {
  Cluster c;
  const std::string rev = revision_for(c, "aaa");
  Plan p = c.step();
  ASSERT_EQ(p.create_deployments.size(), 1u);
  EXPECT_TRUE(p.services.empty()) << "no Service before a pod is ready";
  EXPECT_EQ(c.phase(), "Progressing");
  EXPECT_EQ(c.replicas(rev), 2) << "autoPromotion: straight to full size";

  const Json& d = c.deployment(rev);
  EXPECT_EQ(d["metadata"]["name"], "churn-" + rev);
  EXPECT_EQ(d["metadata"]["ownerReferences"][0]["uid"], "uid-release");
  const Json& labels = d["spec"]["template"]["metadata"]["labels"];
  EXPECT_EQ(labels["cd4ml.io/release"], "churn");
  EXPECT_EQ(labels["cd4ml.io/revision"], rev);
  EXPECT_EQ(labels["cd4ml.io/model-version"], "aaa");
  const Json& env = d["spec"]["template"]["spec"]["containers"][0]["env"];
  EXPECT_EQ(env[0], Json({{"name", "CD4ML_MODEL_URI"}, {"value", "s3://models/churn/aaa"}}));
  EXPECT_EQ(env[1], Json({{"name", "CD4ML_MODEL_VERSION"}, {"value", "aaa"}}));

  c.pods_up(rev, 1);
  c.step();
  EXPECT_EQ(c.selected("churn-preview"), rev) << "preview follows the first ready pod";
  EXPECT_EQ(c.selected("churn"), "") << "active waits for full availability";

  c.pods_up(rev);
  c.step();
  EXPECT_EQ(c.selected("churn"), rev);
  EXPECT_EQ(c.phase(), "Healthy");
  EXPECT_EQ(c.condition("Ready"), "True");
  EXPECT_EQ(c.condition("Reconciling"), "False");
  EXPECT_EQ(c.condition("Stalled"), "False");
  EXPECT_EQ(c.status()["activeRevision"], rev);
  EXPECT_EQ(c.status()["activeModelVersion"], "aaa");
  EXPECT_TRUE(c.has_event("Promoted"));
  const Json& svc = c.services.at("churn");
  EXPECT_EQ(svc["spec"]["ports"][0]["port"], 80);
  EXPECT_EQ(svc["spec"]["ports"][0]["targetPort"], 8080);
  EXPECT_EQ(svc["metadata"]["ownerReferences"][0]["uid"], "uid-release");
}

TEST(ModelReleasePlan, NothingChangedMeansNoWrites) {
  Cluster c;
  first_release(c);
  const Plan p = plan(c.observe());
  EXPECT_EQ(p.object_writes(), 0u);
  EXPECT_FALSE(p.status);
  EXPECT_TRUE(p.events.empty());
}

TEST(ModelReleasePlan, NewModelRollsOutPreviewThenActiveThenScalesDownOld) {
  Cluster c;
  const std::string old_rev = first_release(c);
  const std::size_t writes_before = c.writes;
  c.set_model("bbb", 0.95);
  const std::string rev = revision_for(c, "bbb");

  c.step();
  ASSERT_TRUE(c.has_deployment(rev));
  EXPECT_EQ(c.phase(), "Progressing");
  EXPECT_EQ(c.selected("churn"), old_rev);
  EXPECT_EQ(c.selected("churn-preview"), old_rev);

  c.pods_up(rev, 1);
  c.step();
  EXPECT_EQ(c.selected("churn-preview"), rev);
  EXPECT_EQ(c.selected("churn"), old_rev) << "one ready pod is not full availability";
  EXPECT_EQ(c.status()["previewRevision"], rev);
  EXPECT_EQ(c.status()["previewModelVersion"], "bbb");

  c.pods_up(rev);
  c.step();
  EXPECT_EQ(c.selected("churn"), rev);
  EXPECT_EQ(c.replicas(old_rev), 2) << "old revision keeps running for scaleDownDelaySeconds";
  EXPECT_EQ(c.phase(), "Healthy");

  c.advance(seconds(29));
  c.step();
  EXPECT_EQ(c.replicas(old_rev), 2);
  c.advance(seconds(2));
  c.step();
  EXPECT_EQ(c.replicas(old_rev), 0);
  EXPECT_TRUE(c.has_event("ScaledDown"));
  EXPECT_EQ(c.settle(), 0);

  // create, preview switch, active switch, scale down
  EXPECT_EQ(c.writes - writes_before, 4u);
  const Json& revisions = c.status()["revisions"];
  ASSERT_EQ(revisions.size(), 2u);
  EXPECT_EQ(revisions[0]["state"], "Inactive");
  EXPECT_EQ(revisions[1]["state"], "Active");
  EXPECT_TRUE(revisions[1].contains("promotedAt"));
}

// Status times have whole seconds; a switch in the middle of a second must
// still keep the old revision for the whole delay.
TEST(ModelReleasePlan, ScaleDownDelayIsNeverCutShortByTimestampRounding) {
  Cluster c;
  c.advance(std::chrono::milliseconds(600));
  const std::string old_rev = first_release(c);
  release_model(c, "bbb");  // switched at x.600 s
  c.advance(std::chrono::milliseconds(29'700));
  c.step();
  EXPECT_EQ(c.replicas(old_rev), 2) << "29.7 s after the switch";
  c.advance(std::chrono::milliseconds(1'000));
  c.step();
  EXPECT_EQ(c.replicas(old_rev), 0);
}

TEST(ModelReleasePlan, RequeuesForTheScaleDownDelay) {
  Cluster c;
  first_release(c);
  c.set_model("bbb", 0.95);
  c.step();
  c.all_pods_up();
  const Plan p = c.step();
  ASSERT_TRUE(p.requeue_after);
  EXPECT_GE(*p.requeue_after, std::chrono::seconds(30));
  EXPECT_LE(*p.requeue_after, std::chrono::seconds(31));
}

TEST(ModelReleasePlan, GateFailureRejectsBeforeAnyPodStarts) {
  Cluster c;
  c.release["spec"]["gates"] = Json::parse(R"([{"metric": "accuracy", "min": 0.9}])");
  const std::string old_rev = first_release(c);
  c.set_model("bbb", 0.85);
  const std::string rev = revision_for(c, "bbb");
  const Plan p = c.step();
  EXPECT_TRUE(p.create_deployments.empty());
  EXPECT_FALSE(c.has_deployment(rev));
  EXPECT_EQ(c.selected("churn"), old_rev);
  EXPECT_EQ(c.phase(), "Degraded");
  EXPECT_EQ(c.condition("Stalled"), "True");
  EXPECT_EQ(c.condition("Stalled", "reason"), "GateFailed");
  EXPECT_EQ(c.condition("Ready"), "False");
  const std::string message = c.condition("Stalled", "message");
  EXPECT_NE(message.find("accuracy 0.85 is below the minimum 0.9"), std::string::npos) << message;
  EXPECT_NE(message.find("serving revision " + old_rev), std::string::npos) << message;
  EXPECT_TRUE(c.has_event("GateFailed"));
  const Json& revisions = c.status()["revisions"];
  EXPECT_EQ(revisions.back()["state"], "Rejected");
  EXPECT_EQ(revisions.back()["gates"][0]["passed"], false);
  EXPECT_EQ(c.settle(), 0) << "a rejected candidate stays rejected";
}

TEST(ModelReleasePlan, GateOnMissingMetricFails) {
  Cluster c;
  c.release["spec"]["gates"] = Json::parse(R"([{"metric": "auc", "min": 0.5}])");
  c.step();
  EXPECT_EQ(c.phase(), "Degraded");
  EXPECT_NE(c.condition("Stalled", "message").find("reported no metric auc"), std::string::npos);
  EXPECT_TRUE(c.deployments.empty());
}

TEST(ModelReleasePlan, CompareToActiveOnFirstReleasePassesAndThenCompares) {
  Cluster c;
  c.release["spec"]["gates"] =
      Json::parse(R"([{"metric": "accuracy", "compareToActive": "NoWorse"}])");
  first_release(c);  // nothing to compare with
  EXPECT_EQ(c.status()["revisions"][0]["gates"][0]["message"],
            "no active revision to compare with");
  c.set_model("bbb", 0.89);  // active has 0.9
  c.step();
  EXPECT_EQ(c.condition("Stalled", "reason"), "GateFailed");
  c.set_model("ccc", 0.9);  // equal is no worse
  c.step();
  EXPECT_EQ(c.phase(), "Progressing");
}

TEST(ModelReleasePlan, CompareToActiveBetterWithToleranceAndDirection) {
  struct Case {
    const char* gate;
    double candidate;
    bool passes;
  };
  const std::vector<Case> cases = {
      {R"({"metric":"accuracy","compareToActive":"Better"})", 0.9, false},
      {R"({"metric":"accuracy","compareToActive":"Better"})", 0.91, true},
      {R"({"metric":"accuracy","compareToActive":"Better","tolerance":0.02})", 0.91, false},
      {R"({"metric":"accuracy","compareToActive":"NoWorse","tolerance":0.02})", 0.885, true},
      {R"({"metric":"accuracy","compareToActive":"NoWorse","direction":"LowerIsBetter"})", 0.95,
       false},
      {R"({"metric":"accuracy","compareToActive":"NoWorse","direction":"LowerIsBetter"})", 0.85,
       true},
  };
  for (const auto& k : cases) {
    Cluster c;
    first_release(c);
    c.release["spec"]["gates"] = Json::array({Json::parse(k.gate)});
    c.set_model("bbb", k.candidate);
    c.step();
    EXPECT_EQ(c.condition("Stalled", "reason") == "GateFailed", !k.passes)
        << k.gate << " candidate " << k.candidate;
  }
}

TEST(ModelReleasePlan, CandidateNotAvailableInTimeIsAbortedWithNoTrafficSwitch) {
  Cluster c;
  const std::string old_rev = first_release(c);
  const std::string rev = candidate_in_preview(c);  // the other pod never becomes ready
  c.advance(seconds(119));
  c.step();
  EXPECT_EQ(c.phase(), "Progressing");
  c.advance(seconds(1));
  const Plan p = c.step();
  EXPECT_EQ(c.selected("churn"), old_rev);
  EXPECT_EQ(c.selected("churn-preview"), old_rev) << "preview moves off the aborted candidate";
  EXPECT_EQ(c.replicas(rev), 0);
  EXPECT_EQ(c.phase(), "Degraded");
  EXPECT_EQ(c.condition("Stalled", "reason"), "ProgressDeadlineExceeded");
  EXPECT_TRUE(c.has_event("ProgressDeadlineExceeded"));
  EXPECT_EQ(c.status()["revisions"].back()["state"], "Aborted");
}

TEST(ModelReleasePlan, CandidatePodsThatCannotStartSayWhyInStatusEventsAndTheAbort) {
  Cluster c;
  const std::string old_rev = first_release(c);
  c.set_model("bbb", 0.95);
  const std::string rev = revision_for(c, "bbb");
  c.step();
  c.add_waiting_pod(rev, "churn-bbb-1", "ErrImageNeverPull",
                    "Container image \"cd4ml.local/missing:1\" is not present with pull policy "
                    "of Never");
  c.step();
  EXPECT_EQ(c.phase(), "Progressing");
  EXPECT_EQ(c.condition("Reconciling", "reason"), "CandidatePodFailing");
  const std::string message = c.status()["message"];
  EXPECT_NE(message.find("pod churn-bbb-1: container server: ErrImageNeverPull: Container image "
                         "\"cd4ml.local/missing:1\""),
            std::string::npos)
      << message;
  EXPECT_NE(message.find("serving revision " + old_rev), std::string::npos) << message;
  ASSERT_EQ(c.count_events("CandidatePodFailing"), 1);
  EXPECT_NE(c.last_event("CandidatePodFailing")->message.find("ErrImageNeverPull"),
            std::string::npos);

  // The kubelet retrying with a new message is not told again; a new reason is.
  c.pods.back()["status"]["containerStatuses"][0]["state"]["waiting"]["message"] = "again";
  c.advance(seconds(10));
  c.step();
  EXPECT_EQ(c.count_events("CandidatePodFailing"), 1);
  c.pods.clear();
  c.add_waiting_pod(rev, "churn-bbb-1", "CreateContainerError", "no such file");
  c.step();
  EXPECT_EQ(c.count_events("CandidatePodFailing"), 2);

  c.advance(seconds(110));
  c.step();
  EXPECT_EQ(c.selected("churn"), old_rev);
  EXPECT_EQ(c.phase(), "Degraded");
  const Json& record = c.status()["revisions"].back();
  EXPECT_EQ(record["state"], "Aborted");
  EXPECT_NE(record["message"].get<std::string>().find("CreateContainerError: no such file"),
            std::string::npos)
      << record;
  EXPECT_NE(c.last_event("ProgressDeadlineExceeded")->message.find("CreateContainerError"),
            std::string::npos);
}

TEST(ModelReleasePlan, PodsOfOtherRevisionsOrStartingNormallyAreNoTrouble) {
  Cluster c;
  const std::string old_rev = first_release(c);
  c.set_model("bbb", 0.95);
  const std::string rev = revision_for(c, "bbb");
  c.step();
  c.add_waiting_pod(rev, "churn-bbb-1", "ContainerCreating", "");
  c.add_waiting_pod("someotherrev", "churn-x-1", "ImagePullBackOff", "Back-off pulling image");
  c.step();
  EXPECT_EQ(c.condition("Reconciling", "reason"), "RolloutInProgress");
  EXPECT_FALSE(c.has_event("CandidatePodFailing"));
}

TEST(ModelReleasePlan, FirstReleaseAbortedLeavesNoServiceSelectingIt) {
  Cluster c;
  const std::string rev = revision_for(c, "aaa");
  c.step();
  c.pods_up(rev, 1);
  c.step();
  EXPECT_EQ(c.selected("churn-preview"), rev);
  c.advance(seconds(121));
  c.step();
  EXPECT_EQ(c.selected("churn-preview"), kNoRevision);
  EXPECT_EQ(c.services.count("churn"), 0u);
  EXPECT_EQ(c.replicas(rev), 0);
}

TEST(ModelReleasePlan, PreviewMovesBackWhenTheCandidateLosesItsReadyPods) {
  Cluster c;
  const std::string old_rev = first_release(c);
  const std::string rev = candidate_in_preview(c);
  c.pods_up(rev, 0);  // crash loop
  c.step();
  EXPECT_EQ(c.selected("churn-preview"), old_rev);
}

TEST(ModelReleasePlan, ManualPromotionWaitsForTheAnnotationOfThatRevision) {
  Cluster c;
  c.release["spec"]["strategy"]["blueGreen"]["autoPromotion"] = false;
  c.release["spec"]["strategy"]["blueGreen"]["previewReplicas"] = 1;
  const std::string first = revision_for(c, "aaa");
  roll_out(c);
  EXPECT_EQ(c.phase(), "AwaitingPromotion");
  EXPECT_EQ(c.replicas(first), 1) << "waits at previewReplicas";
  EXPECT_EQ(c.condition("Reconciling", "reason"), "AwaitingPromotion");
  EXPECT_EQ(c.services.count("churn"), 0u);

  c.annotate("cd4ml.io/promote", "0123456789");  // a stale or unknown revision
  EXPECT_EQ(c.settle(), 0);
  EXPECT_EQ(c.phase(), "AwaitingPromotion");

  c.annotate("cd4ml.io/promote", first);
  c.step();
  EXPECT_EQ(c.replicas(first), 2);
  EXPECT_EQ(c.services.count("churn"), 0u) << "not before full size is available";
  c.all_pods_up();
  c.step();
  EXPECT_EQ(c.selected("churn"), first);
  EXPECT_EQ(c.phase(), "Healthy");
  EXPECT_EQ(c.release["metadata"]["annotations"]["cd4ml.io/promote"], first)
      << "the operator never edits the user's annotations";
}

TEST(ModelReleasePlan, AbortAnnotationStopsTheCandidate) {
  Cluster c;
  const std::string old_rev = first_release(c);
  const std::string rev = candidate_in_preview(c);
  c.annotate("cd4ml.io/abort", rev);
  c.step();
  EXPECT_EQ(c.selected("churn-preview"), old_rev);
  EXPECT_EQ(c.replicas(rev), 0);
  EXPECT_EQ(c.condition("Stalled", "reason"), "Aborted");
  EXPECT_TRUE(c.has_event("Aborted"));
  c.all_pods_up();
  EXPECT_EQ(c.settle(), 0);
  EXPECT_EQ(c.selected("churn"), old_rev);
}

// The annotations stay on the object (Git owns it): an abort of an earlier
// candidate must not stop the next one.
TEST(ModelReleasePlan, AbortAnnotationOfAnEarlierCandidateIsStale) {
  Cluster c;
  const std::string old_rev = first_release(c);
  const std::string aborted = candidate_in_preview(c);
  c.annotate("cd4ml.io/abort", aborted);
  c.settle();
  ASSERT_EQ(c.condition("Stalled", "reason"), "Aborted");

  c.set_model("ccc", 0.96);
  const std::string next = revision_for(c, "ccc");
  c.step();
  c.all_pods_up();
  c.settle();
  EXPECT_EQ(c.selected("churn"), next);
  EXPECT_EQ(c.phase(), "Healthy");
  EXPECT_EQ(revision_states(c)[aborted], "Aborted");
  EXPECT_NE(next, old_rev);
}

TEST(ModelReleasePlan, AbortOfTheActiveRevisionIsIgnored) {
  Cluster c;
  const std::string rev = first_release(c);
  c.annotate("cd4ml.io/abort", rev);
  EXPECT_EQ(c.settle(), 0);
  EXPECT_EQ(c.phase(), "Healthy");
}

TEST(ModelReleasePlan, NewestSpecWinsMidRollout) {
  Cluster c;
  const std::string a = first_release(c);
  const std::string b = candidate_in_preview(c);

  c.set_model("ccc", 0.96);
  const std::string cc = revision_for(c, "ccc");
  c.step();
  EXPECT_EQ(c.selected("churn-preview"), a) << "preview leaves the abandoned candidate";
  EXPECT_EQ(c.replicas(b), 0) << "abandoned candidate scaled down";
  EXPECT_TRUE(c.has_event("Superseded"));
  EXPECT_TRUE(c.has_deployment(cc));
  c.all_pods_up();
  c.settle();
  EXPECT_EQ(c.selected("churn"), cc);
  EXPECT_EQ(c.phase(), "Healthy");
  auto states = revision_states(c);
  EXPECT_EQ(states[b], "Inactive");
  EXPECT_EQ(states[cc], "Active");
}

TEST(ModelReleasePlan, RollbackReusesTheKeptDeployment) {
  Cluster c;
  const std::string a = first_release(c);
  release_model(c, "bbb");
  c.advance(seconds(60));
  c.settle();
  ASSERT_EQ(c.replicas(a), 0);

  const std::size_t deployments_before = c.deployments.size();
  c.set_model("aaa", 0.9);
  const Plan p = c.step();
  EXPECT_TRUE(p.create_deployments.empty());
  EXPECT_EQ(c.deployments.size(), deployments_before);
  EXPECT_EQ(c.replicas(a), 2);
  c.pods_up(a);
  c.step();
  EXPECT_EQ(c.selected("churn"), a);
  EXPECT_TRUE(c.has_event("RolledBack"));
}

TEST(ModelReleasePlan, RollbackSkipsGatesOfThePreviouslyActiveRevision) {
  Cluster c;
  c.release["spec"]["gates"] =
      Json::parse(R"([{"metric": "accuracy", "compareToActive": "NoWorse"}])");
  const std::string a = first_release(c);
  release_model(c, "bbb");
  c.set_model("aaa", 0.9);  // worse than the active 0.95, but it served before
  c.step();
  c.pods_up(a);
  c.step();
  EXPECT_EQ(c.selected("churn"), a);
}

TEST(ModelReleasePlan, HistoryLimitPrunesOldRevisions) {
  Cluster c;
  c.release["spec"]["revisionHistoryLimit"] = 1;
  first_release(c);
  std::vector<std::string> revs = {revision_for(c, "aaa")};
  for (const char* v : {"bbb", "ccc", "ddd"}) {
    revs.push_back(release_model(c, v));
    c.advance(seconds(31));
    c.settle();
  }
  EXPECT_FALSE(c.has_deployment(revs[0]));
  EXPECT_FALSE(c.has_deployment(revs[1]));
  EXPECT_TRUE(c.has_deployment(revs[2]));  // the one kept for rollback
  EXPECT_EQ(c.replicas(revs[2]), 0);
  EXPECT_TRUE(c.has_deployment(revs[3]));
  EXPECT_EQ(c.status()["revisions"].size(), 2u);
}

// createdAt has whole seconds: of two revisions created in the same second,
// the later one is the newer and is the one kept.
TEST(ModelReleasePlan, HistoryLimitKeepsTheLaterOfTwoRevisionsOfTheSameSecond) {
  Cluster c;
  c.release["spec"]["revisionHistoryLimit"] = 1;
  const std::string a = first_release(c);
  const std::string b = release_model(c, "bbb");  // no time passes
  ASSERT_EQ(c.status()["revisions"][0]["createdAt"], c.status()["revisions"][1]["createdAt"]);
  c.advance(seconds(31));
  c.settle();
  const std::string cc = release_model(c, "ccc");
  c.advance(seconds(31));
  c.settle();
  EXPECT_FALSE(c.has_deployment(a));
  EXPECT_TRUE(c.has_deployment(b));
  EXPECT_TRUE(c.has_deployment(cc));
  ASSERT_EQ(c.status()["revisions"].size(), 2u);
  EXPECT_EQ(c.status()["revisions"][0]["revision"], b);
  EXPECT_EQ(c.status()["revisions"][1]["revision"], cc);
}

TEST(ModelReleasePlan, ScalingDoesNotCreateARevision) {
  Cluster c;
  const std::string a = first_release(c);
  c.release["spec"]["replicas"] = 3;
  const Plan p = c.step();
  EXPECT_TRUE(p.create_deployments.empty());
  EXPECT_EQ(c.replicas(a), 3);
  EXPECT_EQ(c.selected("churn"), a);
  EXPECT_EQ(c.phase(), "Progressing");
  c.pods_up(a);
  c.step();
  EXPECT_EQ(c.phase(), "Healthy");
}

TEST(ModelReleasePlan, RestartAfterTheSwitchBeforeTheStatusWrite) {
  Cluster c;
  const std::string a = first_release(c);
  c.set_model("bbb", 0.95);
  const std::string b = revision_for(c, "bbb");
  c.step();
  c.all_pods_up();
  // The switch happens, but the status write is lost (operator killed).
  Plan p = plan(c.observe());
  p.status.reset();
  c.apply(p);
  ASSERT_EQ(c.selected("churn"), b);
  c.step();
  EXPECT_EQ(c.status()["activeRevision"], b);
  auto states = revision_states(c);
  EXPECT_EQ(states[b], "Active");
  EXPECT_EQ(states[a], "Inactive");
  EXPECT_EQ(c.status()["revisions"][0]["reason"], "Replaced");
  EXPECT_EQ(c.replicas(a), 2) << "the old revision still gets its scale-down delay";
  c.advance(seconds(31));
  c.settle();
  EXPECT_EQ(c.replicas(a), 0);
  EXPECT_TRUE(c.has_event("ScaledDown"));
}

TEST(ModelReleasePlan, RestartAfterCreateBeforeTheStatusWriteMakesNoDuplicate) {
  Cluster c;
  const std::string a = revision_for(c, "aaa");
  Plan p = plan(c.observe());
  p.status.reset();
  c.apply(p);
  const Plan again = c.step();
  EXPECT_TRUE(again.create_deployments.empty());
  EXPECT_EQ(c.deployments.size(), 1u);
  c.all_pods_up();
  c.settle();
  EXPECT_EQ(c.selected("churn"), a);
}

TEST(ModelReleasePlan, ForeignServiceIsNeverTouched) {
  Cluster c;
  c.active_pods_expected = false;  // the foreign Service is not ours to judge
  c.services["churn"] = {{"metadata", {{"name", "churn"}, {"namespace", "ml"}}},
                         {"spec", {{"selector", {{"app", "legacy"}}}}}};
  const Plan p = c.step();
  EXPECT_EQ(p.object_writes(), 0u);
  EXPECT_EQ(c.condition("Stalled", "reason"), "ServiceConflict");
  EXPECT_EQ(c.services["churn"]["spec"]["selector"], Json({{"app", "legacy"}}));
  EXPECT_TRUE(c.has_event("ServiceConflict"));
  c.events.clear();
  c.step();
  EXPECT_FALSE(c.has_event("ServiceConflict")) << "reported once";
}

// The CRD refuses one name for both Services; a release stored before that
// rule must still never have its active Service patched as a preview.
TEST(ModelReleasePlan, OneNameForBothServicesIsAConflictNotASwitch) {
  Cluster c;
  const std::string a = first_release(c);
  c.release["spec"]["strategy"]["blueGreen"]["previewService"] = "churn";
  c.set_model("bbb", 0.95);
  c.step();
  c.all_pods_up();
  c.settle();
  EXPECT_EQ(c.selected("churn"), a);
  EXPECT_EQ(c.condition("Stalled", "reason"), "ServiceConflict");
  EXPECT_NE(c.status()["message"].get<std::string>().find("both named churn"), std::string::npos);
  EXPECT_TRUE(c.services.contains("churn-preview")) << "nothing deleted either";
}

TEST(ModelReleasePlan, TrainingRunStatesDriveTheRelease) {
  Cluster c;
  c.release["spec"]["model"] = {{"trainingRunRef", {{"name", "churn-2"}}}};
  c.step();
  EXPECT_EQ(c.phase(), "Pending");
  EXPECT_EQ(c.condition("Reconciling", "reason"), "TrainingRunNotFound");
  c.run = sim::training_run("churn-2", "v2", 0.9, "Running");
  c.step();
  EXPECT_EQ(c.condition("Reconciling", "reason"), "TrainingRunNotReady");
  EXPECT_TRUE(c.deployments.empty());
  c.run = sim::training_run("churn-2", "v2", 0.9, "Failed");
  c.step();
  EXPECT_EQ(c.phase(), "Degraded");
  EXPECT_EQ(c.condition("Stalled", "reason"), "TrainingRunFailed");
  EXPECT_TRUE(c.deployments.empty());
  c.run = sim::training_run("churn-2", "v2", 0.9, "Succeeded");
  roll_out(c);
  EXPECT_EQ(c.phase(), "Healthy");
  EXPECT_EQ(c.status()["lineage"]["trainingRun"], "churn-2");
  EXPECT_EQ(c.status()["lineage"]["code"]["revision"], "c0ffee");
  EXPECT_EQ(c.status()["lineage"]["params"]["depth"], "6");
  EXPECT_EQ(c.status()["revisions"][0]["trainingRun"], "churn-2");
}

TEST(ModelReleasePlan, TrainingRunDeletedLaterKeepsServing) {
  Cluster c;
  release_from_training_run(c);
  const std::string active = c.status()["activeRevision"];
  c.run.reset();
  c.settle();
  EXPECT_EQ(c.selected("churn"), active);
  EXPECT_EQ(c.status()["lineage"]["trainingRun"], "churn-2") << "lineage lives on the Deployment";
}

TEST(ModelReleasePlanRepairs, DeletedActiveDeploymentIsRecreated) {
  Cluster c;
  c.active_pods_expected = false;  // the test deletes the live pods itself
  const std::string a = first_release(c);
  c.deployments.erase("churn-" + a);
  const Plan p = c.step();
  ASSERT_EQ(p.create_deployments.size(), 1u);
  EXPECT_EQ(c.replicas(a), 2);
  EXPECT_TRUE(c.has_event("DeploymentRecreated"));
  EXPECT_EQ(c.selected("churn"), a);
  EXPECT_EQ(c.phase(), "Degraded");
  EXPECT_EQ(c.condition("Reconciling"), "True") << "kstatus must not read it as current";
  c.pods_up(a);
  c.step();
  EXPECT_EQ(c.phase(), "Healthy");
}

// Rule 1 also for the live revision: an active Service deleted by hand comes
// back only once that revision is fully available again.
TEST(ModelReleasePlanRepairs, DeletedActiveServiceComesBackOnlyOnAFullyAvailableRevision) {
  Cluster c;
  c.active_pods_expected = false;
  const std::string a = first_release(c);
  c.services.erase("churn");
  c.pods_up(a, 1);
  c.step();
  EXPECT_EQ(c.services.count("churn"), 0u) << "not onto a revision with 1 of 2 pods";
  EXPECT_EQ(c.status()["activeRevision"], a) << "status remembers what is live";
  c.pods_up(a);
  c.step();
  EXPECT_EQ(c.selected("churn"), a);
  EXPECT_EQ(c.phase(), "Healthy");
}

TEST(ModelReleasePlanRepairs, ActiveLosingPodsIsReconcilingNotQuietlyCurrent) {
  Cluster c;
  c.active_pods_expected = false;
  const std::string a = first_release(c);
  c.pods_up(a, 1);
  c.step();
  EXPECT_EQ(c.phase(), "Degraded");
  EXPECT_EQ(c.condition("Ready"), "False");
  EXPECT_EQ(c.condition("Reconciling"), "True");
}

TEST(ModelReleasePlanRepairs, ActiveRevisionPodsThatCannotRunAreNamedInTheDegradedStatus) {
  Cluster c;
  c.active_pods_expected = false;
  const std::string a = first_release(c);
  c.pods_up(a, 1);
  c.add_waiting_pod(a, "churn-aaa-2", "CrashLoopBackOff", "back-off 10s restarting");
  c.pods.back()["status"]["containerStatuses"][0]["restartCount"] = 3;
  c.pods.back()["status"]["containerStatuses"][0]["lastState"] = {
      {"terminated", {{"exitCode", 1}, {"reason", "Error"}, {"message", "model file missing"}}}};
  c.step();
  EXPECT_EQ(c.phase(), "Degraded");
  EXPECT_EQ(c.status()["message"],
            "active revision " + a +
                " is not fully available: pod churn-aaa-2: container server: CrashLoopBackOff: "
                "exited with code 1 (Error): model file missing, restarted 3 times");
}

TEST(ModelReleasePlanRepairs, RefusedDeploymentIsReportedAndRetriedOrAborted) {
  Cluster c;
  const std::string a = first_release(c);
  c.set_model("bbb", 0.95);
  const std::string b = revision_for(c, "bbb");
  c.refuse[b] = {false, "exceeded quota: compute"};
  c.step();
  EXPECT_FALSE(c.has_deployment(b));
  EXPECT_EQ(c.phase(), "Progressing");
  EXPECT_EQ(c.condition("Reconciling", "reason"), "DeploymentCreateFailed");
  EXPECT_NE(c.condition("Reconciling", "message").find("exceeded quota"), std::string::npos);
  EXPECT_TRUE(c.has_event("DeploymentCreateFailed"));

  c.refuse[b] = {true, "spec.template.spec.containers[0].image: Required value"};
  c.step();
  EXPECT_EQ(c.phase(), "Degraded");
  EXPECT_EQ(c.condition("Stalled", "reason"), "DeploymentRejected");
  EXPECT_TRUE(c.has_event("DeploymentRejected"));
  EXPECT_EQ(c.selected("churn"), a);
  c.refuse.clear();
  EXPECT_EQ(c.settle(), 0) << "a rejected revision is not retried";
}

TEST(ModelReleasePlanRepairs, DeploymentRefusedUntilTheDeadlineIsAbortedThere) {
  Cluster c;
  const std::string a = first_release(c);
  c.set_model("bbb", 0.95);
  const std::string b = revision_for(c, "bbb");
  c.refuse[b] = {false, "exceeded quota: compute"};
  const Plan first = c.step();
  ASSERT_TRUE(first.requeue_after.has_value()) << "comes back by the deadline at the latest";
  EXPECT_LE(*first.requeue_after, seconds(121));
  c.advance(seconds(119));
  c.step();
  EXPECT_EQ(c.condition("Reconciling", "reason"), "DeploymentCreateFailed");

  // Still refused when the progress deadline (120 s) passes: rule 4 holds for
  // a candidate that never got a Deployment, instead of Progressing forever.
  c.advance(seconds(1));
  c.step();
  EXPECT_EQ(c.phase(), "Degraded");
  EXPECT_EQ(c.condition("Stalled", "reason"), "ProgressDeadlineExceeded");
  EXPECT_NE(c.condition("Stalled", "message").find("exceeded quota"), std::string::npos)
      << c.condition("Stalled", "message");
  EXPECT_EQ(c.status()["revisions"].back()["state"], "Aborted");
  EXPECT_EQ(c.selected("churn"), a);
  EXPECT_EQ(c.selected("churn-preview"), a);

  // The quota frees up later: no pods start for the aborted candidate.
  c.refuse.clear();
  c.settle();
  EXPECT_FALSE(c.has_deployment(b));
  EXPECT_EQ(c.phase(), "Degraded");
}

TEST(ModelReleasePlanRepairs, ServicePortChangesReachBothServices) {
  Cluster c;
  first_release(c);
  c.release["spec"]["service"] = {{"port", 9000}, {"targetPort", "http"}};
  c.step();
  for (const char* name : {"churn", "churn-preview"}) {
    EXPECT_EQ(c.services.at(name)["spec"]["ports"][0]["port"], 9000) << name;
    EXPECT_EQ(c.services.at(name)["spec"]["ports"][0]["targetPort"], "http") << name;
  }
  EXPECT_EQ(c.settle(), 0);
}

TEST(ModelReleasePlanRepairs, RenamedServicesReplaceTheOldOnes) {
  Cluster c;
  const std::string a = first_release(c);
  c.release["spec"]["strategy"]["blueGreen"]["activeService"] = "churn-live";
  c.step();
  EXPECT_EQ(c.services.count("churn"), 0u);
  EXPECT_EQ(selected_revision(c.services.at("churn-live")), a);
}

TEST(ModelReleasePlanRepairs, DeletedTrainingRunKeepsTheReleaseHealthy) {
  Cluster c;
  release_from_training_run(c);
  ASSERT_EQ(c.phase(), "Healthy");
  c.run.reset();
  c.settle();
  EXPECT_EQ(c.phase(), "Healthy");
  EXPECT_EQ(c.condition("Ready"), "True");
  // A new serving template still rolls out, with the recorded model.
  c.release["spec"]["template"]["spec"]["containers"][0]["image"] = "serve:2";
  roll_out(c);
  EXPECT_EQ(c.phase(), "Healthy");
  EXPECT_EQ(c.status()["activeModelVersion"], "v2");
  EXPECT_EQ(c.status()["revisions"].size(), 2u);
}

TEST(ModelReleasePlanRepairs, TemplateOnlyChangeSkipsModelGates) {
  Cluster c;
  c.release["spec"]["gates"] = Json::parse(
      R"([{"metric": "accuracy", "compareToActive": "Better"}, {"metric": "auc", "min": 0.5}])");
  c.release["spec"]["model"]["metrics"] = {{"accuracy", 0.9}, {"auc", 0.7}};
  first_release(c);
  c.release["spec"]["template"]["spec"]["containers"][0]["image"] = "serve:2";
  roll_out(c);
  EXPECT_EQ(c.phase(), "Healthy") << c.condition("Ready", "message");
  EXPECT_EQ(c.status()["revisions"].back()["gates"][0]["message"],
            "skipped: same model as the active revision");
}

}  // namespace
}  // namespace cd4ml::controllers::modelrelease
