// The README's first command: `make demo` ends in e2e/scripts/demo.sh, which
// is run here as a user runs it, in a namespace of its own, on the real node:
// real training, real servers, real traffic. The story it prints is checked
// against the cluster, and its --clean removes what it made.

#include <gtest/gtest.h>

#include <filesystem>
#include <regex>
#include <string>

#include "cluster.hpp"
#include "invariant_watcher.hpp"
#include "real_node.hpp"

namespace cd4ml::e2e {
namespace {

constexpr int kReplicas = 2;  // docs/examples/modelrelease-churn.yaml

std::filesystem::path demo_script() {
  return source_dir() / "e2e" / "scripts" / "demo.sh";
}

std::string jsonpath(const std::string& resource, const std::string& ns, const std::string& path) {
  return kubectl_ok({"-n", ns, "get", resource, "-o", "jsonpath=" + path});
}

struct DemoCleanup {
  std::string ns;
  ~DemoCleanup() { run_command({"bash", demo_script().string(), "--namespace", ns, "--clean"}); }
};

TEST(Demo, TrainsServesAndReleasesForRealWithoutAFailedRequest) {
  require_real_node();
  TestNamespace ns;
  DemoCleanup cleanup{ns.name()};
  InvariantWatcher watcher(ns.name(), "churn", kReplicas);
  wait_until("the invariant watcher's first check", 30s, [&] { return watcher.checks() > 0; });

  const auto started = std::chrono::steady_clock::now();
  const auto demo =
      run_command({"bash", demo_script().string(), "--namespace", ns.name()}, {}, 1500s);
  ASSERT_EQ(demo.exit_code, 0) << demo.out << demo.err;
  const std::string& out = demo.out;
  std::cout << "[figures] demo took "
            << std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count()
            << " s\n"
            << out;

  const std::string v1 = jsonpath("tr/churn-v1", ns.name(), "{.status.modelVersion}");
  const std::string v2 = jsonpath("tr/churn-v2", ns.name(), "{.status.modelVersion}");
  const std::string v3 = jsonpath("tr/churn-v3-bad-params", ns.name(), "{.status.modelVersion}");
  ASSERT_EQ(v1.size(), 12U);
  ASSERT_NE(v1, v2);
  const auto at = [&out](const std::string& pattern) {
    std::smatch m;
    return std::regex_search(out, m, std::regex(pattern)) ? m.position(0) : std::string::npos;
  };
  // The story, in order.
  const std::vector<std::string> story = {
      "TrainingRun/churn-v1 +Succeeded +model version " + v1 + " trained \\(.*auc=",
      "ModelRelease/churn +Promoted +revision \\w+ \\(model " + v1 + "\\)",
      "\"model_version\":\"" + v1 + "\"",
      "TrainingRun/churn-v2 +Succeeded +model version " + v2,
      "ModelRelease/churn +PreviewSwitched +.*\\(model " + v2 + "\\)",
      "ModelRelease/churn +Promoted +revision \\w+ \\(model " + v2 + "\\)",
      "TrainingRun/churn-v3-bad-params +Succeeded +model version " + v3,
      "ModelRelease/churn +GateFailed +.*" + v3,
      "requests [1-9][0-9]*, failed 0 ",
  };
  std::size_t previous = 0;
  for (const auto& pattern : story) {
    const auto pos = at(pattern);
    ASSERT_NE(pos, std::string::npos) << pattern << "\n" << out;
    EXPECT_GE(pos, previous) << pattern << " out of order\n" << out;
    previous = pos;
  }
  // Both models answered the traffic, and the gates rejected v3 for its auc.
  EXPECT_NE(at("answered by model version: .*\"" + v1 + "\":[1-9]"), std::string::npos) << out;
  EXPECT_NE(at("answered by model version: .*\"" + v2 + "\":[1-9]"), std::string::npos) << out;
  EXPECT_NE(at("false +auc >= 0\\.75"), std::string::npos) << out;

  // What the cluster says matches the story.
  EXPECT_EQ(jsonpath("mr/churn", ns.name(), "{.status.phase}/{.status.activeModelVersion}"),
            "Healthy/" + v2);
  EXPECT_EQ(jsonpath("mr/churn", ns.name(),
                     "{.status.revisions[?(@.modelVersion==\"" + v3 + "\")].state}"),
            "Rejected");
  const std::filesystem::path models =
      kubeconfig_path().parent_path() / "models" / ns.name() / "churn";
  for (const auto& v : {v1, v2, v3}) EXPECT_TRUE(std::filesystem::exists(models / v)) << v;
  watcher.stop();
  for (const auto& violation : watcher.violations()) ADD_FAILURE() << violation;

  // --clean removes the demo: operator, namespace, models.
  const auto clean =
      run_command({"bash", demo_script().string(), "--namespace", ns.name(), "--clean"});
  ASSERT_EQ(clean.exit_code, 0) << clean.err;
  EXPECT_FALSE(std::filesystem::exists(models.parent_path()));
}

}  // namespace
}  // namespace cd4ml::e2e
