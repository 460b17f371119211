#include <gtest/gtest.h>

#include "operator/api/conditions.hpp"
#include "operator/api/trainingrun.hpp"
#include "operator/controllers/trainingrun/plan.hpp"

namespace cd4ml::controllers::trainingrun {
namespace {

using std::chrono::system_clock;

const system_clock::time_point kNow = system_clock::from_time_t(1'800'000'000);
const std::string kRunUid = "uid-run-1";
const std::string kJobUid = "uid-job-1";

Json make_run(Json status = Json::object()) {
  Json run = Json::parse(R"({
    "apiVersion": "cd4ml.io/v1alpha1", "kind": "TrainingRun",
    "metadata": {"name": "churn-1", "namespace": "ml", "uid": "uid-run-1", "generation": 1,
                 "resourceVersion": "10"},
    "spec": {"model": "churn", "code": {"repository": "https://git.example/ml", "revision": "abc"},
             "data": {"uri": "s3://d/churn", "version": "v1"},
             "trainer": {"image": "trainer:1", "env": [{"name": "SEED", "value": "1"}]},
             "params": {"lr": "0.1"}, "output": {"uri": "s3://models"},
             "backoffLimit": 2, "activeDeadlineSeconds": 600}
  })");
  if (!status.empty()) run["status"] = status;
  return run;
}

Json make_job(const std::string& owner_uid = kRunUid) {
  Json job = {
      {"apiVersion", "batch/v1"},
      {"kind", "Job"},
      {"metadata",
       {{"name", "churn-1"},
        {"namespace", "ml"},
        {"uid", kJobUid},
        {"ownerReferences",
         Json::array({{{"kind", "TrainingRun"}, {"uid", owner_uid}, {"controller", true}}})}}},
      {"status", {{"startTime", "2027-01-15T08:00:00Z"}}}};
  return job;
}

Json with_job_condition(Json job, const std::string& type, const std::string& reason,
                        const std::string& message = "") {
  job["status"]["conditions"] = Json::array({{{"type", type},
                                              {"status", "True"},
                                              {"reason", reason},
                                              {"message", message},
                                              {"lastTransitionTime", "2027-01-15T08:05:00Z"}}});
  if (type == "Complete") job["status"]["completionTime"] = "2027-01-15T08:04:59Z";
  return job;
}

Json make_pod(const std::string& phase, Json terminated = nullptr) {
  Json pod = {{"metadata", {{"name", "churn-1-x"}, {"namespace", "ml"}}},
              {"status", {{"phase", phase}}}};
  Json container = {{"name", "trainer"}, {"state", Json::object()}};
  if (!terminated.is_null()) container["state"]["terminated"] = terminated;
  pod["status"]["containerStatuses"] = Json::array({container});
  return pod;
}

Json terminated(int exit_code, const std::string& message, const std::string& reason = "",
                const std::string& finished = "2027-01-15T08:04:00Z") {
  Json t = {{"exitCode", exit_code}, {"message", message}, {"finishedAt", finished}};
  if (!reason.empty()) t["reason"] = reason;
  return t;
}

Plan plan_for(Json run, std::optional<Json> job, std::vector<Json> pods = {}) {
  return plan(Observed{std::move(run), std::move(job), std::move(pods), kNow});
}

std::string condition(const Json& status, const char* type, const char* field = "status") {
  if (!status.contains("conditions")) return "<absent>";
  const Json* c = api::find_condition(status["conditions"], type);
  return c ? c->value(field, "") : "<absent>";
}

std::vector<std::string> reasons(const Plan& p) {
  std::vector<std::string> out;
  for (const auto& e : p.events) out.push_back(e.reason);
  return out;
}

// Status as it would be after a plan was applied, for multi-step sequences.
Json applied(const Plan& p, Json run) {
  if (p.status) run["status"] = *p.status;
  return run;
}

TEST(TrainingRunPlan, NewRunCreatesItsJobAndRecordsIdentity) {
  const Plan p = plan_for(make_run(), std::nullopt);
  ASSERT_TRUE(p.create_job);
  ASSERT_TRUE(p.status);
  const auto id = api::identify(make_run()["spec"]);
  EXPECT_EQ((*p.status)["phase"], "Pending");
  EXPECT_EQ((*p.status)["jobName"], "churn-1");
  EXPECT_EQ((*p.status)["fingerprint"], id.fingerprint);
  EXPECT_EQ((*p.status)["modelVersion"], id.model_version);
  EXPECT_EQ((*p.status)["modelURI"], "s3://models/churn/" + id.model_version);
  EXPECT_EQ((*p.status)["observedGeneration"], 1);
  EXPECT_EQ(condition(*p.status, "Ready"), "False");
  EXPECT_EQ(condition(*p.status, "Reconciling"), "True");
  EXPECT_EQ(condition(*p.status, "Stalled"), "False");
  EXPECT_EQ(reasons(p), std::vector<std::string>{"JobCreated"});
}

TEST(TrainingRunPlan, JobCarriesOwnerEnvAndRunPolicy) {
  const Json job = *plan_for(make_run(), std::nullopt).create_job;
  EXPECT_EQ(job["metadata"]["name"], "churn-1");
  EXPECT_EQ(job["metadata"]["namespace"], "ml");
  const Json& owner = job["metadata"]["ownerReferences"][0];
  EXPECT_EQ(owner["uid"], kRunUid);
  EXPECT_EQ(owner["kind"], "TrainingRun");
  EXPECT_EQ(owner["controller"], true);
  EXPECT_EQ(job["spec"]["backoffLimit"], 2);
  EXPECT_EQ(job["spec"]["activeDeadlineSeconds"], 600);
  EXPECT_FALSE(job["spec"].contains("ttlSecondsAfterFinished"));
  const Json& pod_spec = job["spec"]["template"]["spec"];
  EXPECT_EQ(pod_spec["restartPolicy"], "Never");
  const Json& container = pod_spec["containers"][0];
  EXPECT_EQ(container["image"], "trainer:1");
  std::map<std::string, std::string> env;
  std::vector<std::string> order;
  for (const auto& e : container["env"]) {
    env[e["name"]] = e.value("value", "");
    order.push_back(e["name"]);
  }
  const auto id = api::identify(make_run()["spec"]);
  EXPECT_EQ(env["CD4ML_RUN"], "churn-1");
  EXPECT_EQ(env["CD4ML_MODEL"], "churn");
  EXPECT_EQ(env["CD4ML_MODEL_VERSION"], id.model_version);
  EXPECT_EQ(env["CD4ML_MODEL_URI"], id.model_uri);
  EXPECT_EQ(env["CD4ML_CODE_REPOSITORY"], "https://git.example/ml");
  EXPECT_EQ(env["CD4ML_CODE_REVISION"], "abc");
  EXPECT_EQ(env["CD4ML_DATA_URI"], "s3://d/churn");
  EXPECT_EQ(env["CD4ML_DATA_VERSION"], "v1");
  EXPECT_EQ(env["CD4ML_DATA_DIGEST"], "");
  EXPECT_EQ(Json::parse(env["CD4ML_PARAMS"]), Json({{"lr", "0.1"}}));
  EXPECT_EQ(env["SEED"], "1");
  EXPECT_EQ(order.back(), "SEED");  // the user's env comes after ours
  EXPECT_EQ(job["spec"]["template"]["metadata"]["labels"]["cd4ml.io/training-run"], "churn-1");
}

TEST(TrainingRunPlan, PodFieldsAndTrainerMountsReachTheJobsPodAsWritten) {
  Json run = make_run();
  run["spec"]["pod"] = Json::parse(R"({
    "volumes": [{"name": "models", "hostPath": {"path": "/srv/models", "type": "Directory"}}],
    "nodeSelector": {"pool": "train"},
    "tolerations": [{"key": "dedicated", "operator": "Equal", "value": "ml", "effect": "NoSchedule"}],
    "affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution":
                 {"nodeSelectorTerms": [{"matchExpressions":
                   [{"key": "zone", "operator": "In", "values": ["a"]}]}]}}},
    "serviceAccountName": "trainer",
    "imagePullSecrets": [{"name": "registry"}],
    "securityContext": {"runAsUser": 10001, "fsGroup": 10001},
    "priorityClassName": "batch-low"
  })");
  run["spec"]["trainer"]["volumeMounts"] =
      Json::parse(R"([{"name": "models", "mountPath": "/models"}])");
  run["spec"]["trainer"]["securityContext"] = Json::parse(R"({"readOnlyRootFilesystem": true})");

  const Json job = *plan_for(run, std::nullopt).create_job;
  const Json& pod_spec = job["spec"]["template"]["spec"];
  for (const auto& [field, value] : run["spec"]["pod"].items()) {
    EXPECT_EQ(pod_spec[field], value) << field;
  }
  EXPECT_EQ(pod_spec["restartPolicy"], "Never");
  const Json& container = pod_spec["containers"][0];
  EXPECT_EQ(container["volumeMounts"], run["spec"]["trainer"]["volumeMounts"]);
  EXPECT_EQ(container["securityContext"], run["spec"]["trainer"]["securityContext"]);
  // None of it changes what is trained.
  EXPECT_EQ(job["spec"]["template"]["metadata"]["labels"]["cd4ml.io/model-version"],
            api::identify(make_run()["spec"]).model_version);
}

