// The reference model (examples/churn) trained and served for real on the
// local cluster's real node: a TrainingRun's Job runs the churn trainer on
// the data set baked into its image and writes the model to a hostPath
// volume; a ModelRelease serves that file with the churn server (MLServer),
// which checks its digest before it becomes ready. Nothing is faked: metrics,
// digest and baseline come from the trainer, predictions from the model.

#include <gtest/gtest.h>

#include <filesystem>
#include <iostream>

#include "prometheus.hpp"
#include "real_model_fixture.hpp"

namespace cd4ml::e2e {
namespace {

class RealModel : public RealModelFixture {};

TEST_F(RealModel, ATrainingRunTrainsForRealAndRepeatsItself) {
  const auto applied = std::chrono::steady_clock::now();
  apply_json(churn_run("churn-a", {{"max_depth", "3"}, {"seed", "7"}}));
  const Json a = wait_for_end("churn-a");
  const double trained_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - applied).count();
  ASSERT_EQ(a.value("/status/phase"_json_pointer, std::string()), "Succeeded") << a.dump(2);
  const Json& s = a["status"];
  const double auc = s["metrics"].value("auc", 0.0);
  EXPECT_GT(auc, 0.7) << s["metrics"];
  EXPECT_LT(auc, 0.99) << s["metrics"];  // plausible, not a leak of the label
  for (const char* metric : {"accuracy", "log_loss"}) EXPECT_TRUE(s["metrics"].contains(metric));
  ASSERT_TRUE(fs::exists(model_file(a))) << model_file(a);
  EXPECT_EQ(s["artifactDigest"], file_digest(model_file(a)));
  ASSERT_TRUE(s.contains("baseline")) << s.dump(2);
  EXPECT_EQ(s["baseline"]["features"].size(), 8U) << s["baseline"];
  EXPECT_TRUE(s["baseline"].contains("prediction"));
  // The result stayed within a termination message's 4096 bytes.
  const auto pods = list_json("pods", ns_.name(), "cd4ml.io/training-run=churn-a");
  ASSERT_EQ(pods.size(), 1U);
  const std::string result = pods[0].value(
      "/status/containerStatuses/0/state/terminated/message"_json_pointer, std::string());
  EXPECT_LE(result.size(), 4096U);
  EXPECT_EQ(Json::parse(result)["baseline"], s["baseline"]);
  std::cout << "[figures] churn-a: applied -> Succeeded " << trained_s << " s, auc " << auc
            << ", result " << result.size() << " bytes\n";

  // The same spec again (another name): the same version, the same bytes
  // (seeded training; docs/reference-model.md says which parts could differ).
  const std::string first_bytes = file_digest(model_file(a));
  Json again = churn_run("churn-a-again", {{"max_depth", "3"}, {"seed", "7"}});
  apply_json(again);
  const Json b = wait_for_end("churn-a-again");
  ASSERT_EQ(b.value("/status/phase"_json_pointer, std::string()), "Succeeded") << b.dump(2);
  EXPECT_EQ(b["status"]["modelVersion"], s["modelVersion"]);
  EXPECT_EQ(b["status"]["artifactDigest"], s["artifactDigest"]);
  EXPECT_EQ(file_digest(model_file(b)), first_bytes);
}

TEST_F(RealModel, ATrainerThatRefusesItsParamsFailsTheRunWithItsOwnWords) {
  apply_json(churn_run("churn-bad", {{"max_depth", "0"}}));
  const Json run = wait_for_end("churn-bad");
  ASSERT_EQ(run.value("/status/phase"_json_pointer, std::string()), "Failed") << run.dump(2);
  // The trainer's own words (its termination message) in the run's Ready
  // condition, beside the Job's reason in status.failure.
  std::string message;
  for (const auto& c : run["status"]["conditions"]) {
    if (c.value("type", "") == "Ready") message = c.value("message", "");
  }
  EXPECT_EQ(run.value("/status/failure/reason"_json_pointer, std::string()),
            "BackoffLimitExceeded");
  EXPECT_NE(message.find("invalid params: max_depth='0' is out of range [1, 10]"),
            std::string::npos)
      << message;
  EXPECT_EQ(run.value("/status/failure/exitCode"_json_pointer, 0), 1);
  EXPECT_FALSE(fs::exists(models_ / "churn" / run["status"]["modelVersion"].get<std::string>()));
}

TEST_F(RealModel, AReleaseServesTheTrainedModelAndPrometheusSeesIt) {
  apply_json(churn_run("churn-a", {{"max_depth", "3"}}));
  const Json run = wait_for_end("churn-a");
  ASSERT_EQ(run.value("/status/phase"_json_pointer, std::string()), "Succeeded") << run.dump(2);
  const auto applied = std::chrono::steady_clock::now();
  apply_json(churn_release("churn-a"));
  const Json mr = wait_for_phase("churn", "Healthy", 180s);
  const double ready_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - applied).count();
  const std::string version = run["status"]["modelVersion"];
  EXPECT_EQ(mr["status"]["activeModelVersion"], version);
  const std::string revision = mr["status"]["activeRevision"];
  EXPECT_EQ(mr.value("/status/lineage/artifactDigest"_json_pointer, std::string()),
            run["status"]["artifactDigest"]);

