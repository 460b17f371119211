// TrainingRun on the real control plane (issue 4): each test runs its own
// operator process, scoped to its own namespace, and checks what a user sees:
// status, the Job the operator created, and Events.

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>
#include <sstream>

#include "cluster.hpp"
#include "kube_session.hpp"
#include "operator/controllers/trainingrun/reconciler.hpp"
#include "operator/kube/client_writer.hpp"
#include "operator/runtime/event_recorder.hpp"
#include "operator_process.hpp"

namespace cd4ml::e2e {
namespace {

const std::string kDigest = "sha256:" + std::string(64, 'a');

Json training_run(const std::string& ns, const std::string& name, const Json& trainer_env,
                  const Json& extra_spec = Json::object()) {
  Json run = {{"apiVersion", "cd4ml.io/v1alpha1"},
              {"kind", "TrainingRun"},
              {"metadata", {{"name", name}, {"namespace", ns}}},
              {"spec",
               {{"model", "churn"},
                {"code", {{"repository", "https://git.example/ml.git"}, {"revision", "4f2a9c1"}}},
                {"data", {{"uri", "s3://data/churn"}, {"version", "2026-11"}, {"digest", kDigest}}},
                {"trainer", {{"image", "registry.example/trainer:1"}, {"env", trainer_env}}},
                {"params", {{"learning_rate", "0.01"}, {"depth", "6"}}},
                {"output", {{"uri", "s3://models/"}}}}}};
  run["spec"].merge_patch(extra_spec);
  return run;
}

Json env(std::initializer_list<std::pair<const char*, std::string>> vars) {
  Json out = Json::array();
  for (const auto& [k, v] : vars) out.push_back({{"name", k}, {"value", v}});
  return out;
}

std::string phase_of(const std::string& ns, const std::string& name) {
  auto run = get_json("trainingrun", ns, name);
  return run ? run->value("/status/phase"_json_pointer, std::string()) : "<absent>";
}

Json wait_for_phase(const std::string& ns, const std::string& name, const std::string& phase,
                    OperatorProcess& op, std::chrono::milliseconds deadline = 90s) {
  wait_until(
      "TrainingRun " + name + " phase " + phase, deadline,
      [&] { return phase_of(ns, name) == phase; },
      [&] {
        auto run = get_json("trainingrun", ns, name);
        return (run ? run->dump(2) : std::string("<absent>")) + "\noperator log tail:\n" +
               op.log().substr(op.log().size() > 3000 ? op.log().size() - 3000 : 0);
      });
  return get_json("trainingrun", ns, name).value_or(Json::object());
}

const Json* condition(const Json& object, const std::string& type) {
  const Json* conditions = nullptr;
  if (object.contains("status") && object["status"].contains("conditions")) {
    conditions = &object["status"]["conditions"];
  }
  if (conditions == nullptr) return nullptr;
  for (const auto& c : *conditions) {
    if (c.value("type", "") == type) return &c;
  }
  return nullptr;
}

// The Events on TrainingRun `name`.
std::vector<Json> run_events(const std::string& ns, const std::string& name) {
  std::vector<Json> events;
  for (auto& e : list_json("events", ns)) {
    if (e["involvedObject"].value("name", "") == name &&
        e["involvedObject"].value("kind", "") == "TrainingRun") {
      events.push_back(std::move(e));
    }
  }
  return events;
}

bool has_event(const std::string& ns, const std::string& name, const std::string& reason) {
  const auto events = run_events(ns, name);
  return std::any_of(events.begin(), events.end(),
                     [&](const Json& e) { return e.value("reason", "") == reason; });
}

// Waits for an Event of `reason` on the run whose message contains `text`;
// returns how often it was recorded (its count).
int wait_for_event(const std::string& ns, const std::string& name, const std::string& reason,
                   const std::string& text = {}) {
  int count = 0;
  wait_until("Event " + reason + " on " + name + " saying '" + text + "'", 30s, [&] {
    for (const auto& e : run_events(ns, name)) {
      if (e.value("reason", "") == reason &&
          e.value("message", "").find(text) != std::string::npos) {
        count = e.value("count", 1);
        return true;
      }
    }
    return false;
  });
  return count;
}

// The Job the operator made for the run: controlled by it.
Json owned_job(const std::string& ns, const std::string& name, const Json& run) {
  const auto job = get_json("job", ns, name);
  if (!job) {
    ADD_FAILURE() << "no Job " << name;
    return Json::object();
  }
  const Json owner = job->value("/metadata/ownerReferences/0"_json_pointer, Json::object());
  EXPECT_EQ(owner.value("uid", ""), run["metadata"]["uid"]) << job->dump(2);
  EXPECT_EQ(owner.value("controller", false), true);
  return *job;
}

// The operator's reconcile count for TrainingRuns, to know a reconcile has
// happened (instead of waiting an arbitrary time).
double reconciles(const OperatorProcess& op) {
  return op.metric("controller_runtime_reconcile_total", {{"controller", "trainingrun"}});
}

// Touches the run (an annotation: metadata, not spec) so the operator
// reconciles it again, and waits until it has.
void force_reconcile(const std::string& ns, const std::string& name, OperatorProcess& op) {
  const double before = reconciles(op);
  kubectl_ok({"annotate", "trainingrun", name, "-n", ns, "--overwrite",
              "e2e.cd4ml.io/poke=" + std::to_string(before)});
  wait_until("a reconcile after the poke", 30s, [&] { return reconciles(op) > before; });
}

class TrainingRunE2E : public testing::Test {
 protected:
  void SetUp() override {
    install_crds();
    op_ = std::make_unique<OperatorProcess>(
        OperatorProcess::Options{{"--namespace=" + ns_.name()}, {}, "operator"});
    op_->start();
    ASSERT_TRUE(op_->wait_ready());
  }
  TestNamespace ns_;
  std::unique_ptr<OperatorProcess> op_;
};

TEST_F(TrainingRunE2E, SucceedsWithMetricsAndRecordsLineage) {
  const std::string result = R"({"metrics": {"accuracy": 0.93, "f1": 0.88}, "artifactDigest": ")" +
                             std::string("sha256:") + std::string(64, 'b') + "\"}";
  // Where and as whom it runs: into the Job's pod, not into the fingerprint.
  const Json pod = {
      {"volumes", Json::array({{{"name", "scratch"}, {"emptyDir", Json::object()}}})},
      {"tolerations",
       Json::array({{{"key", "cd4ml.io/e2e"}, {"operator", "Exists"}, {"effect", "NoSchedule"}}})},
      {"serviceAccountName", "default"},
      {"securityContext", {{"runAsUser", 10001}, {"runAsNonRoot", true}}}};
  const Json mounts = Json::array({{{"name", "scratch"}, {"mountPath", "/scratch"}}});
  Json manifest =
      training_run(ns_.name(), "churn-1",
                   env({{"KWOK_TERMINATION_MESSAGE", result}, {"SEED", "42"}}), {{"pod", pod}});
  manifest["spec"]["trainer"]["volumeMounts"] = mounts;
  manifest["spec"]["trainer"]["securityContext"] = {{"allowPrivilegeEscalation", false}};
  apply_json(manifest);
  const Json run = wait_for_phase(ns_.name(), "churn-1", "Succeeded", *op_);
  const Json& s = run["status"];
  EXPECT_DOUBLE_EQ(s["metrics"]["accuracy"].get<double>(), 0.93);
  EXPECT_DOUBLE_EQ(s["metrics"]["f1"].get<double>(), 0.88);
  EXPECT_EQ(s["artifactDigest"], "sha256:" + std::string(64, 'b'));
  EXPECT_EQ(s["jobName"], "churn-1");
  EXPECT_TRUE(s.contains("startTime"));
  EXPECT_TRUE(s.contains("completionTime"));
  EXPECT_EQ(s["observedGeneration"], run["metadata"]["generation"]);