TEST(TrainingRunPlan, ARunWithoutPodFieldsGetsAPlainPod) {
  const Json job = *plan_for(make_run(), std::nullopt).create_job;
  const Json& pod_spec = job["spec"]["template"]["spec"];
  EXPECT_EQ(pod_spec.size(), 2U) << pod_spec.dump();  // restartPolicy and containers
  EXPECT_FALSE(pod_spec["containers"][0].contains("volumeMounts"));
  EXPECT_FALSE(pod_spec["containers"][0].contains("securityContext"));
}

TEST(TrainingRunPlan, CreatedJobThatIsStillPendingChangesNothing) {
  const Json run = applied(plan_for(make_run(), std::nullopt), make_run());
  const Plan p = plan_for(run, make_job(), {make_pod("Pending")});
  EXPECT_TRUE(p.empty()) << (p.status ? p.status->dump(2) : "");
}

TEST(TrainingRunPlan, RunningPodMovesToRunningOnce) {
  const Json run = applied(plan_for(make_run(), std::nullopt), make_run());
  const Plan p = plan_for(run, make_job(), {make_pod("Running")});
  ASSERT_TRUE(p.status);
  EXPECT_EQ((*p.status)["phase"], "Running");
  EXPECT_EQ((*p.status)["startTime"], "2027-01-15T08:00:00Z");
  EXPECT_EQ(reasons(p), std::vector<std::string>{"Running"});
  // Level-based: seeing the same state again writes nothing.
  EXPECT_TRUE(plan_for(applied(p, run), make_job(), {make_pod("Running")}).empty());
}

