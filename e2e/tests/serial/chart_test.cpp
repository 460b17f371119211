// The Helm chart on the local control plane (issue 6): install, upgrade and
// uninstall; what its ServiceAccount may and may not do (`kubectl auth
// can-i`); and the operator binary, run out of cluster with a token of that
// ServiceAccount instead of admin, carrying the TrainingRun and ModelRelease
// stories through with exactly the chart's rights, cluster-wide and
// namespaced. Serial: the chart installs cluster-scoped RBAC.
//
// The operator's pod from the chart's Deployment is faked by kwok (it turns
// Running and Ready, no process runs), which is why the operator itself runs
// here as a local process with the ServiceAccount's credentials.

#include <gtest/gtest.h>

#include <algorithm>
#include <ctime>

#include "cluster.hpp"
#include "helm.hpp"
#include "operator_process.hpp"
#include "scenarios.hpp"
#include "service_account.hpp"

namespace cd4ml::e2e {
namespace {

const std::string kLease = "cd4ml-operator-leader";

// The random suffix TestNamespace gives every namespace, for names that must
// be unique across the cluster (the ClusterRole is named after the release).
std::string suffix_of(const std::string& ns) {
  return ns.substr(ns.rfind('-') + 1);
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

std::string now_micro_time() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char out[40];
  std::strftime(out, sizeof out, "%Y-%m-%dT%H:%M:%S.000000Z", &tm);
  return out;
}

std::vector<std::string> container_args(const Json& deployment) {
  return deployment["spec"]["template"]["spec"]["containers"][0].value("args",
                                                                       std::vector<std::string>{});
}

bool has_arg(const std::vector<std::string>& args, const std::string& arg) {
  return std::find(args.begin(), args.end(), arg) != args.end();
}

class ChartE2E : public testing::Test {
 protected:
  void SetUp() override {
    install_crds();
    ASSERT_TRUE(std::filesystem::exists(helm_path()));
  }

  void TearDown() override {
    // Cluster-scoped RBAC outlives the namespaces: never leave a release behind.
    for (const auto& [release, ns] : installed_) helm({"uninstall", release, "-n", ns}, true);
  }

  // The release namespace enforces the "restricted" Pod Security Standard,
  // so the operator pod is only created if the chart's pod is hardened.
  void restrict_pod_security(const std::string& ns) {
    kubectl_ok({"label", "namespace", ns, "--overwrite",
                "pod-security.kubernetes.io/enforce=restricted",
                "pod-security.kubernetes.io/enforce-version=latest"});
  }

  CommandResult helm_release(const std::string& action, const std::string& release,
                             const std::string& ns, const std::vector<std::string>& values) {
    std::vector<std::string> args = {action, release,  chart_dir().string(), "-n",
                                     ns,     "--wait", "--timeout",          "120s"};
    if (action == "upgrade") args.push_back("--reuse-values");
    for (const auto& v : values) args.insert(args.end(), {"--set", v});
    CommandResult r = helm(args, true);
    if (action == "install" && r.exit_code == 0) installed_.emplace_back(release, ns);
    return r;
  }

  void install(const std::string& release, const std::string& ns,
               const std::vector<std::string>& values = {}) {
    const CommandResult r = helm_release("install", release, ns, values);
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  }

  // Waits until the Deployment's pods (faked by kwok) are all Ready.
  Json wait_operator_ready(const std::string& ns, const std::string& name, int replicas) {
    Json last;
    wait_until(
        "Deployment " + name + " with " + std::to_string(replicas) + " ready pods", 90s,
        [&] {
          auto d = get_json("deployment", ns, name);
          if (!d) return false;
          last = *d;
          const Json& s = (*d)["status"];
          return (*d)["spec"]["replicas"] == replicas && s.value("readyReplicas", 0) == replicas &&
                 s.value("updatedReplicas", 0) == replicas && s.value("replicas", 0) == replicas &&
                 s.value("observedGeneration", 0L) == (*d)["metadata"].value("generation", -1L);
        },
        [&] { return last.dump(2); });
    return last;
  }

