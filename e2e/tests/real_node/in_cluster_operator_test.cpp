// The operator as users run it: its image, built here from the repository's
// Dockerfile (e2e/images/build-image.sh cd4ml-operator), installed with the
// Helm chart into a namespace that enforces the "restricted" Pod Security
// Standard, running on the real node with the in-cluster configuration and
// its ServiceAccount's token. Its probes must answer for the Deployment to
// become available; it then carries a TrainingRun and a release of real
// serving pods to Healthy.

#include <gtest/gtest.h>

#include "cluster.hpp"
#include "helm.hpp"
#include "real_node.hpp"
#include "samples.hpp"
#include "traffic_prober.hpp"

namespace cd4ml::e2e {
namespace {

class InClusterOperator : public testing::Test {
 protected:
  void SetUp() override {
    require_real_node();
    if (HasFatalFailure()) return;
    import_images({"cd4ml-operator", "echo-server"});
    if (HasFatalFailure()) return;
    install_crds();
    ASSERT_TRUE(std::filesystem::exists(helm_path()));
  }

  void TearDown() override {
    if (!release_.empty()) helm({"uninstall", release_, "-n", ns_.name(), "--wait"}, true);
  }

  TestNamespace ns_;         // the operator's, enforcing the restricted Pod Security Standard
  TestNamespace workloads_;  // the one it watches (the sample trainer is not hardened)
  std::string release_;
};

TEST_F(InClusterOperator, ChartInstallsARunningOperatorThatReconcilesInItsNamespace) {
  kubectl_ok({"label", "namespace", ns_.name(), "--overwrite",
              "pod-security.kubernetes.io/enforce=restricted",
              "pod-security.kubernetes.io/enforce-version=latest"});
  const std::string image = local_image("cd4ml-operator");
  const auto colon = image.rfind(':');
  release_ = "cd4ml";
  const CommandResult installed = helm(
      {"install",
       release_,
       chart_dir().string(),
       "-n",
       ns_.name(),
       "--wait",
       "--timeout",
       "120s",
       "--set",
       "image.repository=" + image.substr(0, colon),
       "--set",
       "image.tag=" + image.substr(colon + 1),
       "--set",
       "watchNamespace=" + workloads_.name(),
       "--set",
       "logging.format=text",
       "--set-json",
       R"(nodeSelector={"cd4ml.io/node":"real"})",
       "--set-json",
       R"(tolerations=[{"key":"cd4ml.io/real-node","operator":"Exists","effect":"NoSchedule"}])"},
      true);
  ASSERT_EQ(installed.exit_code, 0) << installed.out << installed.err;

  // --wait returned: the Deployment is available, so the kubelet's liveness
  // and readiness probes reached the operator's health server.
  const auto pods = list_json("pods", ns_.name(), "app.kubernetes.io/name=cd4ml-operator");
  ASSERT_EQ(pods.size(), 1u);
  const Json& pod = pods[0];
  const std::string pod_name = pod["metadata"]["name"];
  EXPECT_EQ(pod["spec"]["nodeName"], "cd4ml-real-node");
  EXPECT_EQ(pod["status"]["phase"], "Running");
  const Json& container = pod["spec"]["containers"][0];
  EXPECT_TRUE(container.contains("livenessProbe"));
  EXPECT_TRUE(container.contains("readinessProbe"));
  EXPECT_EQ(container.value("/securityContext/readOnlyRootFilesystem"_json_pointer, false), true);
  // As the kernel sees it: not root, and nothing can be written to /.
  EXPECT_EQ(kubectl_ok({"exec", "-n", ns_.name(), pod_name, "--", "id", "-u"}), "65532\n");
  const CommandResult write =
      kubectl({"exec", "-n", ns_.name(), pod_name, "--", "touch", "/probe-write"});
  EXPECT_NE(write.exit_code, 0);
  EXPECT_NE(write.err.find("Read-only file system"), std::string::npos) << write.err;
  // No kubeconfig anywhere: the in-cluster configuration and the token.
  for (const auto& arg : container.value("args", std::vector<std::string>{})) {
    EXPECT_EQ(arg.find("kubeconfig"), std::string::npos) << arg;
  }

  // It leads (its Lease names its pod) and does the work: a TrainingRun
  // (kwok fakes the trainer) and a release of real serving pods.
  const std::string& ws = workloads_.name();
  apply_json(sample_training_run(ws, "churn-v1", R"({"metrics": {"accuracy": 0.9}})"));
  Json mr = sample_release(ws, "echo", training_run_ref("churn-v1"));
  mr["spec"]["template"] = echo_pod_template();
  apply_json(mr);
  Json last;
  ASSERT_TRUE(wait_until(
      "the release Healthy, reconciled by the in-cluster operator", 120s,
      [&] {
        auto r = get_json("modelrelease", ws, "echo");
        if (!r) return false;
        last = *r;
        return r->value("/status/phase"_json_pointer, "") == "Healthy";
      },
      [&] {
        return last.dump(2) + "\noperator log:\n" +
               kubectl({"logs", "-n", ns_.name(), pod_name, "--tail=40"}).out;
      }));
  EXPECT_EQ(last["status"]["lineage"]["trainingRun"], "churn-v1");
  const auto lease = get_json("lease", ns_.name(), "cd4ml-operator-leader");
  ASSERT_TRUE(lease);
  EXPECT_NE((*lease)["spec"].value("holderIdentity", "").find(pod_name), std::string::npos)
      << lease->dump();

  const std::string ip = cluster_ip(ws, "echo");
  wait_for_proxy_rules(ip);
  TrafficProber prober({ip, 80, "/", 20});
  ASSERT_TRUE(prober.wait_for_success(10s));
  prober.stop();
  const auto samples = prober.samples();
  EXPECT_EQ(summarize(samples).failures, 0u) << summarize(samples).describe();
  for (const auto& [revision, count] : answers_by_revision(samples)) {
    EXPECT_EQ(revision, last["status"]["activeRevision"]) << count;
  }
}

}  // namespace
}  // namespace cd4ml::e2e