  // Anyone can recompute the version from the stored spec with jq (docs/concepts.md).
  const CommandResult jq = run_command(
      {"jq", "-cS",
       ".spec | {model, code, data, trainer, params} | "
       "del(.trainer.volumeMounts, .trainer.securityContext) | walk(if type == \"object\" then "
       "with_entries(select(.value != null and .value != {} and .value != [])) else . end)"},
      run.dump());
  ASSERT_EQ(jq.exit_code, 0) << jq.err;
  std::string canonical = jq.out;
  while (!canonical.empty() && canonical.back() == '\n') canonical.pop_back();
  const CommandResult sha = run_command({"sha256sum"}, canonical);
  const std::string fingerprint = sha.out.substr(0, 64);
  EXPECT_EQ(s["fingerprint"], fingerprint);
  EXPECT_EQ(s["modelVersion"], fingerprint.substr(0, 12));
  EXPECT_EQ(s["modelURI"], "s3://models/churn/" + fingerprint.substr(0, 12));

  const Json* ready = condition(run, "Ready");
  ASSERT_NE(ready, nullptr);
  EXPECT_EQ((*ready)["status"], "True");
  EXPECT_EQ((*condition(run, "Reconciling"))["status"], "False");
  EXPECT_EQ((*condition(run, "Stalled"))["status"], "False");
  EXPECT_EQ((*condition(run, "MetricsReported"))["status"], "True");
  EXPECT_EQ(kubectl({"wait", "--for=condition=Ready", "trainingrun/churn-1", "-n", ns_.name(),
                     "--timeout=5s"})
                .exit_code,
            0);