  // The operator as the chart's ServiceAccount, out of cluster.
  std::unique_ptr<OperatorProcess> operator_as(const std::string& sa_ns, const std::string& sa,
                                               std::vector<std::string> flags,
                                               const std::string& log_name) {
    const auto kubeconfig =
        service_account_kubeconfig(sa_ns, sa, test_log_dir() / (sa + ".kubeconfig"));
    return std::make_unique<OperatorProcess>(
        OperatorProcess::Options{std::move(flags), kubeconfig.string(), log_name});
  }

  void expect_no_forbidden_request(const OperatorProcess& op) {
    const std::string log = lower(op.log());
    EXPECT_EQ(log.find("forbidden"), std::string::npos) << op.log();
  }

  // Runs both stories with an operator scoped to `ns`, holding the chart's
  // Lease in the release namespace, then stops it and checks it released the
  // Lease (get, create, update on it all exercised).
  void run_stories_as(const std::string& sa_ns, const std::string& sa, const std::string& ns) {
    auto op = operator_as(
        sa_ns, sa, {"--namespace=" + ns, "--leader-elect", "--leader-election-namespace=" + sa_ns},
        "operator-as-" + sa);
    op->start();
    ASSERT_TRUE(op->wait_ready());
    ASSERT_TRUE(wait_until(
        "the operator leads", 30s,
        [&] {
          return op->metric("leader_election_master_status", {{"name", kLease}}) == 1.0;
        },
        [&] { return op->log(); }));
    trainingrun_succeeds_with_metrics(ns, *op);
    modelrelease_rolls_out_a_new_training_run(ns, *op);
    name_conflicts_are_reported_and_left_alone(ns, *op);
    // It did the work itself (any other operator on the shared cluster could
    // also have), and none of its requests was refused.
    EXPECT_GT(op->metric("controller_runtime_reconcile_total", {{"controller", "trainingrun"}}), 0);
    EXPECT_GT(op->metric("controller_runtime_reconcile_total", {{"controller", "modelrelease"}}),
              0);
    EXPECT_GT(op->write_requests(), 0);
    EXPECT_EQ(op->stop(), 0);
    EXPECT_NE(op->log().find("released the lease"), std::string::npos) << op->log();
    expect_no_forbidden_request(*op);
  }

