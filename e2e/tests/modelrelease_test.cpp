// ModelRelease on the real control plane (issue 5). Every rollout runs with
// an InvariantWatcher beside it: the test fails if the active Service ever
// selects a revision that is not fully ready, or the preview Service one with
// no ready pod.

#include "operator/api/modelrelease.hpp"

#include <gtest/gtest.h>

#include "cluster.hpp"
#include "invariant_watcher.hpp"
#include "kube_session.hpp"
#include "modelrelease_fixture.hpp"
#include "operator/controllers/modelrelease/reconciler.hpp"
#include "operator/kube/client_writer.hpp"
#include "operator/runtime/event_recorder.hpp"
#include "operator_process.hpp"
#include "samples.hpp"

namespace cd4ml::e2e {
namespace {

class ModelReleaseE2E : public ReleaseFixture {
 protected:
  // Points release "churn" at `run` with manual promotion (one preview pod)
  // and waits until the candidate waits in preview; returns the release then.
  Json hold_in_preview(const std::string& run) {
    patch_release(
        "churn",
        {{"spec",
          {{"model", {{"trainingRunRef", {{"name", run}}}}},
           {"strategy", {{"blueGreen", {{"autoPromotion", false}, {"previewReplicas", 1}}}}}}}});
    return wait_for_phase("churn", "AwaitingPromotion");
  }
};

TEST_F(ModelReleaseE2E, FirstReleaseGoesHealthy) {
  watch("churn", 2);
  apply_json(training_run("churn-1", 0.9));
  apply_json(release("churn", "churn-1"));
  const Json r = wait_for_phase("churn", "Healthy");
  const std::string rev = r["status"]["activeRevision"];
  ASSERT_EQ(rev.size(), 10u);
  EXPECT_EQ(kubectl({"wait", "--for=condition=Ready", "modelrelease/churn", "-n", ns_.name(),
                     "--timeout=5s"})
                .exit_code,
            0);

  const auto dep = get_json("deployment", ns_.name(), "churn-" + rev);
  ASSERT_TRUE(dep);
  EXPECT_EQ((*dep)["metadata"]["ownerReferences"][0]["uid"], r["metadata"]["uid"]);
  const Json& labels = (*dep)["spec"]["template"]["metadata"]["labels"];
  EXPECT_EQ(labels["cd4ml.io/release"], "churn");
  EXPECT_EQ(labels["cd4ml.io/revision"], rev);
  EXPECT_EQ(labels["cd4ml.io/model-version"], r["status"]["activeModelVersion"]);
  for (const auto& c : (*dep)["spec"]["template"]["spec"]["containers"]) {
    std::map<std::string, std::string> env;
    for (const auto& e : c["env"]) env[e["name"]] = e.value("value", "");
    EXPECT_EQ(env["CD4ML_MODEL_VERSION"], r["status"]["activeModelVersion"]);
    EXPECT_EQ(env["CD4ML_MODEL_URI"], r["status"]["lineage"]["modelURI"]);
  }
  for (const char* svc : {"churn", "churn-preview"}) {
    const auto s = get_json("service", ns_.name(), svc);
    ASSERT_TRUE(s) << svc;
    EXPECT_EQ((*s)["spec"]["selector"]["cd4ml.io/revision"], rev) << svc;
    EXPECT_EQ((*s)["metadata"]["ownerReferences"][0]["uid"], r["metadata"]["uid"]) << svc;
  }
  EXPECT_EQ(r["status"]["lineage"]["trainingRun"], "churn-1");
  EXPECT_EQ(r["status"]["lineage"]["code"]["revision"], "4f2a9c1");
  EXPECT_EQ(r["status"]["lineage"]["params"]["depth"], "6");
  EXPECT_TRUE(has_release_event("churn", "Promoted"));
  const std::string columns = kubectl_ok({"get", "mr", "churn", "-n", ns_.name()});
  EXPECT_NE(columns.find("ACTIVE"), std::string::npos);
  EXPECT_NE(columns.find(r["status"]["activeModelVersion"].get<std::string>()), std::string::npos);
  EXPECT_NE(kubectl_ok({"get", "cd4ml", "-n", ns_.name()}).find("trainingrun.cd4ml.io/churn-1"),
            std::string::npos);
  expect_no_violations();
}

TEST_F(ModelReleaseE2E, NewTrainingRunRollsOutPreviewThenActive) {
  watch("churn", 2);
  apply_json(training_run("churn-1", 0.9));
  apply_json(
      release("churn", "churn-1", {{"strategy", {{"blueGreen", {{"scaleDownDelaySeconds", 2}}}}}}));
  const std::string old_rev = wait_for_phase("churn", "Healthy")["status"]["activeRevision"];

  apply_json(training_run("churn-2", 0.95));
  wait_for_run("churn-2");
  patch_release("churn", {{"spec", {{"model", {{"trainingRunRef", {{"name", "churn-2"}}}}}}}});
  const Json r = wait_until_release("churn", "a new active revision", [&](const Json& mr) {
    return mr.value("/status/phase"_json_pointer, std::string()) == "Healthy" &&
           mr.value("/status/activeRevision"_json_pointer, std::string()) != old_rev;
  });
  const std::string new_rev = r["status"]["activeRevision"];
  EXPECT_EQ(r["status"]["lineage"]["trainingRun"], "churn-2");
  EXPECT_TRUE(has_release_event("churn", "RevisionCreated"));
  EXPECT_TRUE(has_release_event("churn", "PreviewSwitched"));
  EXPECT_TRUE(has_release_event("churn", "Promoted"));
  // The old revision is scaled down after the delay and kept for rollback.
  wait_until("old revision scaled to 0", 60s, [&] {
    auto d = get_json("deployment", ns_.name(), "churn-" + old_rev);
    return d && (*d)["spec"]["replicas"] == 0;
  });
  EXPECT_TRUE(has_release_event("churn", "ScaledDown"));
  const auto history = watcher_->active_history();
  EXPECT_EQ(history, (std::vector<std::string>{old_rev, new_rev}));
  expect_no_violations();
}

TEST_F(ModelReleaseE2E, GateFailureLeavesTheOldVersionActiveAndSaysWhy) {
  watch("churn", 2);
  apply_json(training_run("churn-1", 0.92));
  apply_json(training_run("churn-bad", 0.71));
  apply_json(release("churn", "churn-1",
                     {{"gates", Json::array({{{"metric", "accuracy"}, {"min", 0.9}}})}}));
  const std::string old_rev = wait_for_phase("churn", "Healthy")["status"]["activeRevision"];
  wait_for_run("churn-bad");
  patch_release("churn", {{"spec", {{"model", {{"trainingRunRef", {{"name", "churn-bad"}}}}}}}});
  const Json r = wait_for_phase("churn", "Degraded");
  EXPECT_EQ(r["status"]["activeRevision"], old_rev);
  const Json* stalled = condition(r, "Stalled");
  ASSERT_NE(stalled, nullptr);
  EXPECT_EQ((*stalled)["status"], "True");
  EXPECT_EQ((*stalled)["reason"], "GateFailed");
  const std::string message = (*stalled)["message"];
  EXPECT_NE(message.find("accuracy 0.71 is below the minimum 0.9"), std::string::npos) << message;
  EXPECT_EQ(
      get_json("service", ns_.name(), "churn").value()["spec"]["selector"]["cd4ml.io/revision"],
      old_rev);
  EXPECT_EQ(list_json("deployments", ns_.name(), "cd4ml.io/release=churn").size(), 1u)
      << "a rejected candidate never gets pods";
  EXPECT_TRUE(has_release_event("churn", "GateFailed"));
  expect_no_violations();
}

TEST_F(ModelReleaseE2E, CandidateNeverReadyIsAbortedAtTheDeadline) {
  watch("churn", 2);
  apply_json(training_run("churn-1", 0.9));
  apply_json(release("churn", "churn-1", {{"progressDeadlineSeconds", 8}}));
  const std::string old_rev = wait_for_phase("churn", "Healthy")["status"]["activeRevision"];
  // A new serving image whose pods never become ready.
  patch_release(
      "churn",
      {{"spec",
        {{"template",
          {{"spec",
            {{"containers", Json::array({{{"name", "server"},
                                          {"image", "serve:2-broken"},
                                          {"env", Json::array({{{"name", "KWOK_NOT_READY"},
                                                                {"value", "1"}}})}}})}}}}}}}});
  const Json r = wait_for_phase("churn", "Degraded", 60s);
  const Json* stalled = condition(r, "Stalled");
  ASSERT_NE(stalled, nullptr);
  EXPECT_EQ((*stalled)["reason"], "ProgressDeadlineExceeded");
  EXPECT_EQ(r["status"]["activeRevision"], old_rev);
  const std::string candidate = r["status"]["targetRevision"];
  wait_until("aborted candidate scaled to 0", 30s, [&] {
    auto d = get_json("deployment", ns_.name(), "churn-" + candidate);
    return d && (*d)["spec"]["replicas"] == 0;
  });
  EXPECT_EQ(get_json("service", ns_.name(), "churn-preview")
                .value()["spec"]["selector"]["cd4ml.io/revision"],
            old_rev);
  EXPECT_TRUE(has_release_event("churn", "ProgressDeadlineExceeded"));
  EXPECT_EQ(watcher_->active_history(), std::vector<std::string>{old_rev});
  expect_no_violations();
}

// Safety rule 6: a spec change mid-rollout makes the newest revision the
// target; the abandoned candidate (held in preview here, waiting for a
// promotion that never comes) is scaled down and never receives traffic.
TEST_F(ModelReleaseE2E, NewestSpecWinsMidRollout) {
  watch("churn", 2);
  apply_json(training_run("churn-1", 0.9));
  apply_json(training_run("churn-2", 0.93));
  apply_json(training_run("churn-3", 0.95));
  apply_json(release("churn", "churn-1"));
  const std::string first = wait_for_phase("churn", "Healthy")["status"]["activeRevision"];
  wait_for_run("churn-2");
  wait_for_run("churn-3");

  const std::string abandoned = hold_in_preview("churn-2")["status"]["previewRevision"];
  ASSERT_NE(abandoned, first);
  patch_release("churn", {{"spec", {{"model", {{"trainingRunRef", {{"name", "churn-3"}}}}}}}});
  const Json r = wait_until_release("churn", "churn-3 waiting in preview", [&](const Json& mr) {
    const std::string preview = mr.value("/status/previewRevision"_json_pointer, std::string());
    return mr.value("/status/phase"_json_pointer, std::string()) == "AwaitingPromotion" &&
           !preview.empty() && preview != abandoned;
  });
  const std::string newest = r["status"]["previewRevision"];
  EXPECT_EQ(r["status"]["targetRevision"], newest);
  EXPECT_EQ(r["status"]["activeRevision"], first) << "nothing promoted without the annotation";
  wait_until("abandoned candidate scaled to 0", 60s, [&] {
    auto d = get_json("deployment", ns_.name(), "churn-" + abandoned);
    return d && (*d)["spec"]["replicas"] == 0;
  });
  bool recorded = false;
  for (const auto& rec : r["status"]["revisions"]) {
    if (rec["revision"] != abandoned) continue;
    recorded = true;
    EXPECT_EQ(rec["reason"], "Superseded") << rec.dump();
  }
  EXPECT_TRUE(recorded) << r["status"].dump(2);

  kubectl_ok({"annotate", "mr", "churn", "-n", ns_.name(), "cd4ml.io/promote=" + newest});
  wait_until_release("churn", "churn-3 active", [&](const Json& mr) {
    return mr.value("/status/phase"_json_pointer, std::string()) == "Healthy" &&
           mr.value("/status/activeRevision"_json_pointer, std::string()) == newest;
  });
  // The watcher sees the switch on its own watch, maybe after the status.
  wait_until("the invariant watcher sees the switch", 30s, [&] {
    const auto history = watcher_->active_history();
    return !history.empty() && history.back() == newest;
  });
  EXPECT_EQ(watcher_->active_history(), (std::vector<std::string>{first, newest}))
      << "the abandoned candidate never served";
  expect_no_violations();
}

TEST_F(ModelReleaseE2E, ManualPromotion) {
  watch("churn", 2);
  apply_json(training_run("churn-1", 0.9));
  apply_json(training_run("churn-2", 0.93));
  apply_json(release("churn", "churn-1"));
  const std::string old_rev = wait_for_phase("churn", "Healthy")["status"]["activeRevision"];
  wait_for_run("churn-2");
  const Json waiting = hold_in_preview("churn-2");
  const std::string candidate = waiting["status"]["previewRevision"];
  EXPECT_EQ(waiting["status"]["activeRevision"], old_rev);
  EXPECT_EQ(get_json("service", ns_.name(), "churn-preview")
                .value()["spec"]["selector"]["cd4ml.io/revision"],
            candidate);
  EXPECT_EQ(get_json("deployment", ns_.name(), "churn-" + candidate).value()["spec"]["replicas"],
            1);
  kubectl_ok({"annotate", "mr", "churn", "-n", ns_.name(), "cd4ml.io/promote=" + candidate});
  const Json r = wait_until_release("churn", "promoted candidate", [&](const Json& mr) {
    return mr.value("/status/activeRevision"_json_pointer, std::string()) == candidate &&
           mr.value("/status/phase"_json_pointer, std::string()) == "Healthy";
  });
  EXPECT_EQ(get_json("deployment", ns_.name(), "churn-" + candidate).value()["spec"]["replicas"],
            2);
  EXPECT_EQ(r["metadata"]["annotations"]["cd4ml.io/promote"], candidate);
  expect_no_violations();
}

TEST_F(ModelReleaseE2E, AbortAnnotationStopsTheCandidate) {
  watch("churn", 2);
  apply_json(training_run("churn-1", 0.9));
  apply_json(training_run("churn-2", 0.93));
  apply_json(
      release("churn", "churn-1",
              {{"strategy", {{"blueGreen", {{"autoPromotion", false}, {"previewReplicas", 1}}}}}}));
  const Json first = wait_for_phase("churn", "AwaitingPromotion");
  kubectl_ok({"annotate", "mr", "churn", "-n", ns_.name(),
              "cd4ml.io/promote=" + first["status"]["previewRevision"].get<std::string>()});
  const std::string old_rev = wait_for_phase("churn", "Healthy")["status"]["activeRevision"];
  wait_for_run("churn-2");
  patch_release("churn", {{"spec", {{"model", {{"trainingRunRef", {{"name", "churn-2"}}}}}}}});
  const std::string candidate =
      wait_for_phase("churn", "AwaitingPromotion")["status"]["previewRevision"];
  kubectl_ok(
      {"annotate", "mr", "churn", "-n", ns_.name(), "--overwrite", "cd4ml.io/abort=" + candidate});
  const Json r = wait_for_phase("churn", "Degraded");
  EXPECT_EQ((*condition(r, "Stalled"))["reason"], "Aborted");
  EXPECT_EQ(r["status"]["activeRevision"], old_rev);
  wait_until("preview back on the active revision", 30s, [&] {
    return get_json("service", ns_.name(), "churn-preview")
               .value()["spec"]["selector"]["cd4ml.io/revision"] == old_rev;
  });
  wait_until("aborted candidate scaled to 0", 30s, [&] {
    return get_json("deployment", ns_.name(), "churn-" + candidate).value()["spec"]["replicas"] ==
           0;
  });
  EXPECT_TRUE(has_release_event("churn", "Aborted"));

  // Both annotations stay (the operator never removes them: GitOps owns the
  // object) and now name revisions that are not the candidate: the next
  // candidate is neither aborted nor promoted by them.
  apply_json(training_run("churn-3", 0.95));
  wait_for_run("churn-3");
  patch_release("churn", {{"spec", {{"model", {{"trainingRunRef", {{"name", "churn-3"}}}}}}}});
  const Json next = wait_until_release("churn", "churn-3 waiting in preview", [&](const Json& mr) {
    const std::string preview = mr.value("/status/previewRevision"_json_pointer, std::string());
    return mr.value("/status/phase"_json_pointer, std::string()) == "AwaitingPromotion" &&
           !preview.empty() && preview != candidate;
  });
  EXPECT_EQ(next["metadata"]["annotations"]["cd4ml.io/abort"], candidate);
  EXPECT_EQ(next["status"]["activeRevision"], old_rev);
  const std::string third = next["status"]["previewRevision"];
  kubectl_ok(
      {"annotate", "mr", "churn", "-n", ns_.name(), "--overwrite", "cd4ml.io/promote=" + third});
  wait_until_release("churn", "churn-3 promoted", [&](const Json& mr) {
    return mr.value("/status/activeRevision"_json_pointer, std::string()) == third &&
           mr.value("/status/phase"_json_pointer, std::string()) == "Healthy";
  });
  expect_no_violations();
}

TEST_F(ModelReleaseE2E, FastRollbackReusesTheKeptDeployment) {
  watch("churn", 2);
  apply_json(training_run("churn-1", 0.9));
  apply_json(training_run("churn-2", 0.93));
  apply_json(
      release("churn", "churn-1", {{"strategy", {{"blueGreen", {{"scaleDownDelaySeconds", 1}}}}}}));
  const std::string first = wait_for_phase("churn", "Healthy")["status"]["activeRevision"];
  const std::string first_uid =
      get_json("deployment", ns_.name(), "churn-" + first).value()["metadata"]["uid"];
  wait_for_run("churn-2");
  patch_release("churn", {{"spec", {{"model", {{"trainingRunRef", {{"name", "churn-2"}}}}}}}});
  wait_until_release("churn", "second revision active", [&](const Json& mr) {
    return mr.value("/status/activeRevision"_json_pointer, first) != first &&
           mr.value("/status/phase"_json_pointer, std::string()) == "Healthy";
  });
  wait_until("first revision scaled to 0", 60s, [&] {
    return get_json("deployment", ns_.name(), "churn-" + first).value()["spec"]["replicas"] == 0;
  });
  patch_release("churn", {{"spec", {{"model", {{"trainingRunRef", {{"name", "churn-1"}}}}}}}});
  wait_until_release("churn", "rolled back", [&](const Json& mr) {
    return mr.value("/status/activeRevision"_json_pointer, std::string()) == first &&
           mr.value("/status/phase"_json_pointer, std::string()) == "Healthy";
  });
  EXPECT_EQ(get_json("deployment", ns_.name(), "churn-" + first).value()["metadata"]["uid"],
            first_uid)
      << "the kept Deployment is reused";
  EXPECT_EQ(list_json("deployments", ns_.name(), "cd4ml.io/release=churn").size(), 2u);
  EXPECT_TRUE(has_release_event("churn", "RolledBack"));
  expect_no_violations();
}

// Safety rule 5 both ways: the replaced revision keeps serving capacity for
// scaleDownDelaySeconds after the switch (in-flight requests, an instant way
// back), then goes to 0; beyond revisionHistoryLimit it is deleted.
TEST_F(ModelReleaseE2E, ReplacedRevisionWaitsOutItsDelayAndHistoryIsPruned) {
  watch("churn", 2);
  constexpr auto kDelay = 6s;
  apply_json(training_run("churn-1", 0.9));
  apply_json(training_run("churn-2", 0.93));
  apply_json(training_run("churn-3", 0.95));
  apply_json(release(
      "churn", "churn-1",
      {{"revisionHistoryLimit", 1},
       {"strategy",
        {{"blueGreen", {{"scaleDownDelaySeconds", std::chrono::seconds(kDelay).count()}}}}}}));
  const std::string first = wait_for_phase("churn", "Healthy")["status"]["activeRevision"];
  const auto replicas_of = [&](const std::string& revision) -> std::optional<int> {
    const auto d = get_json("deployment", ns_.name(), "churn-" + revision);
    if (!d) return std::nullopt;
    return (*d)["spec"]["replicas"].get<int>();
  };
  const auto active_selects = [&] {
    return get_json("service", ns_.name(), "churn")
        .value()["spec"]["selector"]["cd4ml.io/revision"]
        .get<std::string>();
  };

  wait_for_run("churn-2");
  patch_release("churn", {{"spec", {{"model", {{"trainingRunRef", {{"name", "churn-2"}}}}}}}});
  ASSERT_TRUE(wait_until("the active Service to leave the first revision", 90s,
                         [&] { return active_selects() != first; }));
  const auto switched = std::chrono::steady_clock::now();
  const std::string second = active_selects();
  EXPECT_EQ(replicas_of(first), 2) << "scaled down at the switch, not after the delay";
  ASSERT_TRUE(
      wait_until("the first revision scaled to 0", 60s, [&] { return replicas_of(first) == 0; }));
  // The switch was seen up to one poll (<= 0.5 s) plus one kubectl call
  // late; allow 2 s. Scaling down at the switch would read about 0 s.
  EXPECT_GE(std::chrono::steady_clock::now() - switched, kDelay - 2s);
  EXPECT_TRUE(has_release_event("churn", "ScaledDown"));

  wait_for_run("churn-3");
  patch_release("churn", {{"spec", {{"model", {{"trainingRunRef", {{"name", "churn-3"}}}}}}}});
  ASSERT_TRUE(wait_until("the active Service to select churn-3's revision", 90s, [&] {
    const std::string now = active_selects();
    return now != first && now != second;
  }));
  const std::string third = active_selects();
  // Limit 1: the second revision is kept (at 0, once its delay is over), the
  // first is deleted and dropped from status.revisions.
  ASSERT_TRUE(wait_until("the first revision's Deployment deleted", 60s,
                         [&] { return !replicas_of(first).has_value(); }));
  EXPECT_TRUE(
      wait_until("the second revision scaled to 0", 60s, [&] { return replicas_of(second) == 0; }));
  EXPECT_EQ(replicas_of(third), 2);
  EXPECT_EQ(list_json("deployments", ns_.name(), "cd4ml.io/release=churn").size(), 2u);
  const Json status = get_json("modelrelease", ns_.name(), "churn").value()["status"];
  std::vector<std::string> recorded;
  for (const auto& rec : status["revisions"]) recorded.push_back(rec["revision"]);
  EXPECT_EQ(recorded, (std::vector<std::string>{second, third}));
  expect_no_violations();
}

TEST_F(ModelReleaseE2E, DeletingTheReleaseRemovesWhatItOwns) {
  watch("churn", 2);
  apply_json(training_run("churn-1", 0.9));
  apply_json(release("churn", "churn-1"));
  wait_for_phase("churn", "Healthy");
  expect_no_violations();
  kubectl_ok({"delete", "mr", "churn", "-n", ns_.name()});
  wait_until("Deployments and Services garbage-collected", 60s, [&] {
    return list_json("deployments", ns_.name(), "cd4ml.io/release=churn").empty() &&
           !get_json("service", ns_.name(), "churn") &&
           !get_json("service", ns_.name(), "churn-preview");
  });
  EXPECT_TRUE(get_json("trainingrun", ns_.name(), "churn-1"))
      << "the TrainingRun is not the release's";
}

// No invariant watcher here: the active Service is the user's, selecting
// pods of their own; the test checks it is left exactly as it was.
TEST_F(ModelReleaseE2E, ServiceItDoesNotOwnIsNeverModified) {
  const Json foreign = {
      {"apiVersion", "v1"},
      {"kind", "Service"},
      {"metadata", {{"name", "churn"}, {"namespace", ns_.name()}}},
      {"spec", {{"selector", {{"app", "legacy"}}}, {"ports", Json::array({{{"port", 80}}})}}}};
  apply_json(foreign);
  const std::string rv =
      get_json("service", ns_.name(), "churn").value()["metadata"]["resourceVersion"];
  apply_json(training_run("churn-1", 0.9));
  apply_json(release("churn", "churn-1"));
  const Json r = wait_until_release("churn", "Stalled ServiceConflict", [&](const Json& mr) {
    const Json* stalled = condition(mr, "Stalled");
    return stalled && (*stalled)["reason"] == "ServiceConflict";
  });
  EXPECT_NE((*condition(r, "Stalled"))["message"].get<std::string>().find("Service churn"),
            std::string::npos);
  const auto after = get_json("service", ns_.name(), "churn").value();
  EXPECT_EQ(after["metadata"]["resourceVersion"], rv);
  EXPECT_EQ(after["spec"]["selector"], Json({{"app", "legacy"}}));
  EXPECT_TRUE(has_release_event("churn", "ServiceConflict"));
}

TEST_F(ModelReleaseE2E, DeploymentTheServerRefusesIsReportedNotRetriedForever) {
  watch("churn", 2);
  apply_json(training_run("churn-1", 0.9));
  // Valid for the CRD (the pod template is a core type the schema does not
  // repeat), invalid for the Deployment: a negative container port.
  Json mr = release("churn", "churn-1");
  mr["spec"]["template"]["spec"]["containers"][0]["ports"] = Json::array({{{"containerPort", -1}}});
  apply_json(mr);
  const Json r = wait_for_phase("churn", "Degraded");
  const Json* stalled = condition(r, "Stalled");
  ASSERT_NE(stalled, nullptr);
  EXPECT_EQ((*stalled)["reason"], "DeploymentRejected");
  EXPECT_NE((*stalled)["message"].get<std::string>().find("containerPort"), std::string::npos)
      << (*stalled)["message"];
  EXPECT_TRUE(has_release_event("churn", "DeploymentRejected"));
  EXPECT_TRUE(list_json("deployments", ns_.name(), "cd4ml.io/release=churn").empty());
  expect_no_violations();
}

TEST_F(ModelReleaseE2E, DeploymentNameTakenBySomeoneElseIsReportedAndLeftAlone) {
  apply_json(training_run("churn-1", 0.9));
  apply_json(release("churn", "churn-1"));
  const std::string name =
      wait_for_phase("churn", "Healthy")["status"]["revisions"][0]["deployment"];
  // The release goes (and its Deployment with it); someone else's Deployment
  // takes the name the same revision will need again.
  kubectl_ok({"delete", "modelrelease", "churn", "-n", ns_.name(), "--wait=true"});
  // The garbage collector removes the Deployment and the Services in no
  // set order, so a Service may outlive the pods it selects: the first
  // release's end is not what this test judges, and the invariant watcher
  // starts once its Services are gone too.
  ASSERT_TRUE(wait_until("the release's Deployment and Services to be collected", 120s, [&] {
    return !get_json("deployment", ns_.name(), name) && !get_json("service", ns_.name(), "churn") &&
           !get_json("service", ns_.name(), "churn-preview");
  }));
  apply_json(someone_elses_object("Deployment", ns_.name(), name));
  const Json before = get_json("deployment", ns_.name(), name).value();

  watch("churn", 2);
  apply_json(release("churn", "churn-1"));
  const Json r = wait_for_phase("churn", "Degraded");
  const Json* stalled = condition(r, "Stalled");
  ASSERT_NE(stalled, nullptr);
  EXPECT_EQ((*stalled)["reason"], "DeploymentRejected");
  EXPECT_NE((*stalled)["message"].get<std::string>().find("not controlled by this release"),
            std::string::npos)
      << (*stalled)["message"];
  // (Its status moves with its pods; what the release could have written must not.)
  const Json after = get_json("deployment", ns_.name(), name).value();
  EXPECT_EQ(after["metadata"]["uid"], before["metadata"]["uid"]);
  EXPECT_EQ(after["metadata"]["generation"], before["metadata"]["generation"])
      << "someone else's Deployment spec was changed";
  EXPECT_EQ(after["metadata"].value("labels", Json::object()),
            before["metadata"].value("labels", Json::object()));
  EXPECT_FALSE(after["metadata"].contains("ownerReferences")) << after["metadata"].dump(2);
  expect_no_violations();
}

// No invariant watcher here: the test itself takes the active revision's pods
// away (the case is about repairing that), which the watcher would report.
TEST_F(ModelReleaseE2E, DeletedActiveDeploymentIsRecreated) {
  apply_json(training_run("churn-1", 0.9));
  apply_json(release("churn", "churn-1"));
  const std::string rev = wait_for_phase("churn", "Healthy")["status"]["activeRevision"];
  const std::string uid =
      get_json("deployment", ns_.name(), "churn-" + rev).value()["metadata"]["uid"];
  kubectl_ok({"delete", "deployment", "churn-" + rev, "-n", ns_.name()});
  wait_until("a new Deployment for the active revision", 60s, [&] {
    auto d = get_json("deployment", ns_.name(), "churn-" + rev);
    return d && (*d)["metadata"]["uid"] != uid;
  });
  wait_for_phase("churn", "Healthy");
  EXPECT_TRUE(has_release_event("churn", "DeploymentRecreated"));
  EXPECT_EQ(
      get_json("service", ns_.name(), "churn").value()["spec"]["selector"]["cd4ml.io/revision"],
      rev);
}

// A Service the release needs is refused (here by a ResourceQuota; the same
// path covers admission webhooks and an exhausted Service IP range): status
// says so instead of a silent "Progressing", and the release recovers by
// itself once the cause is gone.
TEST_F(ModelReleaseE2E, RefusedServiceIsReportedAndRecoveredFrom) {
  watch("churn", 2);
  const Json quota = {{"apiVersion", "v1"},
                      {"kind", "ResourceQuota"},
                      {"metadata", {{"name", "no-services"}, {"namespace", ns_.name()}}},
                      {"spec", {{"hard", {{"services", "0"}}}}}};
  apply_json(quota);
  // Quota admission needs the quota controller's first count.
  wait_until("the quota to be counted", 60s, [&] {
    auto q = get_json("resourcequota", ns_.name(), "no-services");
    return q && q->contains("/status/hard/services"_json_pointer);
  });
  apply_json(training_run("churn-1", 0.9));
  apply_json(release("churn", "churn-1"));
  const Json refused =
      wait_until_release("churn", "the refused Service reported in status", [](const Json& mr) {
        const Json* c = condition(mr, "Reconciling");
        return c != nullptr && c->value("reason", "") == "ServiceWriteFailed";
      });
  const std::string message = refused["status"].value("message", "");
  EXPECT_NE(message.find("exceeded quota"), std::string::npos) << message;
  EXPECT_NE(refused["status"].value("phase", ""), "Healthy");
  EXPECT_FALSE(get_json("service", ns_.name(), "churn").has_value());
  EXPECT_TRUE(has_release_event("churn", "ServiceWriteFailed"));

  kubectl_ok({"delete", "resourcequota", "no-services", "-n", ns_.name()});
  const Json healthy = wait_for_phase("churn", "Healthy");
  const std::string rev = healthy["status"]["activeRevision"];
  EXPECT_EQ(
      get_json("service", ns_.name(), "churn").value()["spec"]["selector"]["cd4ml.io/revision"],
      rev);
  expect_no_violations();
}

TEST_F(ModelReleaseE2E, InvalidManifestsAreRejectedWithReadableMessages) {
  struct Case {
    Json spec_patch;
    std::string expected;
  };
  const std::vector<Case> cases = {
      {{{"model", {{"trainingRunRef", {{"name", "a"}}}, {"uri", "s3://x"}, {"version", "v"}}}},
       "exactly one of trainingRunRef"},
      {{{"model", {{"trainingRunRef", nullptr}, {"uri", "s3://x"}}}},
       "uri and version go together"},
      {{{"replicas", 0}}, "spec.replicas"},
      {{{"progressDeadlineSeconds", 0}}, "spec.progressDeadlineSeconds"},
      {{{"gates", Json::array({{{"metric", "accuracy"}}})}},
       "a gate needs min, max or compareToActive"},
      {{{"gates", Json::array({{{"metric", "a"}, {"compareToActive", "Worse"}}})}},
       "compareToActive"},
      {{{"gates", Json::array({{{"metric", "a"}, {"min", 2}, {"max", 1}}})}},
       "min must not be greater"},
      {{{"template", {{"spec", {{"containers", Json::array()}}}}}},
       "spec.template.spec.containers"},
      // The release is named "bad": its active Service defaults to "bad".
      {{{"strategy", {{"blueGreen", {{"previewService", "bad"}}}}}},
       "spec.strategy.blueGreen: Invalid value: activeService and previewService must differ"},
      {{{"strategy", {{"blueGreen", {{"activeService", "x"}, {"previewService", "x"}}}}}},
       "activeService and previewService must differ"},
      {{{"strategy", {{"blueGreen", Json::object()}, {"canary", Json::object()}}}},
       "set one of blueGreen and canary, not both"},
      {{{"strategy", {{"canary", {{"canaryService", "bad"}}}}}},
       "spec.strategy.canary: Invalid value: activeService and canaryService must differ"},
      {{{"strategy", {{"canary", {{"steps", Json::parse(R"([{"setWeight": 101}])")}}}}}},
       "spec.strategy.canary.steps[0].setWeight"},
      {{{"strategy", {{"canary", {{"steps", Json::parse(R"([{"setWeight": 5, "pause": {}}])")}}}}}},
       "a step is exactly one of setWeight, pause and analysis"},
      {{{"strategy", {{"canary", {{"steps", Json::parse(R"([{}])")}}}}}},
       "a step is exactly one of setWeight, pause and analysis"},
      {{{"strategy",
         {{"canary", {{"steps", Json::parse(R"([{"pause": {"duration": "10 minutes"}}])")}}}}}},
       "must be whole hours, minutes and seconds"},
      // spec.analysis (issue 16): the gates' vocabulary and rules.
      {{{"analysis", {{"metrics", Json::parse(R"([{"name": "errors", "query": "q"}])")}}}},
       "spec.analysis.metrics[0]: Invalid value: a metric needs min, max or compareToActive"},
      {{{"analysis",
         {{"metrics", Json::parse(R"([{"name": "errors", "query": "q", "min": 2, "max": 1},
                                      {"name": "ratio", "query": "q", "compareToActive": "NoWorse",
                                       "max": 1}])")}}}},
       "compareToActive cannot be combined with min or max in one metric"},
      {{{"analysis", {{"metrics", Json::parse(R"([{"name": "errors", "query": "q", "max": 1,
                                       "tolerance": 0.1}])")}}}},
       "tolerance only applies to compareToActive"},
      {{{"analysis",
         {{"prometheus", {{"address", "prometheus.monitoring:9090"}}},
          {"metrics", Json::parse(R"([{"name": "errors", "query": "q", "max": 1}])")}}}},
       "spec.analysis.prometheus.address: Invalid value: \"prometheus.monitoring:9090\": must be "
       "an http:// or https:// URL with a host, an optional path and no query or fragment"},
      {{{"analysis",
         {{"interval", "0s"},
          {"metrics", Json::parse(R"([{"name": "errors", "query": "q", "max": 1}])")}}}},
       "spec.analysis.interval: Invalid value: \"0s\": must be at least 1s"},
      {{{"analysis", {{"metrics", Json::parse(R"([{"name": "errors", "query": "q", "max": 1},
                                      {"name": "errors", "query": "r", "max": 2}])")}}}},
       "spec.analysis.metrics[1]: Duplicate value"},
      {{{"analysis",
         {{"prometheus",
           {{"address", "http://prometheus.monitoring:9090"},
            {"bearerTokenSecretRef", {{"name", "prom-token"}}}}},
          {"metrics", Json::parse(R"([{"name": "errors", "query": "q", "max": 1}])")}}}},
       "bearerTokenSecretRef and caSecretRef need an https:// address"},
      {{{"analysis",
         {{"prometheus",
           {{"address", "https://prometheus.monitoring:9090"},
            {"caSecretRef", {{"name", "Prom_CA"}}}}},
          {"metrics", Json::parse(R"([{"name": "errors", "query": "q", "max": 1}])")}}}},
       "spec.analysis.prometheus.caSecretRef.name: Invalid value: \"Prom_CA\": must be a Secret "
       "name"},
      {{{"strategy",
         {{"canary", {{"steps", Json::parse(R"([{"setWeight": 10}, {"analysis": {}}])")}}}}}},
       "spec.strategy.canary.steps: Invalid value: a canary analysis step needs spec.analysis"},
      {{{"analysis", {{"metrics", Json::parse(R"([{"name": "errors", "query": "q", "max": 1}])")}}},
        {"strategy",
         {{"canary", {{"steps", Json::parse(R"([{"setWeight": 10, "analysis": {}}])")}}}}}},
       "a step is exactly one of setWeight, pause and analysis"},
  };
  for (const auto& c : cases) {
    Json mr = release("bad", "churn-1");
    mr["spec"].merge_patch(c.spec_patch);
    const CommandResult r = kubectl({"apply", "-f", "-"}, mr.dump());
    EXPECT_NE(r.exit_code, 0) << c.spec_patch.dump();
    EXPECT_NE(r.err.find(c.expected), std::string::npos) << c.spec_patch.dump() << "\n" << r.err;
  }
}

// The API server applies spec.analysis's defaults, so what the operator reads
// back is what a user sees with `kubectl get -o yaml`.
TEST_F(ModelReleaseE2E, ValidAnalysisIsAcceptedWithItsDefaults) {
  const Json analysis = Json::parse(R"json({
      "prometheus": {"address": "http://prometheus.monitoring:9090"},
      "metrics": [
        {"name": "live-accuracy",
         "query": "sum(rate(outcomes_total{correct=\"true\",revision=\"{{revision}}\"}[5m]))",
         "compareToActive": "NoWorse", "tolerance": 0.01,
         "minSamples": {"query": "sum(increase(outcomes_total[5m]))", "count": 200}},
        {"name": "error-rate", "query": "errors", "max": 0.01, "count": 5}]})json");
  const Json steps = Json::parse(R"([{"setWeight": 10}, {"analysis": {}}])");
  apply_json(release("analysed", "churn-1",
                     {{"analysis", analysis}, {"strategy", {{"canary", {{"steps", steps}}}}}}));
  const Json stored = get_json("modelrelease", ns_.name(), "analysed").value();
  const Json& a = stored["spec"]["analysis"];
  EXPECT_EQ(a["interval"], "30s");
  ASSERT_EQ(a["metrics"].size(), 2u) << a.dump(2);
  for (const auto& m : a["metrics"]) {
    EXPECT_EQ(m["failureLimit"], 0) << m.dump();
    EXPECT_EQ(m["inconclusiveLimit"], 3) << m.dump();
    EXPECT_EQ(m["consecutiveErrorLimit"], 4) << m.dump();
    EXPECT_EQ(m["direction"], "HigherIsBetter") << m.dump();
  }
  EXPECT_FALSE(a["metrics"][0].contains("count")) << "no default: until the step ends";
  EXPECT_EQ(stored["spec"]["strategy"]["canary"]["steps"][1], Json::parse(R"({"analysis": {}})"))
      << "an empty analysis step is kept, not pruned";

  const api::ReleaseSpec spec = api::parse_release_spec(stored);
  ASSERT_TRUE(spec.analysis.has_value());
  EXPECT_EQ(spec.analysis->address, "http://prometheus.monitoring:9090");
  EXPECT_EQ(spec.analysis->interval, std::chrono::seconds(30));
  ASSERT_EQ(spec.analysis->metrics.size(), 2u);
  EXPECT_EQ(spec.analysis->metrics[0].query, analysis["metrics"][0]["query"]);
  EXPECT_EQ(spec.analysis->metrics[0].compare_to_active, "NoWorse");
  EXPECT_EQ(spec.analysis->metrics[0].min_samples.value().count, 200.0);
  EXPECT_EQ(spec.analysis->metrics[1].count, 5);
  ASSERT_TRUE(spec.canary.has_value());
  EXPECT_TRUE(spec.canary->steps.at(1).analysis);
}

// The reconciler itself on caches filled by hand, to hold the moment a real
// informer passes through in milliseconds: a Deployment or Service wakes the
// release again after it wrote a gate's verdict to status, before its cache
// shows that write. (No operator process runs in this namespace; time moves
// only when the test says so.)
class ModelReleaseStaleCache : public testing::Test {
 protected:
  // Counts the reconciler's DELETE requests by resource.
  class DeleteCounter final : public kube::RequestObserver {
   public:
    void on_request(std::string_view verb, std::string_view resource, int /*status*/,
                    std::chrono::nanoseconds /*latency*/) override {
      std::lock_guard lock(mutex_);
      if (verb == "delete") ++deletes_[std::string(resource)];
    }
    void on_rate_limited(std::chrono::nanoseconds /*waited*/) override {}
    int deletes(const std::string& resource) const {
      std::lock_guard lock(mutex_);
      const auto it = deletes_.find(resource);
      return it == deletes_.end() ? 0 : it->second;
    }

   private:
    mutable std::mutex mutex_;
    std::map<std::string, int> deletes_;
  };
  static kube::TransportOptions counted(DeleteCounter& counter) {
    kube::TransportOptions options;
    options.observer = &counter;
    return options;
  }

  void SetUp() override { install_crds(); }
  runtime::Result reconcile() { return reconciler_.reconcile({ns_.name(), "stale"}); }
  // The release and its objects as the server holds them now.
  void refresh() {
    releases_.upsert(std::make_shared<Json>(get_json("modelrelease", ns_.name(), "stale").value()));
    for (auto& d : list_json("deployments", ns_.name()))
      deployments_.upsert(std::make_shared<Json>(d));
    for (auto& s : list_json("services", ns_.name())) services_.upsert(std::make_shared<Json>(s));
  }
  std::map<std::string, int> told() {
    EXPECT_TRUE(recorder_.flush(10s));
    return events_told(ns_.name(), "ModelRelease", "stale");
  }

  TestNamespace ns_;
  DeleteCounter requests_;
  KubeSession session_{counted(requests_)};
  util::ManualClock clock_{std::chrono::system_clock::now()};
  runtime::EventRecorder recorder_{session_.transport(), {}, clock_};
  runtime::Store releases_, runs_, deployments_, services_, pods_;
  kube::ClientWriter writer_{session_.client()};
  controllers::modelrelease::Reconciler reconciler_{
      writer_, {releases_, runs_, deployments_, services_, pods_}, recorder_, clock_};
};

Json stale_model(const std::string& version, double accuracy) {
  return Json{{"uri", "s3://models/churn/" + version},
              {"version", version},
              {"metrics", {{"accuracy", accuracy}}}};
}

TEST_F(ModelReleaseStaleCache, WokenBeforeItsOwnStatusWriteIsSeenItTellsNothingTwice) {
  const auto model = stale_model;
  Json release = sample_release(ns_.name(), "stale", model("v1", 0.9), 1);
  release["spec"]["gates"] = {{{"metric", "accuracy"}, {"min", 0.8}}};
  apply_json(release);
  // Driven by hand: each round reconciles on what the server holds.
  wait_until("v1 to go live", 60s, [&] {
    refresh();
    reconcile();
    const auto r = get_json("modelrelease", ns_.name(), "stale");
    return r && r->value("/status/phase"_json_pointer, std::string()) == "Healthy";
  });

  // v2 misses the gate: a transition written to status only (no object
  // changes), the kind a reconcile on the old copy would decide again.
  kubectl_ok({"patch", "modelrelease", "stale", "-n", ns_.name(), "--type=merge", "-p",
              Json{{"spec", {{"model", model("v2", 0.5)}}}}.dump()});
  refresh();
  reconcile();
  const auto rejected = get_json("modelrelease", ns_.name(), "stale").value();
  EXPECT_EQ(rejected["status"]["phase"], "Degraded") << rejected["status"].dump(2);
  // Woken again (a Deployment or Service) on the same cached copy.
  for (int i = 0; i < 2; ++i) EXPECT_EQ(reconcile().kind, runtime::Result::Kind::Deferred);
  auto reasons = told();
  EXPECT_EQ(reasons["GateFailed"], 1) << "GateFailed told again from a stale cache";
  EXPECT_EQ(reasons["RevisionCreated"], 1);
  EXPECT_EQ(reasons["Promoted"], 1);
  // Once the cache shows the write, the release is planned again and finds
  // nothing new to tell.
  refresh();
  EXPECT_EQ(reconcile().kind, runtime::Result::Kind::Done);
  EXPECT_EQ(told(), reasons);
}

// A revision pruned from history has its Deployment deleted once, also when
// the release is woken again before the cache has seen that Deployment go (it
// would be taken for one created before a restart, recorded and pruned again).
TEST_F(ModelReleaseStaleCache, PrunedDeploymentIsDeletedOnceWhileTheCacheStillShowsIt) {
  Json release = sample_release(ns_.name(), "stale", stale_model("v1", 0.9), 1);
  release["spec"]["revisionHistoryLimit"] = 0;
  release["spec"]["strategy"]["blueGreen"]["scaleDownDelaySeconds"] = 0;
  apply_json(release);
  const auto phase = [&] {
    return get_json("modelrelease", ns_.name(), "stale")
        .value()
        .value("/status/phase"_json_pointer, std::string());
  };
  wait_until("v1 to go live", 60s, [&] {
    refresh();
    reconcile();
    return phase() == "Healthy";
  });
  const auto first = list_json("deployments", ns_.name());
  ASSERT_EQ(first.size(), 1u);
  const std::string v1 = first[0]["metadata"]["name"];

  kubectl_ok({"patch", "modelrelease", "stale", "-n", ns_.name(), "--type=merge", "-p",
              Json{{"spec", {{"model", stale_model("v2", 0.9)}}}}.dump()});
  wait_until("v2 to go live and v1's Deployment to be deleted", 60s, [&] {
    refresh();
    reconcile();
    clock_.advance(1s);  // past v1's scale-down time
    return !get_json("deployment", ns_.name(), v1);
  });
  EXPECT_EQ(requests_.deletes("deployments"), 1);

  // Woken again with the release's last status write seen, while the cache
  // still holds the deleted Deployment (its watch event not yet arrived).
  refresh();
  ASSERT_TRUE(deployments_.get(ns_.name(), v1)) << "the test needs the stale copy";
  // (Planned from that copy, it was recorded again and scaled: 404, a failed reconcile.)
  EXPECT_NO_THROW(reconcile());
  EXPECT_EQ(requests_.deletes("deployments"), 1) << "deleted again from a stale cache";
  const Json status = get_json("modelrelease", ns_.name(), "stale").value()["status"];
  ASSERT_EQ(status["revisions"].size(), 1u) << status.dump(2);
  EXPECT_EQ(status["revisions"][0]["modelVersion"], "v2") << status.dump(2);

  // The Deployment's delete event arrives: nothing more to do.
  deployments_.erase(runtime::object_key(ns_.name(), v1));
  refresh();
  EXPECT_EQ(reconcile().kind, runtime::Result::Kind::Done);
  EXPECT_EQ(phase(), "Healthy");
  EXPECT_EQ(requests_.deletes("deployments"), 1);
}

}  // namespace
}  // namespace cd4ml::e2e