TEST(TrainingRunPlan, TrainerPodThatCannotStartSaysWhyInTheKubeletsWordsOnce) {
  const Json run = applied(plan_for(make_run(), std::nullopt), make_run());
  Json pod = make_pod("Pending");
  pod["status"]["containerStatuses"][0]["state"] = {
      {"waiting",
       {{"reason", "ImagePullBackOff"}, {"message", "Back-off pulling image \"trainer:1\""}}}};
  const Plan p = plan_for(run, make_job(), {pod});
  ASSERT_TRUE(p.status);
  EXPECT_EQ((*p.status)["phase"], "Pending");
  EXPECT_EQ(condition(*p.status, "Reconciling", "reason"), "PodFailing");
  EXPECT_EQ(condition(*p.status, "Reconciling", "message"),
            "the training pod is not running: pod churn-1-x: container trainer: "
            "ImagePullBackOff: Back-off pulling image \"trainer:1\"");
  EXPECT_EQ(reasons(p), std::vector<std::string>{"PodFailing"});

  // The kubelet retrying (same pod, container and reason, a new message) is
  // not told again.
  pod["status"]["containerStatuses"][0]["state"]["waiting"]["message"] = "Back-off 20s";
  EXPECT_TRUE(reasons(plan_for(applied(p, run), make_job(), {pod})).empty());
}

TEST(TrainingRunPlan, RunningNeverGoesBackToPending) {
  Json run = applied(plan_for(make_run(), std::nullopt), make_run());
  run = applied(plan_for(run, make_job(), {make_pod("Running")}), run);
  // A retry pod (backoffLimit) is Pending again.
  const Plan p =
      plan_for(run, make_job(), {make_pod("Failed", terminated(1, "")), make_pod("Pending")});
  EXPECT_TRUE(p.empty());
}

