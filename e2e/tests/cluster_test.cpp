// The local control plane itself (issue 2): a real kube-apiserver of the
// pinned version with RBAC, controllers, a scheduler, and kwok's fake nodes
// running the workload conventions tests rely on (docs/local-cluster.md).

#include "cluster.hpp"

#include <gtest/gtest.h>

namespace cd4ml::e2e {
namespace {

Json job(const std::string& name, const Json& env) {
  return {{"apiVersion", "batch/v1"},
          {"kind", "Job"},
          {"metadata", {{"name", name}}},
          {"spec",
           {{"backoffLimit", 0},
            {"template",
             {{"spec",
               {{"restartPolicy", "Never"},
                {"containers",
                 Json::array({{{"name", "main"}, {"image", "trainer:fake"}, {"env", env}}})}}}}}}}};
}

// The terminated state of the first container of the Job's (only) pod.
std::optional<Json> terminated_state(const std::string& ns, const std::string& job_name) {
  for (const auto& pod : list_json("pods", ns, "job-name=" + job_name)) {
    const Json statuses = pod.value("/status/containerStatuses"_json_pointer, Json::array());
    if (!statuses.empty() && statuses[0].contains("state") &&
        statuses[0]["state"].contains("terminated")) {
      return statuses[0]["state"]["terminated"];
    }
  }
  return std::nullopt;
}

bool job_condition(const std::string& ns, const std::string& name, const std::string& type) {
  auto j = get_json("job", ns, name);
  if (!j) return false;
  for (const auto& c : j->value("/status/conditions"_json_pointer, Json::array())) {
    if (c.value("type", "") == type && c.value("status", "") == "True") return true;
  }
  return false;
}

TEST(LocalCluster, HasAReadyNode) {
  bool ready = false;
  for (const auto& node : list_json("nodes", "")) {
    for (const auto& c : node.value("/status/conditions"_json_pointer, Json::array())) {
      if (c.value("type", "") == "Ready" && c.value("status", "") == "True") ready = true;
    }
  }
  EXPECT_TRUE(ready);
}

TEST(LocalCluster, ServerReportsThePinnedVersion) {
  const Json version = Json::parse(kubectl_ok({"version", "-o", "json"}));
  EXPECT_EQ(version["serverVersion"]["gitVersion"], CD4ML_KUBERNETES_VERSION);
}

TEST(LocalCluster, AuthorizesWithRbac) {
  TestNamespace ns;
  const CommandResult r = kubectl({"auth", "can-i", "list", "pods", "-n", ns.name(),
                                   "--as=system:serviceaccount:" + ns.name() + ":default"});
  EXPECT_EQ(r.out, "no\n") << "a ServiceAccount without bindings must not list pods";
}

TEST(LocalCluster, DeploymentWithTwoReplicasBecomesAvailable) {
  TestNamespace ns;
  kubectl_ok({"create", "deployment", "web", "--image=web:fake", "--replicas=2", "-n", ns.name()});
  wait_until("Deployment web Available with 2 replicas", 60s, [&] {
    auto d = get_json("deployment", ns.name(), "web");
    return d && d->value("/status/availableReplicas"_json_pointer, 0) == 2;
  });
  for (const auto& pod : list_json("pods", ns.name(), "app=web")) {
    EXPECT_EQ(pod["status"]["phase"], "Running");
    EXPECT_EQ(pod["status"]["containerStatuses"][0]["ready"], true);
  }
}

TEST(LocalCluster, JobWithoutEnvCompletesWithExitCodeZero) {
  TestNamespace ns;
  apply_json([&] {
    Json j = job("plain", Json::array());
    j["metadata"]["namespace"] = ns.name();
    return j;
  }());
  wait_until("Job plain Complete", 60s,
             [&] { return job_condition(ns.name(), "plain", "Complete"); });
  const auto t = terminated_state(ns.name(), "plain");
  ASSERT_TRUE(t);
  EXPECT_EQ((*t)["exitCode"], 0);
}

TEST(LocalCluster, JobPodWithExitCode3Fails) {
  TestNamespace ns;
  Json j = job("fails", Json::array({{{"name", "KWOK_EXIT_CODE"}, {"value", "3"}}}));
  j["metadata"]["namespace"] = ns.name();
  apply_json(j);
  wait_until("Job fails Failed", 60s, [&] { return job_condition(ns.name(), "fails", "Failed"); });
  const auto t = terminated_state(ns.name(), "fails");
  ASSERT_TRUE(t);
  EXPECT_EQ((*t)["exitCode"], 3);
  const auto pods = list_json("pods", ns.name(), "job-name=fails");
  ASSERT_FALSE(pods.empty());
  EXPECT_EQ(pods[0]["status"]["phase"], "Failed");
}

TEST(LocalCluster, JobPodCarriesItsTerminationMessage) {
  TestNamespace ns;
  const std::string message = R"({"metrics": {"accuracy": 0.93}, "note": "a \"quoted\" <word>"})";
  Json j =
      job("reports", Json::array({{{"name", "KWOK_TERMINATION_MESSAGE"}, {"value", message}}}));
  j["metadata"]["namespace"] = ns.name();
  apply_json(j);
  wait_until("Job reports Complete", 60s,
             [&] { return job_condition(ns.name(), "reports", "Complete"); });
  const auto t = terminated_state(ns.name(), "reports");
  ASSERT_TRUE(t);
  EXPECT_EQ((*t)["message"], message);
  EXPECT_EQ((*t)["exitCode"], 0);
}

TEST(LocalCluster, HeldJobPodRunsUntilDeleted) {
  TestNamespace ns;
  Json j = job("held", Json::array({{{"name", "KWOK_HOLD"}, {"value", "1"}}}));
  j["metadata"]["namespace"] = ns.name();
  j["spec"]["activeDeadlineSeconds"] = 5;
  apply_json(j);
  wait_until("held pod Running", 60s, [&] {
    auto pods = list_json("pods", ns.name(), "job-name=held");
    return !pods.empty() && pods[0]["status"]["phase"] == "Running";
  });
  // Only the Job's deadline ends it: the pod never finishes on its own.
  wait_until("Job held Failed by its deadline", 60s,
             [&] { return job_condition(ns.name(), "held", "Failed"); });
  auto j2 = get_json("job", ns.name(), "held");
  ASSERT_TRUE(j2);
  bool deadline = false;
  for (const auto& c : (*j2)["status"]["conditions"]) {
    if (c.value("type", "") == "Failed") deadline = c.value("reason", "") == "DeadlineExceeded";
  }
  EXPECT_TRUE(deadline);
}

TEST(LocalCluster, NotReadyPodsNeverBecomeReady) {
  TestNamespace ns;
  kubectl_ok({"create", "deployment", "broken", "--image=web:fake", "-n", ns.name()});
  kubectl_ok({"set", "env", "deployment/broken", "KWOK_NOT_READY=1", "-n", ns.name()});
  wait_until("broken pod Running", 60s, [&] {
    for (const auto& pod : list_json("pods", ns.name(), "app=broken")) {
      const Json env = pod["spec"]["containers"][0].value("env", Json::array());
      if (!env.empty() && pod["status"].value("phase", "") == "Running") return true;
    }
    return false;
  });
  for (const auto& pod : list_json("pods", ns.name(), "app=broken")) {
    if (pod["spec"]["containers"][0].value("env", Json::array()).empty()) continue;
    EXPECT_EQ(pod["status"]["containerStatuses"][0]["ready"], false);
  }
}

}  // namespace
}  // namespace cd4ml::e2e