  const std::string ip = cluster_ip(ns_.name(), "churn");
  wait_for_proxy_rules(ip);
  constexpr int kRequests = 20;
  for (int i = 0; i < kRequests; ++i) {
    const Json answer = predict(ip, run["status"]["baseline"]);
    ASSERT_EQ(answer.value("model_version", ""), version) << answer.dump();
    EXPECT_EQ(answer.value("/parameters/revision"_json_pointer, std::string()), revision);
    const Json& outputs = answer["outputs"];
    ASSERT_FALSE(outputs.empty()) << answer.dump();
    bool has_probability = false;
    for (const auto& o : outputs) {
      if (o.value("name", "") != "predict_proba") continue;
      has_probability = true;
      const double p = o["data"][1];
      EXPECT_GE(p, 0.0);
      EXPECT_LE(p, 1.0);
    }
    EXPECT_TRUE(has_probability) << answer.dump();
  }

  // Per-revision series in Prometheus, labelled by the server itself.
  const std::string selector = "{namespace=\"" + ns_.name() + "\",revision=\"" + revision + "\"}";
  const auto requests = wait_for_series(
      "sum(cd4ml_model_requests_total" + selector + ") >= " + std::to_string(kRequests), 60s);
  ASSERT_FALSE(requests.empty());
  EXPECT_GE(requests[0].value, kRequests);
  EXPECT_FALSE(
      wait_for_series("count(cd4ml_model_prediction_bucket" + selector + ")", 30s).empty());
  const auto features = wait_for_series(
      "count(count by (feature) (cd4ml_model_feature_bucket" + selector + "))", 30s);
  ASSERT_FALSE(features.empty());
  EXPECT_EQ(features[0].value, 8);
  std::cout << "[figures] release applied -> Healthy " << ready_s << " s\n";
}

TEST_F(RealModel, AModelFileThatIsNotWhatItsRunProducedIsNeverServed) {
  apply_json(churn_run("churn-a", {{"max_depth", "3"}}));
  apply_json(churn_run("churn-b", {{"max_depth", "4"}}));
  const Json a = wait_for_end("churn-a");
  const Json b = wait_for_end("churn-b");
  ASSERT_EQ(a.value("/status/phase"_json_pointer, std::string()), "Succeeded") << a.dump(2);
  ASSERT_EQ(b.value("/status/phase"_json_pointer, std::string()), "Succeeded") << b.dump(2);
  apply_json(churn_release("churn-a"));
  const Json healthy = wait_for_phase("churn", "Healthy", 180s);
  const std::string active = healthy["status"]["activeRevision"];

  // Someone replaces b's file with a's bytes: a valid model, not b's.
  fs::copy_file(model_file(a), model_file(b), fs::copy_options::overwrite_existing);
  patch_release("churn", {{"spec", {{"model", training_run_ref("churn-b")}}}});
  const Json degraded = wait_until_release(
      "churn", "Degraded by the progress deadline",
      [](const Json& r) { return r.value("/status/phase"_json_pointer, "") == "Degraded"; },
      std::chrono::seconds(kDeadlineSeconds + 90));
  EXPECT_EQ(degraded["status"]["activeRevision"], active);
  EXPECT_EQ(degraded["status"]["activeModelVersion"], a["status"]["modelVersion"]);
  const Json& record = degraded["status"]["revisions"].back();
  EXPECT_EQ(record["state"], "Aborted");
  EXPECT_NE(record.value("message", "").find("model digest mismatch"), std::string::npos)
      << record.dump(2);
  // The active model still answers.
  const std::string ip = cluster_ip(ns_.name(), "churn");
  wait_for_proxy_rules(ip);
  EXPECT_EQ(predict(ip, a["status"]["baseline"]).value("model_version", ""),
            a["status"]["modelVersion"]);
}

}  // namespace
}  // namespace cd4ml::e2e