  const auto job = get_json("job", ns_.name(), "churn-1");
  ASSERT_TRUE(job);
  const Json& owner = (*job)["metadata"]["ownerReferences"][0];
  EXPECT_EQ(owner["kind"], "TrainingRun");
  EXPECT_EQ(owner["uid"], run["metadata"]["uid"]);
  EXPECT_EQ(owner["controller"], true);
  std::map<std::string, std::string> vars;
  for (const auto& e : (*job)["spec"]["template"]["spec"]["containers"][0]["env"]) {
    vars[e["name"]] = e.value("value", "");
  }
  EXPECT_EQ(vars["CD4ML_RUN"], "churn-1");
  EXPECT_EQ(vars["CD4ML_MODEL"], "churn");
  EXPECT_EQ(vars["CD4ML_MODEL_VERSION"], s["modelVersion"]);
  EXPECT_EQ(vars["CD4ML_MODEL_URI"], s["modelURI"]);
  EXPECT_EQ(vars["CD4ML_CODE_REPOSITORY"], "https://git.example/ml.git");
  EXPECT_EQ(vars["CD4ML_CODE_REVISION"], "4f2a9c1");
  EXPECT_EQ(vars["CD4ML_DATA_URI"], "s3://data/churn");
  EXPECT_EQ(vars["CD4ML_DATA_VERSION"], "2026-11");
  EXPECT_EQ(vars["CD4ML_DATA_DIGEST"], kDigest);
  EXPECT_EQ(Json::parse(vars["CD4ML_PARAMS"]), Json({{"depth", "6"}, {"learning_rate", "0.01"}}));
  EXPECT_EQ(vars["SEED"], "42");
  const Json& pod_spec = (*job)["spec"]["template"]["spec"];
  for (const auto& [field, value] : pod.items()) EXPECT_EQ(pod_spec[field], value) << field;
  EXPECT_EQ(pod_spec["containers"][0]["volumeMounts"], mounts);
  EXPECT_EQ(pod_spec["containers"][0]["securityContext"]["allowPrivilegeEscalation"], false);

