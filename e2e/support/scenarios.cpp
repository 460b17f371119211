#include "scenarios.hpp"

#include "invariant_watcher.hpp"
#include "samples.hpp"

namespace cd4ml::e2e {

namespace {

std::string log_tail(const OperatorProcess& op) {
  const std::string log = op.log();
  return "\noperator log tail:\n" + log.substr(log.size() > 4000 ? log.size() - 4000 : 0);
}

Json wait_for(const std::string& resource, const std::string& ns, const std::string& name,
              const std::string& what, const std::function<bool(const Json&)>& check,
              const OperatorProcess& op, std::chrono::milliseconds deadline = 90s) {
  Json last;
  wait_until(
      resource + " " + name + ": " + what, deadline,
      [&] {
        auto object = get_json(resource, ns, name);
        if (!object) return false;
        last = *object;
        return check(*object);
      },
      [&] { return last.dump(2) + log_tail(op); });
  return last;
}

std::string at(const Json& object, const char* pointer) {
  return object.value(Json::json_pointer(pointer), std::string());
}

bool has_event(const std::string& ns, const std::string& kind, const std::string& name,
               const std::string& reason) {
  for (const auto& e : list_json("events", ns)) {
    if (e["involvedObject"].value("kind", "") == kind &&
        e["involvedObject"].value("name", "") == name && e.value("reason", "") == reason) {
      return true;
    }
  }
  return false;
}

void expect_event(const std::string& ns, const std::string& kind, const std::string& name,
                  const std::string& reason) {
  wait_until("Event " + reason + " on " + kind + " " + name, 30s,
             [&] { return has_event(ns, kind, name, reason); });
}

const Json* condition(const Json& object, const std::string& type) {
  if (!object.contains("status") || !object["status"].contains("conditions")) return nullptr;
  for (const auto& c : object["status"]["conditions"]) {
    if (c.value("type", "") == type) return &c;
  }
  return nullptr;
}

// Waits for condition Stalled=True with `reason` on the object, then checks
// that `theirs` (kind/name) still has the generation, labels and owners it had.
void expect_stalled_and_theirs_untouched(const std::string& ns, const std::string& resource,
                                         const std::string& name, const std::string& reason,
                                         const std::string& their_kind, const Json& before,
                                         const OperatorProcess& op) {
  wait_for(
      resource, ns, name, "Stalled " + reason,
      [&](const Json& o) {
        const Json* stalled = condition(o, "Stalled");
        return stalled && (*stalled)["status"] == "True" && (*stalled)["reason"] == reason;
      },
      op);
  const std::string their_name = before["metadata"]["name"];
  const auto after = get_json(their_kind, ns, their_name);
  ASSERT_TRUE(after) << their_kind << " " << their_name << " was deleted";
  EXPECT_EQ((*after)["metadata"]["uid"], before["metadata"]["uid"]);
  EXPECT_EQ((*after)["metadata"].value("generation", 0L),
            before["metadata"].value("generation", 0L))
      << their_kind << " " << their_name << " spec changed";
  EXPECT_EQ((*after)["metadata"]["labels"], before["metadata"]["labels"]);
  EXPECT_FALSE((*after)["metadata"].contains("ownerReferences")) << after->dump(2);
}

}  // namespace

void name_conflicts_are_reported_and_left_alone(const std::string& ns, const OperatorProcess& op) {
  apply_json(someone_elses_object("Job", ns, "taken-run"));
  const Json job = get_json("job", ns, "taken-run").value();
  apply_json(sample_training_run(ns, "taken-run", "{}"));
  expect_stalled_and_theirs_untouched(ns, "trainingrun", "taken-run", "JobConflict", "job", job,
                                      op);

  apply_json(someone_elses_object("Service", ns, "taken-svc"));
  const Json service = get_json("service", ns, "taken-svc").value();
  apply_json(sample_release(ns, "taken-svc", {{"uri", "s3://models/taken/v1"}, {"version", "v1"}}));
  expect_stalled_and_theirs_untouched(ns, "modelrelease", "taken-svc", "ServiceConflict", "service",
                                      service, op);

  // A Deployment takes the name a revision had, while its release is away.
  const Json model = {{"uri", "s3://models/squat/v1"}, {"version", "v1"}};
  apply_json(sample_release(ns, "squat", model, 1));
  const Json live = wait_for(
      "modelrelease", ns, "squat", "phase Healthy",
      [](const Json& mr) { return at(mr, "/status/phase") == "Healthy"; }, op);
  const std::string name = at(live, "/status/revisions/0/deployment");
  kubectl_ok({"delete", "modelrelease", "squat", "-n", ns, "--wait=true"});
  wait_until("Deployment " + name + " collected", 60s,
             [&] { return !get_json("deployment", ns, name).has_value(); });
  apply_json(someone_elses_object("Deployment", ns, name));
  const Json deployment = get_json("deployment", ns, name).value();
  apply_json(sample_release(ns, "squat", model, 1));
  expect_stalled_and_theirs_untouched(ns, "modelrelease", "squat", "DeploymentRejected",
                                      "deployment", deployment, op);
}

void trainingrun_succeeds_with_metrics(const std::string& ns, const OperatorProcess& op) {
  const std::string digest = "sha256:" + std::string(64, 'b');
  apply_json(sample_training_run(
      ns, "churn-metrics",
      R"({"metrics": {"accuracy": 0.93, "f1": 0.88}, "artifactDigest": ")" + digest + "\"}"));
  const Json run = wait_for(
      "trainingrun", ns, "churn-metrics", "phase Succeeded",
      [](const Json& r) { return at(r, "/status/phase") == "Succeeded"; }, op);
  const Json& s = run["status"];
  ASSERT_TRUE(s.contains("metrics")) << run.dump(2);
  EXPECT_DOUBLE_EQ(s["metrics"]["accuracy"].get<double>(), 0.93);
  EXPECT_DOUBLE_EQ(s["metrics"]["f1"].get<double>(), 0.88);
  EXPECT_EQ(s["artifactDigest"], digest);
  EXPECT_EQ(at(run, "/status/modelVersion").size(), 12u);
  EXPECT_EQ(s["observedGeneration"], run["metadata"]["generation"]);
  const Json* ready = condition(run, "Ready");
  ASSERT_NE(ready, nullptr);
  EXPECT_EQ((*ready)["status"], "True");

