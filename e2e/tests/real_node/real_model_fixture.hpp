#pragma once
// The reference model (examples/churn) on the local cluster's real node: its
// TrainingRuns train on a data set baked into the trainer image and write the
// model to a hostPath directory of this machine, which its ModelReleases
// serve with the churn server (MLServer). Shared by the real-model and
// live-accuracy tests.

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "modelrelease_fixture.hpp"
#include "operator/api/canonical.hpp"
#include "real_node.hpp"
#include "samples.hpp"

namespace cd4ml::e2e {

namespace fs = std::filesystem;

// The churn image's data sets (examples/churn/tests/test_data.py pins their
// digests).
struct ChurnData {
  std::string version;
  std::string uri;
  std::string digest;
};
inline const ChurnData kDataV1{
    "v1", "file:///opt/churn/data/churn-v1.csv",
    "sha256:c2872c34217e36332bf2de9c86259dffea8ee5431cde3ed0fc083a847657456a"};
inline const ChurnData kDataV2{
    "v2", "file:///opt/churn/data/churn-v2.csv",
    "sha256:ec7b991b63694b392ef64567e5bede751d1849886eecae615fda627358f72460"};
inline constexpr int kChurnUid = 10001;  // the churn images' user
inline constexpr int kDeadlineSeconds = 40;

inline const Json kOnTheRealNode = {
    {"nodeSelector", {{"cd4ml.io/node", "real"}}},
    {"tolerations",
     Json::array(
         {{{"key", "cd4ml.io/real-node"}, {"operator", "Exists"}, {"effect", "NoSchedule"}}})}};

class RealModelFixture : public RealNodeReleaseFixture {
 protected:
  RealModelFixture() : RealNodeReleaseFixture({"churn-trainer", "churn-server"}) {}
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

  Json churn_run(const std::string& name, const Json& params,
                 const ChurnData& data = kDataV1) const {
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
              {"data", {{"uri", data.uri}, {"version", data.version}, {"digest", data.digest}}},
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

}  // namespace cd4ml::e2e