TEST(TrainingRunPlan, CompleteJobSucceedsWithMetricsAndDigest) {
  const Json run = applied(plan_for(make_run(), std::nullopt), make_run());
  const std::string digest = "sha256:" + std::string(64, 'b');
  const Plan p = plan_for(
      run, with_job_condition(make_job(), "Complete", ""),
      {make_pod("Succeeded",
                terminated(0, R"({"metrics":{"accuracy":0.91,"auc":0.8},"artifactDigest":")" +
                                  digest + "\"}"))});
  ASSERT_TRUE(p.status);
  const Json& s = *p.status;
  EXPECT_EQ(s["phase"], "Succeeded");
  EXPECT_DOUBLE_EQ(s["metrics"]["accuracy"].get<double>(), 0.91);
  EXPECT_DOUBLE_EQ(s["metrics"]["auc"].get<double>(), 0.8);
  EXPECT_EQ(s["artifactDigest"], digest);
  EXPECT_EQ(s["completionTime"], "2027-01-15T08:04:59Z");
  EXPECT_EQ(condition(s, "Ready"), "True");
  EXPECT_EQ(condition(s, "Reconciling"), "False");
  EXPECT_EQ(condition(s, "Stalled"), "False");
  EXPECT_EQ(condition(s, "MetricsReported"), "True");
  EXPECT_EQ(reasons(p), std::vector<std::string>{"Succeeded"});
  EXPECT_NE(p.events[0].message.find("accuracy=0.91"), std::string::npos);
  EXPECT_FALSE(s.contains("baseline"));
}

TEST(TrainingRunPlan, AFinishedJobWhosePodTheCacheHasNotSeenEndWaitsForIt) {
  const Json run = applied(plan_for(make_run(), std::nullopt), make_run());
  Json failed = with_job_condition(make_job(), "Failed", "BackoffLimitExceeded",
                                   "Job has reached the specified backoff limit");
  failed["status"]["conditions"][0]["lastTransitionTime"] = api::rfc3339(kNow);
  // The Job's condition arrived before the pod's last update.
  const Plan early = plan_for(run, failed, {make_pod("Running")});
  EXPECT_FALSE(early.status && (*early.status)["phase"] == "Failed");
  EXPECT_TRUE(early.events.empty());
  ASSERT_TRUE(early.recheck_after);
  // Then the pod's end, with the trainer's words, is what the run records.
  const Plan later =
      plan_for(run, failed, {make_pod("Failed", terminated(1, "invalid params: x", "Error"))});
  ASSERT_TRUE(later.status);
  EXPECT_EQ((*later.status)["phase"], "Failed");
  EXPECT_NE(condition(*later.status, "Ready", "message").find("invalid params: x"),
            std::string::npos);
  EXPECT_EQ((*later.status)["failure"]["exitCode"], 1);
  EXPECT_FALSE(later.recheck_after);
  // A pod that never reports its end does not hold the run forever.
  failed["status"]["conditions"][0]["lastTransitionTime"] =
      api::rfc3339(kNow - std::chrono::seconds(16));
  const Plan stale = plan_for(run, failed, {make_pod("Running")});
  ASSERT_TRUE(stale.status);
  EXPECT_EQ((*stale.status)["phase"], "Failed");
}

TEST(TrainingRunPlan, TheTrainersBaselineIsKeptInStatus) {
  const Json run = applied(plan_for(make_run(), std::nullopt), make_run());
  const Json baseline = Json::parse(
      R"({"samples": 10, "features": {"tenure": {"edges": [12], "fractions": [0.4, 0.6]}}})");
  const Json result = {{"metrics", {{"auc", 0.8}}}, {"baseline", baseline}};
  const Plan p = plan_for(run, with_job_condition(make_job(), "Complete", ""),
                          {make_pod("Succeeded", terminated(0, result.dump()))});
  ASSERT_TRUE(p.status);
  EXPECT_EQ((*p.status)["baseline"], baseline);
}

TEST(TrainingRunPlan, MalformedResultStillSucceedsButSaysWhy) {
  const Json run = applied(plan_for(make_run(), std::nullopt), make_run());
  const Plan p = plan_for(run, with_job_condition(make_job(), "Complete", ""),
                          {make_pod("Succeeded", terminated(0, R"({"metrics":{"acc":"high"}})"))});
  ASSERT_TRUE(p.status);
  EXPECT_EQ((*p.status)["phase"], "Succeeded");
  EXPECT_FALSE(p.status->contains("metrics"));
  EXPECT_EQ(condition(*p.status, "MetricsReported"), "False");
  EXPECT_EQ(condition(*p.status, "MetricsReported", "reason"), "InvalidMetrics");
  EXPECT_NE(condition(*p.status, "MetricsReported", "message").find("\"acc\" is not a number"),
            std::string::npos);
  EXPECT_EQ(reasons(p), (std::vector<std::string>{"InvalidMetrics", "Succeeded"}));
}