  wait_until("Events JobCreated and Succeeded", 30s, [&] {
    return has_event(ns_.name(), "churn-1", "JobCreated") &&
           has_event(ns_.name(), "churn-1", "Succeeded");
  });
  const std::string columns = kubectl_ok({"get", "tr", "churn-1", "-n", ns_.name()});
  EXPECT_NE(columns.find("MODEL"), std::string::npos);
  EXPECT_NE(columns.find(s["modelVersion"].get<std::string>()), std::string::npos);
  EXPECT_NE(columns.find("Succeeded"), std::string::npos);
}

TEST_F(TrainingRunE2E, MalformedMetricsStillSucceedButSayWhy) {
  apply_json(
      training_run(ns_.name(), "bad-metrics",
                   env({{"KWOK_TERMINATION_MESSAGE", R"({"metrics": {"accuracy": "high"}})"}})));
  const Json run = wait_for_phase(ns_.name(), "bad-metrics", "Succeeded", *op_);
  EXPECT_FALSE(run["status"].contains("metrics"));
  const Json* reported = condition(run, "MetricsReported");
  ASSERT_NE(reported, nullptr);
  EXPECT_EQ((*reported)["status"], "False");
  EXPECT_EQ((*reported)["reason"], "InvalidMetrics");
  EXPECT_NE((*reported)["message"].get<std::string>().find("\"accuracy\" is not a number"),
            std::string::npos);
  owned_job(ns_.name(), "bad-metrics", run);
  wait_for_event(ns_.name(), "bad-metrics", "InvalidMetrics", "\"accuracy\" is not a number");
  wait_for_event(ns_.name(), "bad-metrics", "Succeeded", run["status"]["modelVersion"]);
}

TEST_F(TrainingRunE2E, FailureCarriesExitCodeAndReason) {
  apply_json(training_run(
      ns_.name(), "crash",
      env({{"KWOK_EXIT_CODE", "3"}, {"KWOK_TERMINATION_MESSAGE", "dataset shard 7 unreadable"}})));
  const Json run = wait_for_phase(ns_.name(), "crash", "Failed", *op_);
  const Json& failure = run["status"]["failure"];
  EXPECT_EQ(failure["reason"], "BackoffLimitExceeded");
  EXPECT_EQ(failure["exitCode"], 3);
  const Json* ready = condition(run, "Ready");
  ASSERT_NE(ready, nullptr);
  EXPECT_EQ((*ready)["reason"], "BackoffLimitExceeded");
  const std::string message = (*ready)["message"];
  EXPECT_NE(message.find("exited with code 3"), std::string::npos) << message;
  EXPECT_NE(message.find("dataset shard 7 unreadable"), std::string::npos) << message;
  EXPECT_EQ((*condition(run, "Stalled"))["status"], "True");
  const Json job = owned_job(ns_.name(), "crash", run);
  EXPECT_EQ(job["spec"]["backoffLimit"], run["spec"]["backoffLimit"])
      << "the run's backoffLimit (defaulted by the CRD) decides when it has failed";
  wait_for_event(ns_.name(), "crash", "Failed", "exited with code 3");
}

TEST_F(TrainingRunE2E, DeadlineExceededFailsTheRun) {
  apply_json(
      training_run(ns_.name(), "slow", env({{"KWOK_HOLD", "1"}}), {{"activeDeadlineSeconds", 3}}));
  const Json run = wait_for_phase(ns_.name(), "slow", "Failed", *op_);
  EXPECT_EQ(run["status"]["failure"]["reason"], "DeadlineExceeded");
  EXPECT_EQ(owned_job(ns_.name(), "slow", run)["spec"]["activeDeadlineSeconds"], 3);
  wait_for_event(ns_.name(), "slow", "Failed", "DeadlineExceeded");
}

TEST_F(TrainingRunE2E, JobDeletedMidRunFailsAndIsNotRecreated) {
  apply_json(training_run(ns_.name(), "held", env({{"KWOK_HOLD", "1"}})));
  wait_for_phase(ns_.name(), "held", "Running", *op_);
  kubectl_ok({"delete", "job", "held", "-n", ns_.name(), "--wait=false"});
  const Json run = wait_for_phase(ns_.name(), "held", "Failed", *op_);
  EXPECT_EQ(run["status"]["failure"]["reason"], "JobDeleted");
  wait_for_event(ns_.name(), "held", "Failed", "JobDeleted");
  wait_until("the deleted Job to be gone", 60s,
             [&] { return !get_json("job", ns_.name(), "held").has_value(); });
  force_reconcile(ns_.name(), "held", *op_);
  EXPECT_FALSE(get_json("job", ns_.name(), "held").has_value())
      << "a rerun must be a new TrainingRun";
  EXPECT_EQ(phase_of(ns_.name(), "held"), "Failed");
  EXPECT_EQ(wait_for_event(ns_.name(), "held", "JobCreated"), 1);
}

TEST_F(TrainingRunE2E, TtlRemovalOfTheJobLeavesTheRunSucceeded) {
  apply_json(training_run(ns_.name(), "ttl",
                          env({{"KWOK_TERMINATION_MESSAGE", R"({"metrics": {"accuracy": 0.9}})"}}),
                          {{"ttlSecondsAfterFinished", 3}}));
  wait_for_phase(ns_.name(), "ttl", "Succeeded", *op_);
  wait_until("TTL removal of the Job", 60s,
             [&] { return !get_json("job", ns_.name(), "ttl").has_value(); });
  force_reconcile(ns_.name(), "ttl", *op_);
  EXPECT_FALSE(get_json("job", ns_.name(), "ttl").has_value());
  const auto run = get_json("trainingrun", ns_.name(), "ttl");
  ASSERT_TRUE(run);
  EXPECT_EQ((*run)["status"]["phase"], "Succeeded");
  EXPECT_DOUBLE_EQ((*run)["status"]["metrics"]["accuracy"].get<double>(), 0.9);
  // The Job's removal is not news: no Failed or ResultUnavailable, one of each Event.
  EXPECT_EQ(wait_for_event(ns_.name(), "ttl", "JobCreated"), 1);
  EXPECT_EQ(wait_for_event(ns_.name(), "ttl", "Succeeded"), 1);
  EXPECT_FALSE(has_event(ns_.name(), "ttl", "Failed"));
  EXPECT_FALSE(has_event(ns_.name(), "ttl", "ResultUnavailable"));
}

// The reconciler itself on caches filled by hand, to hold the moment a real
// informer passes through in milliseconds: the run's Job or pod wakes it
// again after it wrote Succeeded, before its cache shows that write. (No
// operator process runs in this namespace; time moves only when the test
// says so.)
class TrainingRunStaleCache : public testing::Test {
 protected:
  void SetUp() override { install_crds(); }
  runtime::Result reconcile(const std::string& name) {
    return reconciler_.reconcile({ns_.name(), name});
  }
  // The run, its Job and pods as the server holds them now.
  void refresh(const std::string& name) {
    runs_.upsert(std::make_shared<Json>(get_json("trainingrun", ns_.name(), name).value()));
    if (auto job = get_json("job", ns_.name(), name)) jobs_.upsert(std::make_shared<Json>(*job));
    for (auto& pod : list_json("pods", ns_.name())) pods_.upsert(std::make_shared<Json>(pod));
  }