  const auto job = get_json("job", ns, "churn-metrics");
  ASSERT_TRUE(job);
  const Json& owner = (*job)["metadata"]["ownerReferences"][0];
  EXPECT_EQ(owner["uid"], run["metadata"]["uid"]);
  EXPECT_EQ(owner["controller"], true);
  expect_event(ns, "TrainingRun", "churn-metrics", "JobCreated");
  expect_event(ns, "TrainingRun", "churn-metrics", "Succeeded");
}

void modelrelease_rolls_out_a_new_training_run(const std::string& ns, const OperatorProcess& op) {
  auto succeeded = [](const Json& r) { return at(r, "/status/phase") == "Succeeded"; };
  apply_json(sample_training_run(ns, "churn-1", R"({"metrics": {"accuracy": 0.9}})"));
  wait_for("trainingrun", ns, "churn-1", "phase Succeeded", succeeded, op);

  Json release = sample_release(ns, "churn", training_run_ref("churn-1"));
  release["spec"].merge_patch({{"revisionHistoryLimit", 0},
                               {"strategy", {{"blueGreen", {{"scaleDownDelaySeconds", 2}}}}},
                               {"gates", Json::array({{{"metric", "accuracy"}, {"min", 0.8}}})}});
  apply_json(release);
  InvariantWatcher watcher(ns, "churn", 2);
  auto healthy = [](const Json& mr) {
    return at(mr, "/status/phase") == "Healthy" &&
           mr.value("/status/observedGeneration"_json_pointer, 0L) ==
               mr.value("/metadata/generation"_json_pointer, -1L);
  };
  const Json first = wait_for("modelrelease", ns, "churn", "phase Healthy", healthy, op);
  const std::string old_rev = at(first, "/status/activeRevision");
  ASSERT_EQ(old_rev.size(), 10u) << first.dump(2);
  for (const char* svc : {"churn", "churn-preview"}) {
    const auto s = get_json("service", ns, svc);
    ASSERT_TRUE(s) << svc;
    EXPECT_EQ((*s)["spec"]["selector"]["cd4ml.io/revision"], old_rev) << svc;
  }

  apply_json(sample_training_run(ns, "churn-2", R"({"metrics": {"accuracy": 0.95}})"));
  wait_for("trainingrun", ns, "churn-2", "phase Succeeded", succeeded, op);
  kubectl_ok({"patch", "modelrelease", "churn", "-n", ns, "--type=merge", "-p",
              R"({"spec": {"model": {"trainingRunRef": {"name": "churn-2"}}}})"});
  const Json second = wait_for(
      "modelrelease", ns, "churn", "a new active revision",
      [&](const Json& mr) { return healthy(mr) && at(mr, "/status/activeRevision") != old_rev; },
      op);
  const std::string new_rev = at(second, "/status/activeRevision");
  EXPECT_EQ(second["status"]["lineage"]["trainingRun"], "churn-2");
  EXPECT_EQ(get_json("service", ns, "churn").value()["spec"]["selector"]["cd4ml.io/revision"],
            new_rev);
  // Scaled down after the delay, then pruned: revisionHistoryLimit is 0.
  wait_until(
      "replaced revision's Deployment pruned", 60s,
      [&] { return !get_json("deployment", ns, "churn-" + old_rev).has_value(); },
      [&] { return log_tail(op); });
  // (ScaledDown is modelrelease_test.cpp's; here the pruning itself counts.)
  for (const char* reason : {"RevisionCreated", "PreviewSwitched", "Promoted"}) {
    expect_event(ns, "ModelRelease", "churn", reason);
  }
  watcher.stop();
  EXPECT_GT(watcher.checks(), 0);
  EXPECT_EQ(watcher.active_history(), (std::vector<std::string>{old_rev, new_rev}));
  for (const auto& v : watcher.violations()) ADD_FAILURE() << "traffic safety: " << v;

  // Renaming the preview Service: the new one is created, the old one (ours)
  // deleted, the active Service untouched.
  kubectl_ok({"patch", "modelrelease", "churn", "-n", ns, "--type=merge", "-p",
              R"({"spec": {"strategy": {"blueGreen": {"previewService": "churn-next"}}}})"});
  wait_until(
      "Service churn-next created and churn-preview deleted", 60s,
      [&] {
        const auto next = get_json("service", ns, "churn-next");
        return next && (*next)["spec"]["selector"]["cd4ml.io/revision"] == new_rev &&
               !get_json("service", ns, "churn-preview").has_value();
      },
      [&] { return log_tail(op); });
  EXPECT_EQ(get_json("service", ns, "churn").value()["spec"]["selector"]["cd4ml.io/revision"],
            new_rev);
}

}  // namespace cd4ml::e2e