TEST(TrainingRunPlan, SucceededWithoutPodReportsResultUnavailable) {
  const Json run = applied(plan_for(make_run(), std::nullopt), make_run());
  const Plan p = plan_for(run, with_job_condition(make_job(), "Complete", ""), {});
  ASSERT_TRUE(p.status);
  EXPECT_EQ((*p.status)["phase"], "Succeeded");
  EXPECT_EQ(condition(*p.status, "MetricsReported", "reason"), "ResultUnavailable");
}

TEST(TrainingRunPlan, FailedJobCarriesJobReasonAndContainerExit) {
  const Json run = applied(plan_for(make_run(), std::nullopt), make_run());
  const Plan p =
      plan_for(run,
               with_job_condition(make_job(), "Failed", "BackoffLimitExceeded",
                                  "Job has reached the specified backoff limit"),
               {make_pod("Failed", terminated(3, "bad input", "Error", "2027-01-15T08:01:00Z")),
                make_pod("Failed", terminated(137, "", "OOMKilled", "2027-01-15T08:03:00Z"))});
  ASSERT_TRUE(p.status);
  const Json& s = *p.status;
  EXPECT_EQ(s["phase"], "Failed");
  EXPECT_EQ(s["failure"]["reason"], "BackoffLimitExceeded");
  EXPECT_EQ(s["failure"]["exitCode"], 137);  // the latest attempt
  EXPECT_EQ(s["failure"]["containerReason"], "OOMKilled");
  EXPECT_EQ(condition(s, "Ready"), "False");
  EXPECT_EQ(condition(s, "Ready", "reason"), "BackoffLimitExceeded");
  EXPECT_EQ(condition(s, "Stalled"), "True");
  EXPECT_EQ(condition(s, "Reconciling"), "False");
  EXPECT_NE(condition(s, "Ready", "message").find("exited with code 137 (OOMKilled)"),
            std::string::npos);
  EXPECT_EQ(reasons(p), std::vector<std::string>{"Failed"});
  EXPECT_EQ(s["completionTime"], "2027-01-15T08:05:00Z");
}

TEST(TrainingRunPlan, DeadlineExceededWithoutTerminatedContainer) {
  const Json run = applied(plan_for(make_run(), std::nullopt), make_run());
  const Plan p = plan_for(run,
                          with_job_condition(make_job(), "Failed", "DeadlineExceeded",
                                             "Job was active longer than specified deadline"),
                          {});
  ASSERT_TRUE(p.status);
  EXPECT_EQ((*p.status)["failure"]["reason"], "DeadlineExceeded");
  EXPECT_FALSE((*p.status)["failure"].contains("exitCode"));
  EXPECT_EQ(condition(*p.status, "Ready", "reason"), "DeadlineExceeded");
}

TEST(TrainingRunPlan, JobGoneAfterCreationFailsAsJobDeletedWithoutNewJob) {
  for (const char* phase : {"Pending", "Running"}) {
    Json run = applied(plan_for(make_run(), std::nullopt), make_run());
    run["status"]["phase"] = phase;
    const Plan p = plan_for(run, std::nullopt);
    EXPECT_FALSE(p.create_job) << phase;
    ASSERT_TRUE(p.status);
    EXPECT_EQ((*p.status)["phase"], "Failed");
    EXPECT_EQ((*p.status)["failure"]["reason"], "JobDeleted");
    EXPECT_EQ(condition(*p.status, "Stalled", "reason"), "JobDeleted");
  }
}

TEST(TrainingRunPlan, JobBeingDeletedBeforeFinishingFails) {
  const Json run = applied(plan_for(make_run(), std::nullopt), make_run());
  Json job = make_job();
  job["metadata"]["deletionTimestamp"] = "2027-01-15T08:02:00Z";
  const Plan p = plan_for(run, job, {make_pod("Running")});
  ASSERT_TRUE(p.status);
  EXPECT_EQ((*p.status)["failure"]["reason"], "JobDeleted");
}

TEST(TrainingRunPlan, CompletedJobBeingDeletedByTtlStillSucceeds) {
  const Json run = applied(plan_for(make_run(), std::nullopt), make_run());
  Json job = with_job_condition(make_job(), "Complete", "");
  job["metadata"]["deletionTimestamp"] = "2027-01-15T08:06:00Z";
  const Plan p = plan_for(run, job, {make_pod("Succeeded", terminated(0, "{}"))});
  ASSERT_TRUE(p.status);
  EXPECT_EQ((*p.status)["phase"], "Succeeded");
}

