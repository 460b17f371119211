// The demo with kwok playing trainer and servers (issue 6):
// e2e/scripts/demo-fake-trainer.sh, which is run here as a user runs it, in a
// namespace of its own, with the samples from docs/examples/fake-trainer. Then the follow-ups the
// demo prints (a rejection, a rollback, removing the demo) are done as a user would, so neither the
// story nor the instructions can rot unnoticed.

#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "cluster.hpp"
#include "invariant_watcher.hpp"

namespace cd4ml::e2e {
namespace {

constexpr int kReplicas = 2;  // docs/examples/fake-trainer/modelrelease-churn.yaml

std::filesystem::path demo_script() {
  return source_dir() / "e2e" / "scripts" / "demo-fake-trainer.sh";
}

std::string jsonpath(const std::string& resource, const std::string& ns, const std::string& path) {
  return kubectl_ok({"-n", ns, "get", resource, "-o", "jsonpath=" + path});
}

bool release_is(const std::string& ns, const std::string& phase, const std::string& version) {
  const auto mr = get_json("modelrelease", ns, "churn");
  return mr && mr->value("/status/phase"_json_pointer, "") == phase &&
         mr->value("/status/activeModelVersion"_json_pointer, "") == version;
}

std::string describe_release(const std::string& ns) {
  const auto mr = get_json("modelrelease", ns, "churn");
  return mr ? mr->value("status", Json::object()).dump() : "no release";
}

// The revision label the active Service selects.
std::string active_revision(const std::string& ns) {
  return jsonpath("service/churn", ns, "{.spec.selector.cd4ml\\.io/revision}");
}

// uid of each Deployment of the release, by the model version it serves.
std::map<std::string, std::vector<std::string>> deployments_by_model(const std::string& ns) {
  std::map<std::string, std::vector<std::string>> out;
  for (const auto& d : list_json("deployments", ns, "cd4ml.io/release=churn")) {
    out[d.value("/metadata/labels/cd4ml.io~1model-version"_json_pointer, "")].push_back(
        d.value("/metadata/uid"_json_pointer, ""));
  }
  return out;
}

bool process_alive(const std::string& pid) {
  return std::filesystem::exists(std::filesystem::path("/proc") / pid / "exe");
}

// Removes the demo (operator and namespace) however the test ends.
struct DemoCleanup {
  std::string ns;
  ~DemoCleanup() { run_command({"bash", demo_script().string(), "--namespace", ns, "--clean"}); }
};

TEST(DemoFakeTrainer, TellsTheStoryThenItsPrintedFollowUpsWork) {
  TestNamespace ns;
  DemoCleanup cleanup{ns.name()};
  InvariantWatcher watcher(ns.name(), "churn", kReplicas);
  wait_until("the invariant watcher's first check", 30s, [&] { return watcher.checks() > 0; });

  const auto demo =
      run_command({"bash", demo_script().string(), "--namespace", ns.name()}, {}, 600s);
  ASSERT_EQ(demo.exit_code, 0) << demo.out << demo.err;
  const std::string& out = demo.out;

  const std::string v1 = jsonpath("tr/churn-v1", ns.name(), "{.status.modelVersion}");
  const std::string v2 = jsonpath("tr/churn-v2", ns.name(), "{.status.modelVersion}");
  ASSERT_EQ(v1.size(), 12u);
  ASSERT_EQ(v2.size(), 12u);
  ASSERT_NE(v1, v2);

  // The story as the terminal shows it, in order: both runs train, v1 goes
  // live, v2 arrives in preview, passes both gates and is promoted.
  const auto at = [&out](const std::string& pattern) {
    std::smatch m;
    return std::regex_search(out, m, std::regex(pattern)) ? m.position(0) : std::string::npos;
  };
  const auto v1_trained = at("TrainingRun/churn-v1 +Succeeded +model version " + v1);
  const auto v2_trained = at("TrainingRun/churn-v2 +Succeeded +model version " + v2);
  const auto v1_live = at("ModelRelease/churn +Promoted +revision \\w+ \\(model " + v1 + "\\)");
  const auto v2_preview =
      at("ModelRelease/churn +PreviewSwitched +.*selects revision \\w+ \\(model " + v2 + "\\)");
  const auto v2_live = at("ModelRelease/churn +Promoted +revision \\w+ \\(model " + v2 + "\\)");
  for (auto pos : {v1_trained, v2_trained, v1_live, v2_preview, v2_live}) {
    ASSERT_NE(pos, std::string::npos) << out;
  }
  EXPECT_LT(std::max(v1_trained, v2_trained), v1_live) << out;
  EXPECT_LT(v1_live, v2_preview) << out;
  EXPECT_LT(v2_preview, v2_live) << out;
  EXPECT_NE(at("true +accuracy >= 0\\.85: "), std::string::npos) << out;
  EXPECT_NE(at("true +auc no worse than active: "), std::string::npos) << out;
  EXPECT_NE(at("\"trainingRun\": \"churn-v2\""), std::string::npos) << out;
  EXPECT_NE(at("\"modelVersion\": \"" + v2 + "\""), std::string::npos) << out;

  // What the cluster says matches the story.
  ASSERT_TRUE(release_is(ns.name(), "Healthy", v2)) << describe_release(ns.name());
  // Every part of the lineage survives the CRD's status schema (an unknown
  // field would be pruned silently).
  const Json served = get_json("modelrelease", ns.name(), "churn").value();
  std::set<std::string> lineage_keys;
  for (const auto& [key, value] : served["status"]["lineage"].items()) lineage_keys.insert(key);
  EXPECT_EQ(lineage_keys,
            (std::set<std::string>{"artifactDigest", "code", "data", "fingerprint", "metrics",
                                   "modelURI", "modelVersion", "params", "trainingRun"}));
  const std::string v2_revision = active_revision(ns.name());
  const auto before = deployments_by_model(ns.name());
  ASSERT_EQ(before.at(v1).size(), 1u);
  ASSERT_EQ(before.at(v2).size(), 1u);

  // "Try a rejection": churn-v3 is worse than what is live, so its gates
  // reject it and churn-v2 keeps the traffic.
  kubectl_ok(
      {"-n", ns.name(), "apply", "-f",
       (source_dir() / "docs/examples/fake-trainer/trainingrun-churn-v3-worse.yaml").string()});
  wait_until("churn-v3 to succeed", 120s,
             [&] { return jsonpath("tr/churn-v3", ns.name(), "{.status.phase}") == "Succeeded"; });
  kubectl_ok({"-n", ns.name(), "patch", "mr", "churn", "--type=merge", "-p",
              R"({"spec":{"model":{"trainingRunRef":{"name":"churn-v3"}}}})"});
  EXPECT_TRUE(wait_until(
      "the release to reject churn-v3", 120s, [&] { return release_is(ns.name(), "Degraded", v2); },
      [&] { return describe_release(ns.name()); }));
  EXPECT_EQ(active_revision(ns.name()), v2_revision);

  // "Roll back": back to churn-v1, served by its kept Deployment.
  kubectl_ok({"-n", ns.name(), "patch", "mr", "churn", "--type=merge", "-p",
              R"({"spec":{"model":{"trainingRunRef":{"name":"churn-v1"}}}})"});
  EXPECT_TRUE(wait_until(
      "the release to be Healthy on churn-v1 again", 120s,
      [&] { return release_is(ns.name(), "Healthy", v1); },
      [&] { return describe_release(ns.name()); }));
  EXPECT_EQ(deployments_by_model(ns.name()).at(v1), before.at(v1))
      << "a rollback must reuse the kept Deployment, not create another";

  watcher.stop();
  EXPECT_GT(watcher.checks(), 0);
  for (const auto& v : watcher.violations()) ADD_FAILURE() << "traffic safety: " << v;
  const auto history = watcher.active_history();
  ASSERT_EQ(history.size(), 3u);
  EXPECT_EQ(history[1], v2_revision);
  EXPECT_EQ(history[0], history[2]) << "v1's revision serves again after the rollback";

  // "Remove only the demo": its operator stops and its namespace goes.
  std::smatch pid;
  ASSERT_TRUE(std::regex_search(out, pid, std::regex("running as pid ([0-9]+)"))) << out;
  ASSERT_TRUE(process_alive(pid[1])) << "the demo leaves its operator running";
  const auto clean =
      run_command({"bash", demo_script().string(), "--namespace", ns.name(), "--clean"});
  ASSERT_EQ(clean.exit_code, 0) << clean.out << clean.err;
  EXPECT_FALSE(process_alive(pid[1]));
  const auto namespace_phase = get_json("namespace", "", ns.name());
  EXPECT_TRUE(!namespace_phase ||
              namespace_phase->value("/status/phase"_json_pointer, "") == "Terminating");
}

}  // namespace
}  // namespace cd4ml::e2e