  std::vector<std::pair<std::string, std::string>> installed_;
};

TEST_F(ChartE2E, InstallUpgradeUninstall) {
  TestNamespace ns;
  TestNamespace users;
  restrict_pod_security(ns.name());
  const std::string release = "cd4ml-" + suffix_of(ns.name());
  const std::string name = release + "-cd4ml-operator";

  install(release, ns.name(), {"leaderElection.enabled=false"});
  Json deployment = wait_operator_ready(ns.name(), name, 1);
  auto args = container_args(deployment);
  EXPECT_FALSE(has_arg(args, "--leader-elect"));
  EXPECT_TRUE(has_arg(args, "--log-level=info"));
  EXPECT_EQ(deployment["spec"]["strategy"]["type"], "Recreate");
  EXPECT_TRUE(get_json("serviceaccount", ns.name(), name));
  EXPECT_TRUE(get_json("clusterrole", "", name));
  EXPECT_TRUE(get_json("clusterrolebinding", "", name));
  EXPECT_TRUE(get_json("service", ns.name(), name + "-metrics"));
  EXPECT_FALSE(get_json("role", ns.name(), name + "-leader-election"))
      << "no election, no Lease rights";
  const auto pods = list_json("pods", ns.name(), "app.kubernetes.io/instance=" + release);
  ASSERT_EQ(pods.size(), 1u);
  EXPECT_EQ(pods[0]["spec"]["serviceAccountName"], name);

  // A user's objects, which the chart's lifecycle must never touch.
  apply_json({{"apiVersion", "cd4ml.io/v1alpha1"},
              {"kind", "TrainingRun"},
              {"metadata", {{"name", "keep-me"}, {"namespace", users.name()}}},
              {"spec",
               {{"model", "churn"},
                {"code", {{"revision", "r1"}}},
                {"data", {{"uri", "s3://d"}}},
                {"trainer", {{"image", "t:1"}}},
                {"output", {{"uri", "s3://m"}}}}}});
  const std::string run_uid =
      get_json("trainingrun", users.name(), "keep-me").value()["metadata"]["uid"];

  // Upgrade: two replicas switch leader election on; a PDB, a NetworkPolicy
  // and a new log level come with it.
  const CommandResult up =
      helm_release("upgrade", release, ns.name(),
                   {"replicaCount=2", "podDisruptionBudget.enabled=true", "logging.level=debug",
                    "networkPolicy.enabled=true", "networkPolicy.egress.enabled=true",
                    "networkPolicy.egress.apiServerCIDRs={127.0.0.1/32}"});
  ASSERT_EQ(up.exit_code, 0) << up.out << up.err;
  deployment = wait_operator_ready(ns.name(), name, 2);
  args = container_args(deployment);
  EXPECT_TRUE(has_arg(args, "--leader-elect"));
  EXPECT_TRUE(has_arg(args, "--leader-election-namespace=" + ns.name()));
  EXPECT_TRUE(has_arg(args, "--log-level=debug"));
  EXPECT_FALSE(has_arg(args, "--log-level=info"));
  EXPECT_EQ(deployment["spec"]["strategy"]["type"], "RollingUpdate");
  const auto pdb = get_json("poddisruptionbudget", ns.name(), name);
  ASSERT_TRUE(pdb);
  wait_until("the PDB counts both pods", 30s, [&] {
    auto p = get_json("poddisruptionbudget", ns.name(), name);
    return p && p->value("/status/currentHealthy"_json_pointer, 0) == 2 &&
           p->value("/status/disruptionsAllowed"_json_pointer, 0) == 1;
  });
  EXPECT_TRUE(get_json("networkpolicy", ns.name(), name));
  EXPECT_TRUE(get_json("role", ns.name(), name + "-leader-election"));
  const Json history =
      Json::parse(helm({"history", release, "-n", ns.name(), "-o", "json"}, true).out);
  ASSERT_EQ(history.size(), 2u);
  EXPECT_EQ(history[1]["status"], "deployed");

  const CommandResult down = helm({"uninstall", release, "-n", ns.name(), "--wait"}, true);
  ASSERT_EQ(down.exit_code, 0) << down.out << down.err;
  installed_.clear();
  wait_until("the chart's objects gone", 60s, [&] {
    return !get_json("deployment", ns.name(), name) &&
           !get_json("serviceaccount", ns.name(), name) && !get_json("clusterrole", "", name) &&
           !get_json("clusterrolebinding", "", name) &&
           !get_json("role", ns.name(), name + "-leader-election") &&
           !get_json("rolebinding", ns.name(), name + "-leader-election") &&
           !get_json("service", ns.name(), name + "-metrics") &&
           !get_json("poddisruptionbudget", ns.name(), name) &&
           !get_json("networkpolicy", ns.name(), name) &&
           list_json("pods", ns.name(), "app.kubernetes.io/instance=" + release).empty();
  });
  // The policy: CRDs and users' objects stay.
  EXPECT_TRUE(get_json("crd", "", "trainingruns.cd4ml.io"));
  EXPECT_TRUE(get_json("crd", "", "modelreleases.cd4ml.io"));
  const auto run = get_json("trainingrun", users.name(), "keep-me");
  ASSERT_TRUE(run) << "helm uninstall must leave users' TrainingRuns alone";
  EXPECT_EQ((*run)["metadata"]["uid"], run_uid);
}

// What the operator does, as can-i questions (ns "*": all namespaces).
std::vector<Access> operator_needs(const std::string& ns, const std::string& lease_ns) {
  return {
      {"list", "trainingruns.cd4ml.io", ns},
      {"watch", "trainingruns.cd4ml.io", ns},
      {"list", "modelreleases.cd4ml.io", ns},
      {"watch", "modelreleases.cd4ml.io", ns},
      {"update", "trainingruns.cd4ml.io", ns, "status"},
      {"update", "modelreleases.cd4ml.io", ns, "status"},
      {"get", "jobs.batch", ns},
      {"list", "jobs.batch", ns},
      {"watch", "jobs.batch", ns},
      {"create", "jobs.batch", ns},
      {"list", "pods", ns},
      {"watch", "pods", ns},
      {"list", "deployments.apps", ns},
      {"watch", "deployments.apps", ns},
      {"create", "deployments.apps", ns},
      {"patch", "deployments.apps", ns},
      {"delete", "deployments.apps", ns},
      {"get", "services", ns},
      {"list", "services", ns},
      {"watch", "services", ns},
      {"create", "services", ns},
      {"patch", "services", ns},
      {"delete", "services", ns},
      {"create", "events", ns},
      {"patch", "events", ns},
      {"get", "httproutes.gateway.networking.k8s.io", ns},
      {"patch", "httproutes.gateway.networking.k8s.io", ns},
      {"get", "leases.coordination.k8s.io/" + kLease, lease_ns},
      {"update", "leases.coordination.k8s.io/" + kLease, lease_ns},
      {"create", "leases.coordination.k8s.io", lease_ns},
  };
}

// What it must not be able to do wherever it works.
std::vector<Access> never_allowed(const std::string& ns, const std::string& lease_ns) {
  return {
      {"get", "secrets", ns},
      {"list", "secrets", ns},
      {"watch", "secrets", ns},
      {"get", "secrets", lease_ns},
      {"list", "secrets", "*"},
      {"get", "configmaps", ns},
      {"create", "pods", ns},
      {"delete", "pods", ns},
      {"create", "pods", ns, "exec"},
      {"delete", "namespaces", "*"},
      {"create", "namespaces", "*"},
      {"*", "*", ns},
      {"*", "*", "*"},
      {"get", "*", ns},
      {"update", "trainingruns.cd4ml.io", ns},  // spec and metadata are the user's
      {"patch", "trainingruns.cd4ml.io", ns},
      {"delete", "trainingruns.cd4ml.io", ns},
      {"update", "modelreleases.cd4ml.io", ns},
      {"delete", "modelreleases.cd4ml.io", ns},
      {"create", "trainingruns.cd4ml.io", ns},
      {"delete", "jobs.batch", ns},
      {"patch", "jobs.batch", ns},
      {"update", "deployments.apps", ns},
      {"create", "httproutes.gateway.networking.k8s.io", ns},
      {"delete", "httproutes.gateway.networking.k8s.io", ns},
      {"create", "serviceaccounts", ns, "token"},
      {"bind", "clusterroles.rbac.authorization.k8s.io", "*"},
      {"escalate", "roles.rbac.authorization.k8s.io", ns},
      {"create", "rolebindings.rbac.authorization.k8s.io", ns},
      {"impersonate", "serviceaccounts", ns},
      {"get", "leases.coordination.k8s.io/someone-elses-lease", lease_ns},
      {"update", "leases.coordination.k8s.io/someone-elses-lease", lease_ns},
      {"delete", "leases.coordination.k8s.io/" + kLease, lease_ns},
      {"create", "leases.coordination.k8s.io", ns == lease_ns ? "kube-system" : ns},
      {"list", "customresourcedefinitions.apiextensions.k8s.io", "*"},
  };
}

void expect_rights(const std::string& sa_ns, const std::string& sa, const std::vector<Access>& can,
                   const std::vector<Access>& cannot) {
  for (const auto& a : can) {
    EXPECT_TRUE(service_account_can(sa_ns, sa, a)) << "needed but denied: " << describe(a);
  }
  for (const auto& a : cannot) {
    EXPECT_FALSE(service_account_can(sa_ns, sa, a)) << "allowed but never needed: " << describe(a);
  }
}

// The optional ServiceMonitor against the real CRD of a pinned
// prometheus-operator release (e2e/toolchain/prometheus-operator): the API
// server accepts it, keeps every field we render (a misspelt or misplaced
// field would be pruned silently, and Prometheus would scrape nothing), and it
// selects the chart's metrics Service on its named port.
TEST_F(ChartE2E, ServiceMonitorIsValidForTheRealCrd) {
  kubectl_ok({"apply", "--server-side", "-f", servicemonitor_crd_path().string()});
  kubectl_ok({"wait", "--for=condition=Established", "--timeout=60s",
              "crd/servicemonitors.monitoring.coreos.com"});
  TestNamespace ns;
  const std::string release = "sm-" + suffix_of(ns.name());
  const std::string name = release + "-cd4ml-operator";
  const std::vector<std::string> values = {
      "leaderElection.enabled=false", "metrics.serviceMonitor.enabled=true",
      "metrics.serviceMonitor.interval=1m30s", "metrics.serviceMonitor.labels.release=prometheus"};
  install(release, ns.name(), values);

  // What helm sent, against what the server kept.
  const CommandResult rendered = helm({"get", "manifest", release, "-n", ns.name()}, true);
  ASSERT_EQ(rendered.exit_code, 0) << rendered.err;
  Json rendered_monitor;
  for (const auto& doc : yaml_documents(rendered.out)) {
    if (doc.value("kind", "") == "ServiceMonitor") rendered_monitor = doc;
  }
  ASSERT_FALSE(rendered_monitor.is_null()) << "the chart rendered no ServiceMonitor";

  const auto live = get_json("servicemonitor", ns.name(), name);
  ASSERT_TRUE(live) << "no ServiceMonitor " << name;
  Json live_with_rendered = (*live)["spec"];
  live_with_rendered.merge_patch(rendered_monitor["spec"]);
  EXPECT_EQ(live_with_rendered, (*live)["spec"]) << "fields the CRD dropped or changed";
  EXPECT_EQ((*live)["spec"]["endpoints"][0]["interval"], "1m30s");
  EXPECT_EQ((*live)["metadata"]["labels"]["release"], "prometheus");

  const auto service = get_json("service", ns.name(), name + "-metrics");
  ASSERT_TRUE(service);
  for (const auto& [k, v] : (*live)["spec"]["selector"]["matchLabels"].items()) {
    EXPECT_EQ((*service)["metadata"]["labels"].value(k, Json()), v) << "selects " << k;
  }
  EXPECT_EQ((*live)["spec"]["endpoints"][0]["port"], (*service)["spec"]["ports"][0]["name"]);
}

TEST_F(ChartE2E, ClusterWideOperatorRunsWithExactlyTheChartsRights) {
  TestNamespace ns;
  TestNamespace users;
  restrict_pod_security(ns.name());
  const std::string release = "cd4ml-" + suffix_of(ns.name());
  const std::string sa = release + "-cd4ml-operator";
  install(release, ns.name());
  wait_operator_ready(ns.name(), sa, 1);

  expect_rights(ns.name(), sa, operator_needs("*", ns.name()), never_allowed("*", ns.name()));
  expect_rights(ns.name(), sa, operator_needs(users.name(), ns.name()),
                never_allowed(users.name(), ns.name()));

  // 1. Cluster-wide, as the chart runs it, but as a follower: another
  // holder keeps the Lease, so this operator syncs every informer across all
  // namespaces (ready only if every list and watch is allowed) and reads the
  // Lease, without reconciling anything of the other tests sharing the cluster.
  apply_json({{"apiVersion", "coordination.k8s.io/v1"},
              {"kind", "Lease"},
              {"metadata", {{"name", kLease}, {"namespace", ns.name()}}},
              {"spec",
               {{"holderIdentity", "e2e-placeholder"},
                {"leaseDurationSeconds", 3600},
                {"acquireTime", now_micro_time()},
                {"renewTime", now_micro_time()}}}});
  {
    auto follower = operator_as(
        ns.name(), sa, {"--leader-elect", "--leader-election-namespace=" + ns.name()}, "follower");
    follower->start();
    ASSERT_TRUE(follower->wait_ready());
    ASSERT_TRUE(wait_until(
        "the follower sees the placeholder leading", 30s,
        [&] {
          const std::string log = follower->log();
          return log.find("leader observed") != std::string::npos &&
                 log.find("e2e-placeholder") != std::string::npos;
        },
        [&] { return follower->log(); }));
    EXPECT_EQ(follower->metric("controller_runtime_reconcile_total"), 0.0);
    EXPECT_EQ(follower->stop(), 0);
    expect_no_forbidden_request(*follower);
  }
  kubectl_ok({"delete", "lease", kLease, "-n", ns.name()});

  // 2. Leading, scoped to one namespace so it leaves the other tests' objects
  // alone; the ClusterRole is what authorizes it there.
  run_stories_as(ns.name(), sa, users.name());
}

TEST_F(ChartE2E, NamespacedOperatorSeesOnlyItsNamespace) {
  TestNamespace ns;
  TestNamespace watched;
  TestNamespace other;
  restrict_pod_security(ns.name());
  const std::string release = "cd4ml-" + suffix_of(ns.name());
  const std::string sa = release + "-cd4ml-operator";
  install(release, ns.name(),
          {"watchNamespace=" + watched.name(), "analysis.secretNames={cd4ml-prom-token}"});
  const Json deployment = wait_operator_ready(ns.name(), sa, 1);
  EXPECT_TRUE(has_arg(container_args(deployment), "--namespace=" + watched.name()));
  EXPECT_FALSE(get_json("clusterrole", "", sa));
  EXPECT_FALSE(get_json("clusterrolebinding", "", sa));

  expect_rights(ns.name(), sa, operator_needs(watched.name(), ns.name()),
                never_allowed(watched.name(), ns.name()));
  // Prometheus credentials: the one named Secret, in its namespace, by get.
  EXPECT_TRUE(
      service_account_can(ns.name(), sa, {"get", "secrets/cd4ml-prom-token", watched.name()}));
  for (const Access& a : std::vector<Access>{{"get", "secrets/another-secret", watched.name()},
                                             {"list", "secrets", watched.name()},
                                             {"watch", "secrets", watched.name()},
                                             {"get", "secrets/cd4ml-prom-token", other.name()}}) {
    EXPECT_FALSE(service_account_can(ns.name(), sa, a))
        << "allowed but never needed: " << describe(a);
  }
  // Nothing of what it may do in its namespace, anywhere else.
  for (const auto& where : {other.name(), std::string("*"), std::string("default")}) {
    for (const auto& a : operator_needs(where, "kube-system")) {
      EXPECT_FALSE(service_account_can(ns.name(), sa, a))
          << "outside its namespace: " << describe(a);
    }
  }

  // Asked to watch all namespaces anyway, it is refused and never gets ready.
  {
    auto wide = operator_as(ns.name(), sa, {}, "cluster-wide-attempt");
    wide->start();
    ASSERT_TRUE(wait_until(
        "the cluster-wide lists are refused", 30s,
        [&] { return lower(wide->log()).find("forbidden") != std::string::npos; },
        [&] { return wide->log(); }));
    EXPECT_NE(wide->http_get(wide->health_port(), "/readyz").first, 200);
    wide->stop();
  }

  run_stories_as(ns.name(), sa, watched.name());
}

}  // namespace
}  // namespace cd4ml::e2e