TEST(TrainingRunPlan, ForeignJobOfSameNameStallsAndIsNeverTouched) {
  const Plan p = plan_for(make_run(), make_job("someone-else"));
  EXPECT_FALSE(p.create_job);
  ASSERT_TRUE(p.status);
  EXPECT_EQ(condition(*p.status, "Stalled"), "True");
  EXPECT_EQ(condition(*p.status, "Stalled", "reason"), "JobConflict");
  EXPECT_EQ(condition(*p.status, "Ready"), "False");
  EXPECT_EQ(reasons(p), std::vector<std::string>{"JobConflict"});
  // Seen again: no second event, no write.
  EXPECT_TRUE(plan_for(applied(p, make_run()), make_job("someone-else")).empty());
}

TEST(TrainingRunPlan, ConflictClearsOnceTheForeignJobIsGone) {
  const Json stalled = applied(plan_for(make_run(), make_job("someone-else")), make_run());
  const Plan p = plan_for(stalled, std::nullopt);
  ASSERT_TRUE(p.create_job);
  EXPECT_EQ(condition(*p.status, "Stalled"), "False");
}

TEST(TrainingRunPlan, FinishedRunsAreNeverTouchedAgain) {
  for (const char* phase : {"Succeeded", "Failed"}) {
    Json run = applied(plan_for(make_run(), std::nullopt), make_run());
    run["status"]["phase"] = phase;
    // Whatever the cluster shows - Job gone (TTL), a foreign Job, a running pod.
    EXPECT_TRUE(plan_for(run, std::nullopt).empty()) << phase;
    EXPECT_TRUE(plan_for(run, make_job("other")).empty()) << phase;
    EXPECT_TRUE(plan_for(run, make_job(), {make_pod("Running")}).empty()) << phase;
  }
}

TEST(TrainingRunPlan, ConditionTransitionTimesOnlyMoveOnFlips) {
  Json run = applied(plan_for(make_run(), std::nullopt), make_run());
  const std::string created_at = condition(run["status"], "Reconciling", "lastTransitionTime");
  const Plan p =
      plan(Observed{run, make_job(), {make_pod("Running")}, kNow + std::chrono::hours(1)});
  ASSERT_TRUE(p.status);
  EXPECT_EQ(condition(*p.status, "Reconciling", "lastTransitionTime"), created_at);
  const Plan done = plan(Observed{applied(p, run),
                                  with_job_condition(make_job(), "Complete", ""),
                                  {make_pod("Succeeded", terminated(0, ""))},
                                  kNow + std::chrono::hours(2)});
  EXPECT_NE(condition(*done.status, "Reconciling", "lastTransitionTime"), created_at);
}

TEST(TrainingRunPlan, InvalidJobFailsTheRunWithTheServersMessage) {
  Observed o{make_run(), std::nullopt, {}, kNow};
  o.job_create_failure = CreateFailure{true, "spec.template.spec.containers[0].resources: Invalid"};
  const Plan p = plan(o);
  EXPECT_FALSE(p.create_job);
  ASSERT_TRUE(p.status);
  EXPECT_EQ((*p.status)["phase"], "Failed");
  EXPECT_EQ((*p.status)["failure"]["reason"], "JobRejected");
  EXPECT_NE(condition(*p.status, "Ready", "message").find("resources: Invalid"), std::string::npos);
}

TEST(TrainingRunPlan, RefusedJobStaysPendingAndSaysWhy) {
  Observed o{make_run(), std::nullopt, {}, kNow};
  o.job_create_failure = CreateFailure{false, "exceeded quota: jobs"};
  const Plan p = plan(o);
  EXPECT_FALSE(p.create_job);
  ASSERT_TRUE(p.status);
  EXPECT_EQ((*p.status)["phase"], "Pending");
  EXPECT_FALSE(p.status->contains("jobName")) << "no Job was created";
  EXPECT_EQ(condition(*p.status, "Reconciling", "reason"), "JobCreateFailed");
  EXPECT_EQ(reasons(p), std::vector<std::string>{"JobCreateFailed"});
}

}  // namespace
}  // namespace cd4ml::controllers::trainingrun