  TestNamespace ns_;
  KubeSession session_;
  util::ManualClock clock_{std::chrono::system_clock::now()};
  runtime::EventRecorder recorder_{session_.transport(), {}, clock_};
  runtime::Store runs_, jobs_, pods_;
  kube::ClientWriter writer_{session_.client()};
  controllers::trainingrun::Reconciler reconciler_{
      writer_, {runs_, jobs_, pods_}, recorder_, clock_};
};

TEST_F(TrainingRunStaleCache, WokenBeforeItsOwnStatusWriteIsSeenItTellsNothingTwice) {
  apply_json(
      training_run(ns_.name(), "stale",
                   env({{"KWOK_TERMINATION_MESSAGE", R"({"metrics": {"accuracy": 0.9}})"}})));
  refresh("stale");
  reconcile("stale");  // creates the Job
  wait_until("the training Job to complete", 60s, [&] {
    const auto job = get_json("job", ns_.name(), "stale");
    const Json* complete = job ? condition(*job, "Complete") : nullptr;
    return complete != nullptr && complete->value("status", "") == "True";
  });
  refresh("stale");
  reconcile("stale");  // writes Succeeded
  EXPECT_EQ(phase_of(ns_.name(), "stale"), "Succeeded");
  // Woken again (pod update) on the same cached copy.
  for (int i = 0; i < 2; ++i) {
    EXPECT_EQ(reconcile("stale").kind, runtime::Result::Kind::Deferred);
  }
  ASSERT_TRUE(recorder_.flush(10s));
  auto told = events_told(ns_.name(), "TrainingRun", "stale");
  EXPECT_EQ(told["JobCreated"], 1);
  EXPECT_EQ(told["Succeeded"], 1) << "Succeeded told again from a stale cache";
  // The wait is bounded, for a watch that is down: past it the reconcile
  // plans again on the old copy (and tells again); the status write still
  // waits, so nothing on the server goes back.
  clock_.advance(runtime::kOwnWriteWait);
  EXPECT_NE(reconcile("stale").kind, runtime::Result::Kind::Deferred);
  EXPECT_EQ(phase_of(ns_.name(), "stale"), "Succeeded");
  // Once the cache shows the write, the finished run is left alone.
  refresh("stale");
  EXPECT_EQ(reconcile("stale").kind, runtime::Result::Kind::Done);
  ASSERT_TRUE(recorder_.flush(10s));
  EXPECT_EQ(run_events(ns_.name(), "stale").size(), told.size());
}

TEST_F(TrainingRunE2E, ForeignJobOfTheSameNameIsLeftAlone) {
  Json foreign = {{"apiVersion", "batch/v1"},
                  {"kind", "Job"},
                  {"metadata", {{"name", "taken"}, {"namespace", ns_.name()}}},
                  {"spec",
                   {{"template",
                     {{"spec",
                       {{"restartPolicy", "Never"},
                        {"containers", Json::array({{{"name", "x"},
                                                     {"image", "other:1"},
                                                     {"env", env({{"KWOK_HOLD", "1"}})}}})}}}}}}}};
  apply_json(foreign);
  const auto before = get_json("job", ns_.name(), "taken");
  ASSERT_TRUE(before);
  apply_json(training_run(ns_.name(), "taken", Json::array()));
  wait_until("Stalled JobConflict", 60s, [&] {
    auto run = get_json("trainingrun", ns_.name(), "taken");
    const Json* stalled = run ? condition(*run, "Stalled") : nullptr;
    return stalled && (*stalled)["reason"] == "JobConflict" && (*stalled)["status"] == "True";
  });
  const auto after = get_json("job", ns_.name(), "taken");
  ASSERT_TRUE(after);
  // (Its resourceVersion moves: the Job controller updates its status.)
  EXPECT_EQ((*after)["spec"]["template"]["spec"]["containers"][0]["image"], "other:1");
  EXPECT_FALSE((*after)["metadata"].contains("ownerReferences"));
  EXPECT_EQ((*after)["metadata"].value("labels", Json::object()),
            (*before)["metadata"].value("labels", Json::object()));
  for (const auto& entry : (*after)["metadata"].value("managedFields", Json::array())) {
    EXPECT_NE(entry.value("manager", ""), "cd4ml-operator") << "the operator wrote to the Job";
  }
  EXPECT_TRUE(has_event(ns_.name(), "taken", "JobConflict"));
}

TEST_F(TrainingRunE2E, OperatorRestartedMidRunPicksUpWhereItWas) {
  apply_json(
      training_run(ns_.name(), "resume",
                   env({{"KWOK_DURATION", "4s"},
                        {"KWOK_TERMINATION_MESSAGE", R"({"metrics": {"accuracy": 0.91}})"}})));
  wait_for_phase(ns_.name(), "resume", "Running", *op_);
  const std::string job_uid = get_json("job", ns_.name(), "resume").value()["metadata"]["uid"];
  op_->kill9();
  // While the operator is down the training finishes.
  wait_until("Job resume Complete while the operator is down", 60s, [&] {
    auto job = get_json("job", ns_.name(), "resume");
    if (!job) return false;
    for (const auto& c : job->value("/status/conditions"_json_pointer, Json::array())) {
      if (c.value("type", "") == "Complete" && c.value("status", "") == "True") return true;
    }
    return false;
  });
  EXPECT_EQ(phase_of(ns_.name(), "resume"), "Running");
  op_->start();
  const Json run = wait_for_phase(ns_.name(), "resume", "Succeeded", *op_);
  EXPECT_DOUBLE_EQ(run["status"]["metrics"]["accuracy"].get<double>(), 0.91);
  EXPECT_EQ(owned_job(ns_.name(), "resume", run)["metadata"]["uid"], job_uid)
      << "the same Job, not a second one";
  EXPECT_EQ(wait_for_event(ns_.name(), "resume", "JobCreated"), 1);
  wait_for_event(ns_.name(), "resume", "Succeeded", "accuracy=0.91");
}

// Flags other than the defaults reach the running process (their parsing is
// unit-tested in command_line_test.cpp): JSON logs, and the worker count.
TEST(OperatorFlags, JsonLogsAndWorkerCountTakeEffect) {
  install_crds();
  TestNamespace ns;
  OperatorProcess op(
      {{"--namespace=" + ns.name(), "--log-format=json", "--max-concurrent-reconciles=3"},
       {},
       "operator"});
  op.start();
  ASSERT_TRUE(op.wait_ready());
  apply_json(training_run(ns.name(), "flags", env({})));
  wait_for_phase(ns.name(), "flags", "Succeeded", op);
  int lines = 0;
  std::set<std::string> workers;
  std::istringstream log(op.log());
  for (std::string line; std::getline(log, line);) {
    if (line.empty() || line.rfind("===", 0) == 0) continue;  // the harness's own markers
    const Json entry = Json::parse(line, nullptr, false);
    ASSERT_FALSE(entry.is_discarded()) << "not JSON: " << line;
    ++lines;
    if (entry.value("msg", "") == "starting workers") workers.insert(entry.value("workers", ""));
  }
  EXPECT_GT(lines, 5);
  EXPECT_EQ(workers, std::set<std::string>{"3"}) << op.log();
}

// Admission: kubectl apply of a bad manifest fails with a message naming the field.
struct InvalidCase {
  std::string what;
  Json patch;
  std::string expected;
};

TEST_F(TrainingRunE2E, AMisspeltFieldInACoreTypeFailsTheRunWithTheServersWords) {
  // The CRD keeps a volume's insides as they are; the Job create is strict, so
  // the API server names the typo instead of dropping it (a dropped hostPath
  // would train into an emptyDir and lose the model).
  Json manifest = training_run(
      ns_.name(), "typo", env({{"KWOK_HOLD", "1"}}),
      {{"pod",
        {{"volumes", Json::array({{{"name", "models"}, {"hostpath", {{"path", "/m"}}}}})}}}});
  apply_json(manifest);
  const Json run = wait_for_phase(ns_.name(), "typo", "Failed", *op_);
  EXPECT_EQ(run.value("/status/failure/reason"_json_pointer, std::string()), "JobRejected");
  const std::string message = run.value("/status/failure/message"_json_pointer, std::string());
  EXPECT_NE(message.find("unknown field"), std::string::npos) << message;
  EXPECT_NE(message.find("hostpath"), std::string::npos) << message;
  EXPECT_FALSE(get_json("job", ns_.name(), "typo"));
}

TEST_F(TrainingRunE2E, InvalidManifestsAreRejectedWithReadableMessages) {
  const std::vector<InvalidCase> cases = {
      {"model not a DNS label", {{"model", "Churn_Model"}}, "spec.model"},
      {"model message", {{"model", "Churn_Model"}}, "DNS-1123 label"},
      {"bad data digest", {{"data", {{"digest", "md5:1234"}}}}, "spec.data.digest"},
      {"digest message", {{"data", {{"digest", "sha256:XYZ"}}}}, "sha256:<64 lower-case hex"},
      {"negative backoffLimit", {{"backoffLimit", -1}}, "spec.backoffLimit"},
      {"missing image", {{"trainer", {{"image", nullptr}}}}, "spec.trainer.image"},
      {"reserved env", {{"trainer", {{"env", env({{"CD4ML_MODEL", "x"}})}}}}, "reserved"},
      {"numeric param", {{"params", {{"depth", 6}}}}, "spec.params.depth"},
      {"missing code revision", {{"code", {{"revision", nullptr}}}}, "spec.code.revision"},
      {"mount of no volume",
       {{"trainer", {{"volumeMounts", Json::array({{{"name", "models"}, {"mountPath", "/m"}}})}}},
        {"pod", {{"volumes", Json::array({{{"name", "model"}, {"emptyDir", Json::object()}}})}}}},
       "every spec.trainer.volumeMounts[].name must name a volume in spec.pod.volumes"},
      {"two volumes of one name",
       {{"pod",
         {{"volumes", Json::array({{{"name", "a"}, {"emptyDir", Json::object()}},
                                   {{"name", "a"}, {"emptyDir", Json::object()}}})}}}},
       "spec.pod.volumes[1]: Duplicate value"},
      {"toleration Exists with a value",
       {{"pod",
         {{"tolerations", Json::array({{{"key", "k"}, {"operator", "Exists"}, {"value", "v"}}})}}}},
       "a toleration with operator Exists takes no value"},
      {"service account not a DNS name",
       {{"pod", {{"serviceAccountName", "Trainer_SA"}}}},
       "spec.pod.serviceAccountName"},
      {"unknown toleration effect",
       {{"pod", {{"tolerations", Json::array({{{"key", "k"}, {"effect", "NoRun"}}})}}}},
       "spec.pod.tolerations[0].effect"},
  };
  for (const auto& c : cases) {
    Json run = training_run(ns_.name(), "invalid", Json::array());
    run["spec"].merge_patch(c.patch);
    const CommandResult r = kubectl({"apply", "-f", "-"}, run.dump());
    EXPECT_NE(r.exit_code, 0) << c.what;
    EXPECT_NE(r.err.find(c.expected), std::string::npos) << c.what << ": " << r.err;
  }
  Json long_name = training_run(ns_.name(), std::string(64, 'a'), Json::array());
  const CommandResult r = kubectl({"apply", "-f", "-"}, long_name.dump());
  EXPECT_NE(r.err.find("at most 63 characters"), std::string::npos) << r.err;

  apply_json(training_run(ns_.name(), "fixed", env({{"KWOK_HOLD", "1"}})));
  Json changed = training_run(ns_.name(), "fixed", env({{"KWOK_HOLD", "1"}}));
  changed["spec"]["params"]["depth"] = "7";
  const CommandResult immutable = kubectl({"apply", "-f", "-"}, changed.dump());
  EXPECT_NE(immutable.exit_code, 0);
  EXPECT_NE(immutable.err.find("spec is immutable"), std::string::npos) << immutable.err;
}

}  // namespace
}  // namespace cd4ml::e2e
