// The reference model (examples/churn) trained and served for real on the
// local cluster's real node: a TrainingRun's Job runs the churn trainer on
// the data set baked into its image and writes the model to a hostPath
// volume; a ModelRelease serves that file with the churn server (MLServer),
// which checks its digest before it becomes ready. Nothing is faked: metrics,
// digest and baseline come from the trainer, predictions from the model.

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "modelrelease_fixture.hpp"
#include "operator/api/canonical.hpp"
#include "prometheus.hpp"
#include "real_node.hpp"
#include "samples.hpp"

namespace cd4ml::e2e {
namespace {

namespace fs = std::filesystem;

// The churn image's data set v1 (examples/churn/tests/test_data.py pins it).
const std::string kDataV1 = "file:///opt/churn/data/churn-v1.csv";
const std::string kDigestV1 =
    "sha256:c2872c34217e36332bf2de9c86259dffea8ee5431cde3ed0fc083a847657456a";
constexpr int kChurnUid = 10001;  // the churn images' user
constexpr int kDeadlineSeconds = 40;

const Json kOnTheRealNode = {
    {"nodeSelector", {{"cd4ml.io/node", "real"}}},
    {"tolerations",
     Json::array(
         {{{"key", "cd4ml.io/real-node"}, {"operator", "Exists"}, {"effect", "NoSchedule"}}})}};

class RealModel : public RealNodeReleaseFixture {
 protected:
  RealModel() : RealNodeReleaseFixture({"churn-trainer", "churn-server"}) {}
  void SetUp() override {
    RealNodeReleaseFixture::SetUp();
    if (HasFatalFailure()) return;
    // The volume both the trainer and the servers mount: a directory of this
    // machine, which is the real node. hostPath ignores fsGroup, so it is
    // handed to the images' user here.
    models_ = kubeconfig_path().parent_path() / "models" / ns_.name();
    fs::create_directories(models_);
    ASSERT_EQ(::chown(models_.c_str(), kChurnUid, kChurnUid), 0) << models_;
  }
  void TearDown() override {
    RealNodeReleaseFixture::TearDown();
    std::error_code ignored;
    if (!models_.empty()) fs::remove_all(models_, ignored);
  }

  Json models_volume() const {
    return {{"name", "models"}, {"hostPath", {{"path", models_.string()}, {"type", "Directory"}}}};
  }

  Json churn_run(const std::string& name, const Json& params) const {
    Json pod = kOnTheRealNode;
    pod["volumes"] = Json::array({models_volume()});
    return {{"apiVersion", "cd4ml.io/v1alpha1"},
            {"kind", "TrainingRun"},
            {"metadata", {{"name", name}, {"namespace", ns_.name()}}},
            {"spec",
             {{"model", "churn"},
              {"code",
               {{"repository", "https://github.com/cd4ml/cd4ml-operator"},
                {"revision", "examples/churn"}}},
              {"data", {{"uri", kDataV1}, {"version", "v1"}, {"digest", kDigestV1}}},
              {"trainer",
               {{"image", local_image("churn-trainer")},
                {"volumeMounts", Json::array({{{"name", "models"}, {"mountPath", "/models"}}})}}},
              {"params", params},
              {"output", {{"uri", "file:///models"}}},
              {"pod", pod},
              {"activeDeadlineSeconds", 300}}}};
  }

  Json wait_for_end(const std::string& name) {
    Json run;
    wait_until(
        "TrainingRun " + name + " finished", 240s,
        [&] {
          run = get_json("trainingrun", ns_.name(), name).value_or(Json::object());
          const std::string phase = run.value("/status/phase"_json_pointer, std::string());
          return phase == "Succeeded" || phase == "Failed";
        },
        [&] { return run.dump(2); });
    return run;
  }

  // The model file a run wrote, as this machine sees it.
  fs::path model_file(const Json& run) const {
    return models_ / "churn" / run["status"]["modelVersion"].get<std::string>() / "model.joblib";
  }

  static std::string file_digest(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream bytes;
    bytes << in.rdbuf();
    return "sha256:" + api::sha256_hex(bytes.str());
  }

  Json churn_release(const std::string& run) const {
    Json t = {{"metadata", {{"annotations", Json::object()}}}, {"spec", kOnTheRealNode}};
    t["spec"]["volumes"] = Json::array({models_volume()});
    t["spec"]["terminationGracePeriodSeconds"] = 5;
    t["spec"]["containers"] = Json::array(
        {{{"name", "server"},
          {"image", local_image("churn-server")},
          {"imagePullPolicy", "IfNotPresent"},
          {"ports", Json::array({{{"containerPort", 8080}, {"name", "http"}},
                                 {{"containerPort", 8082}, {"name", "metrics"}}})},
          {"volumeMounts",
           Json::array({{{"name", "models"}, {"mountPath", "/models"}, {"readOnly", true}}})},
          {"readinessProbe",
           {{"httpGet", {{"path", "/v2/models/churn/ready"}, {"port", 8080}}},
            {"periodSeconds", 1},
            {"failureThreshold", 2}}}}});
    annotate_for_scraping(t, 8082);
    Json mr = release("churn", run,
                      {{"replicas", 1},
                       {"template", t},
                       {"progressDeadlineSeconds", kDeadlineSeconds},
                       {"gates", Json::array({{{"metric", "auc"}, {"min", 0.7}}})}});
    return mr;
  }

  // One prediction through the active Service, every feature as its own
  // tensor (order-independent), at the middle of its baseline's buckets.
  Json predict(const std::string& ip, const Json& baseline) {
    Json inputs = Json::array();
    for (const auto& [feature, histogram] : baseline["features"].items()) {
      const Json& edges = histogram["edges"];
      inputs.push_back({{"name", feature},
                        {"shape", {1}},
                        {"datatype", "FP64"},
                        {"data", {edges[edges.size() / 2]}}});
    }
    const CommandResult r =
        run_command({"curl", "-sS", "--max-time", "5", "-H", "Content-Type: application/json",
                     "--data-binary", "@-", "http://" + ip + "/v2/models/churn/infer"},
                    Json{{"inputs", inputs}}.dump());
    EXPECT_EQ(r.exit_code, 0) << r.err;
    try {
      return Json::parse(r.out);
    } catch (const Json::exception&) {
      ADD_FAILURE() << "not JSON: " << r.out;
      return Json::object();
    }
  }

  fs::path models_;
};

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
