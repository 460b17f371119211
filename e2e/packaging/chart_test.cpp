// The Helm chart without a cluster: `helm lint`, the CRDs it ships (one source
// of truth with crds/), and what `helm template` renders for the values a
// platform team would set. The cluster side (install, least privilege in
// practice, the operator running with the chart's rights) is
// e2e/tests/serial/chart_test.cpp.

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <map>
#include <regex>
#include <set>
#include <sstream>

#include "cluster.hpp"
#include "helm.hpp"

namespace cd4ml::e2e {
namespace {

using Rules = std::map<std::string, std::set<std::string>>;

const std::string kReleaseNamespace = "ops";

std::vector<std::string> set_flags(const std::vector<std::string>& values) {
  std::vector<std::string> flags;
  for (const auto& v : values) flags.insert(flags.end(), {"--set", v});
  return flags;
}

CommandResult template_chart(const std::vector<std::string>& values) {
  std::vector<std::string> args = {"template",
                                   "rel",
                                   chart_dir().string(),
                                   "--namespace",
                                   kReleaseNamespace,
                                   "--kube-version",
                                   CD4ML_KUBERNETES_VERSION};
  const auto flags = set_flags(values);
  args.insert(args.end(), flags.begin(), flags.end());
  return helm(args);
}

std::vector<Json> render(const std::vector<std::string>& values = {}) {
  const CommandResult r = template_chart(values);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return yaml_documents(r.out);
}

std::vector<Json> of_kind(const std::vector<Json>& docs, const std::string& kind) {
  std::vector<Json> out;
  for (const auto& d : docs) {
    if (d.value("kind", "") == kind) out.push_back(d);
  }
  return out;
}

Json only(const std::vector<Json>& docs, const std::string& kind) {
  const auto found = of_kind(docs, kind);
  EXPECT_EQ(found.size(), 1u) << kind;
  return found.empty() ? Json::object() : found.front();
}

// A role's rules flattened to "group/resource[#names]" -> verbs, so two rule
// lists compare equal however they are grouped.
Rules flatten(const Json& rules) {
  Rules out;
  for (const auto& rule : rules) {
    std::string names;
    for (const auto& n : rule.value("resourceNames", Json::array())) {
      names += (names.empty() ? "#" : ",") + n.get<std::string>();
    }
    for (const auto& group : rule.at("apiGroups")) {
      for (const auto& resource : rule.at("resources")) {
        auto& verbs = out[group.get<std::string>() + "/" + resource.get<std::string>() + names];
        for (const auto& verb : rule.at("verbs")) verbs.insert(verb.get<std::string>());
      }
    }
  }
  return out;
}

// What the operator does with the API (operator/controllers/*/reconciler.cpp,
// setup.cpp; operator/runtime/informer.cpp, event_recorder.cpp): informers
// list and watch, reconcilers get/create/patch/delete, status is updated.
const Rules kOperatorRules = {
    {"cd4ml.io/trainingruns", {"list", "watch"}},
    {"cd4ml.io/modelreleases", {"list", "watch"}},
    {"cd4ml.io/trainingruns/status", {"update"}},
    {"cd4ml.io/modelreleases/status", {"update"}},
    // blockOwnerDeletion on owner references (OwnerReferencesPermissionEnforcement).
    {"cd4ml.io/trainingruns/finalizers", {"update"}},
    {"cd4ml.io/modelreleases/finalizers", {"update"}},
    {"batch/jobs", {"get", "list", "watch", "create"}},
    {"/pods", {"list", "watch"}},
    {"apps/deployments", {"get", "list", "watch", "create", "patch", "delete"}},
    {"/services", {"get", "list", "watch", "create", "patch", "delete"}},
    {"/events", {"create", "patch"}},
    // A routed canary's HTTPRoute (modelrelease/executor.cpp, reconciler.cpp).
    {"gateway.networking.k8s.io/httproutes", {"get", "patch"}},
};
// operator/runtime/leader_election.cpp: read, create, renew one Lease.
const Rules kLeaseRules = {
    {"coordination.k8s.io/leases", {"create"}},
    {"coordination.k8s.io/leases#cd4ml-operator-leader", {"get", "update"}},
};

std::string describe(const Rules& rules) {
  std::string out;
  for (const auto& [key, verbs] : rules) {
    out += key + ":";
    for (const auto& v : verbs) out += " " + v;
    out += "\n";
  }
  return out;
}

Json container(const std::vector<Json>& docs) {
  return only(docs, "Deployment")["spec"]["template"]["spec"]["containers"][0];
}

std::vector<std::string> args_of(const std::vector<Json>& docs) {
  return container(docs).value("args", std::vector<std::string>{});
}

bool has_arg(const std::vector<std::string>& args, const std::string& arg) {
  return std::find(args.begin(), args.end(), arg) != args.end();
}

// The value of --flag=value, or "" when absent.
std::string arg_value(const std::vector<std::string>& args, const std::string& flag) {
  for (const auto& a : args) {
    if (a.rfind(flag + "=", 0) == 0) return a.substr(flag.size() + 1);
  }
  return "";
}

void expect_subject_is_the_service_account(const Json& binding, const Json& sa) {
  ASSERT_EQ(binding["subjects"].size(), 1u);
  EXPECT_EQ(binding["subjects"][0]["kind"], "ServiceAccount");
  EXPECT_EQ(binding["subjects"][0]["name"], sa["metadata"]["name"]);
  EXPECT_EQ(binding["subjects"][0]["namespace"], kReleaseNamespace);
}

TEST(Chart, LintIsCleanForEveryValuesShape) {
  const std::vector<std::vector<std::string>> shapes = {
      {},
      {"watchNamespace=team-a"},
      {"replicaCount=3", "podDisruptionBudget.enabled=true"},
      {"leaderElection.enabled=false"},
      {"metrics.serviceMonitor.enabled=true", "networkPolicy.enabled=true",
       "networkPolicy.egress.enabled=true", "networkPolicy.egress.apiServerCIDRs={10.0.0.1/32}"},
  };
  for (const auto& shape : shapes) {
    std::vector<std::string> args = {"lint", "--strict", "--kube-version", CD4ML_KUBERNETES_VERSION,
                                     chart_dir().string()};
    const auto flags = set_flags(shape);
    args.insert(args.end(), flags.begin(), flags.end());
    const CommandResult r = helm(args);
    const std::string shown = ::testing::PrintToString(shape);
    EXPECT_EQ(r.exit_code, 0) << shown << "\n" << r.out << r.err;
    EXPECT_EQ(r.out.find("[WARNING]"), std::string::npos) << shown << "\n" << r.out;
    EXPECT_EQ(r.out.find("[ERROR]"), std::string::npos) << shown << "\n" << r.out;
    EXPECT_NE(r.out.find("1 chart(s) linted, 0 chart(s) failed"), std::string::npos) << r.out;
  }
}

// crds/ at the top is the only place the schemas are written; the chart's
// crds/ must package exactly those bytes (a link today; a copy would have to
// stay identical).
TEST(Chart, PackagesExactlyTheRepositoryCrds) {
  const auto out_dir =
      std::filesystem::temp_directory_path() / ("cd4ml-chart-" + std::to_string(::getpid()));
  std::filesystem::remove_all(out_dir);
  std::filesystem::create_directories(out_dir);
  const CommandResult packaged = helm({"package", chart_dir().string(), "-d", out_dir.string()});
  ASSERT_EQ(packaged.exit_code, 0) << packaged.err;
  const auto tgz = out_dir / "cd4ml-operator-0.1.0.tgz";
  const CommandResult untar = run_command({"tar", "-xzf", tgz.string(), "-C", out_dir.string()});
  ASSERT_EQ(untar.exit_code, 0) << untar.err;

  std::set<std::string> repo_files, chart_files;
  for (const auto& f : std::filesystem::directory_iterator(source_dir() / "crds")) {
    repo_files.insert(f.path().filename().string());
  }
  for (const auto& f : std::filesystem::directory_iterator(out_dir / "cd4ml-operator" / "crds")) {
    chart_files.insert(f.path().filename().string());
  }
  EXPECT_EQ(chart_files, repo_files);
  EXPECT_GE(repo_files.size(), 2u);
  for (const auto& name : repo_files) {
    EXPECT_EQ(read_text(out_dir / "cd4ml-operator" / "crds" / name),
              read_text(source_dir() / "crds" / name))
        << name << " in the packaged chart differs from crds/" << name;
  }

  // And `helm template --include-crds` renders both, parsed equal to crds/.
  const CommandResult rendered = helm({"template", "rel", chart_dir().string(), "--include-crds",
                                       "--kube-version", CD4ML_KUBERNETES_VERSION});
  ASSERT_EQ(rendered.exit_code, 0) << rendered.err;
  std::map<std::string, Json> crds;
  for (const auto& d : yaml_documents(rendered.out)) {
    if (d.value("kind", "") == "CustomResourceDefinition") crds[d["metadata"]["name"]] = d;
  }
  for (const auto& name : repo_files) {
    const auto expected = yaml_documents(read_text(source_dir() / "crds" / name));
    ASSERT_EQ(expected.size(), 1u) << name;
    const std::string crd = expected[0]["metadata"]["name"];
    ASSERT_TRUE(crds.count(crd)) << crd << " missing from helm template --include-crds";
    EXPECT_EQ(crds[crd], expected[0]) << crd;
  }
  std::filesystem::remove_all(out_dir);
}

TEST(Chart, DefaultRbacIsExactlyWhatTheOperatorUses) {
  const auto docs = render();
  const Json sa = only(docs, "ServiceAccount");
  EXPECT_EQ(sa["metadata"]["namespace"], kReleaseNamespace);

  const Json cluster_role = only(docs, "ClusterRole");
  EXPECT_EQ(flatten(cluster_role["rules"]), kOperatorRules)
      << "rendered:\n"
      << describe(flatten(cluster_role["rules"]));
  const Json binding = only(docs, "ClusterRoleBinding");
  EXPECT_EQ(binding["roleRef"]["name"], cluster_role["metadata"]["name"]);
  expect_subject_is_the_service_account(binding, sa);

  // Leases only in the release namespace, get/update only of the one Lease.
  const Json lease_role = only(docs, "Role");
  EXPECT_EQ(lease_role["metadata"]["namespace"], kReleaseNamespace);
  EXPECT_EQ(flatten(lease_role["rules"]), kLeaseRules) << "rendered:\n"
                                                       << describe(flatten(lease_role["rules"]));
  const Json lease_binding = only(docs, "RoleBinding");
  EXPECT_EQ(lease_binding["metadata"]["namespace"], kReleaseNamespace);
  EXPECT_EQ(lease_binding["roleRef"]["name"], lease_role["metadata"]["name"]);
  expect_subject_is_the_service_account(lease_binding, sa);

  // Nothing broad, nothing secret, in any rule of any role.
  for (const auto& role : of_kind(docs, "ClusterRole")) {
    const std::string text = role["rules"].dump();
    EXPECT_EQ(text.find('*'), std::string::npos) << text;
    EXPECT_EQ(text.find("secrets"), std::string::npos) << text;
  }
  for (const auto& binding_kind : {"ClusterRoleBinding", "RoleBinding"}) {
    for (const auto& b : of_kind(docs, binding_kind)) {
      EXPECT_NE(b["roleRef"]["name"], "cluster-admin");
      EXPECT_NE(b["roleRef"]["name"], "admin");
      EXPECT_NE(b["roleRef"]["name"], "edit");
    }
  }
  EXPECT_EQ(arg_value(args_of(docs), "--namespace"), "") << "default: all namespaces";
}

TEST(Chart, NamespacedModeGrantsOnlyThatNamespace) {
  const auto docs = render({"watchNamespace=team-a"});
  EXPECT_TRUE(of_kind(docs, "ClusterRole").empty());
  EXPECT_TRUE(of_kind(docs, "ClusterRoleBinding").empty());
  const Json sa = only(docs, "ServiceAccount");
  std::map<std::string, Json> roles;
  for (const auto& r : of_kind(docs, "Role")) roles[r["metadata"]["namespace"]] = r;
  ASSERT_EQ(roles.size(), 2u) << "one Role in team-a, the lease Role in " << kReleaseNamespace;
  EXPECT_EQ(flatten(roles["team-a"]["rules"]), kOperatorRules);
  EXPECT_EQ(flatten(roles[kReleaseNamespace]["rules"]), kLeaseRules);
  for (const auto& b : of_kind(docs, "RoleBinding")) {
    const std::string ns = b["metadata"]["namespace"];
    EXPECT_EQ(b["roleRef"]["kind"], "Role");
    EXPECT_EQ(b["roleRef"]["name"], roles[ns]["metadata"]["name"]) << ns;
    expect_subject_is_the_service_account(b, sa);
  }
  EXPECT_EQ(arg_value(args_of(docs), "--namespace"), "team-a");
  EXPECT_EQ(arg_value(args_of(docs), "--leader-election-namespace"), kReleaseNamespace);
}

// Prometheus credentials: get on the named Secrets and nothing more, in the
// role that covers the releases (ClusterRole, or the watchNamespace Role);
// the address becomes the operator's flag.
TEST(Chart, AnalysisGrantsGetOnTheNamedSecretsOnly) {
  for (const bool namespaced : {false, true}) {
    std::vector<std::string> values = {"analysis.secretNames={prom-token,prom-ca}",
                                       "analysis.prometheusAddress=https://prom.monitoring:9090"};
    if (namespaced) values.push_back("watchNamespace=team-a");
    const auto docs = render(values);
    Json role;
    for (const auto& r : of_kind(docs, namespaced ? "Role" : "ClusterRole")) {
      if (!namespaced || r["metadata"]["namespace"] == "team-a") role = r;
    }
    Rules expected = kOperatorRules;
    expected["/secrets#prom-token,prom-ca"] = {"get"};
    EXPECT_EQ(flatten(role["rules"]), expected) << describe(flatten(role["rules"]));
    EXPECT_EQ(arg_value(args_of(docs), "--prometheus-address"), "https://prom.monitoring:9090");
  }
  EXPECT_EQ(arg_value(args_of(render()), "--prometheus-address"), "")
      << "no flag by default: releases name their Prometheus";
  const CommandResult bad = template_chart({"analysis.prometheusAddress=prom:9090"});
  EXPECT_NE(bad.exit_code, 0) << "an address without a scheme is refused by the values schema";
}

TEST(Chart, PodIsHardenedAndProbed) {
  const auto docs = render();
  const Json deployment = only(docs, "Deployment");
  const Json& pod = deployment["spec"]["template"]["spec"];
  EXPECT_EQ(pod["securityContext"]["runAsNonRoot"], true);
  EXPECT_EQ(pod["securityContext"]["runAsUser"], 65532);
  EXPECT_EQ(pod["securityContext"]["seccompProfile"]["type"], "RuntimeDefault");
  EXPECT_EQ(pod["serviceAccountName"], only(docs, "ServiceAccount")["metadata"]["name"]);
  const Json c = container(docs);
  EXPECT_EQ(c["securityContext"]["allowPrivilegeEscalation"], false);
  EXPECT_EQ(c["securityContext"]["readOnlyRootFilesystem"], true);
  EXPECT_EQ(c["securityContext"]["capabilities"]["drop"], Json::array({"ALL"}));
  EXPECT_FALSE(c["securityContext"].contains("privileged") &&
               c["securityContext"]["privileged"] == true);
  for (const char* kind : {"requests", "limits"}) {
    EXPECT_TRUE(c["resources"][kind].contains("cpu")) << kind;
    EXPECT_TRUE(c["resources"][kind].contains("memory")) << kind;
  }
  EXPECT_EQ(c["image"], "cd4ml-operator:0.1.0") << "tag defaults to appVersion";

  // Probes hit the paths the operator serves, on the port it is told to bind.
  const auto args = args_of(docs);
  std::map<std::string, int> ports;
  for (const auto& p : c["ports"]) ports[p["name"]] = p["containerPort"];
  EXPECT_EQ(arg_value(args, "--health-probe-bind-address"), ":" + std::to_string(ports["health"]));
  EXPECT_EQ(arg_value(args, "--metrics-bind-address"), ":" + std::to_string(ports["metrics"]));
  EXPECT_EQ(c["livenessProbe"]["httpGet"]["path"], "/healthz");
  EXPECT_EQ(c["livenessProbe"]["httpGet"]["port"], "health");
  EXPECT_EQ(c["readinessProbe"]["httpGet"]["path"], "/readyz");
  EXPECT_EQ(c["readinessProbe"]["httpGet"]["port"], "health");
  EXPECT_EQ(arg_value(args, "--log-format"), "json");
  EXPECT_EQ(arg_value(args, "--log-level"), "info");

  // The kubelet waits longer than the operator's own shutdown grace.
  for (const int grace : {30, 100}) {
    const auto d = render({"gracefulShutdownTimeoutSeconds=" + std::to_string(grace)});
    const int flag = std::stoi(arg_value(args_of(d), "--graceful-shutdown-timeout"));
    EXPECT_EQ(flag, grace);
    const int termination =
        only(d, "Deployment")["spec"]["template"]["spec"]["terminationGracePeriodSeconds"];
    EXPECT_GT(termination, flag);
    EXPECT_GE(termination - flag, 10) << "time for the Lease release and the Event flush";
  }
  const auto relabelled = render({"logging.level=debug", "logging.format=text"});
  EXPECT_EQ(arg_value(args_of(relabelled), "--log-level"), "debug");
  EXPECT_EQ(arg_value(args_of(relabelled), "--log-format"), "text");
}

TEST(Chart, LeaderElectionIsOnWhenAskedAndWheneverThereAreReplicas) {
  struct Case {
    std::vector<std::string> values;
    bool elect;
  };
  const std::vector<Case> cases = {
      {{}, true},
      {{"leaderElection.enabled=false"}, false},
      {{"leaderElection.enabled=false", "replicaCount=2"}, true},
      {{"replicaCount=3"}, true},
  };
  for (const auto& c : cases) {
    const std::string shown = ::testing::PrintToString(c.values);
    const auto docs = render(c.values);
    const auto args = args_of(docs);
    EXPECT_EQ(has_arg(args, "--leader-elect"), c.elect) << shown;
    const Json deployment = only(docs, "Deployment");
    // Without an election two pods must never overlap: Recreate.
    EXPECT_EQ(deployment["spec"]["strategy"]["type"], c.elect ? "RollingUpdate" : "Recreate")
        << shown;
    EXPECT_EQ(of_kind(docs, "Role").size(), c.elect ? 1u : 0u) << shown << " (lease Role)";
    if (c.elect) {
      EXPECT_EQ(arg_value(args, "--leader-election-namespace"), kReleaseNamespace);
      EXPECT_EQ(arg_value(args, "--leader-election-id"), "cd4ml-operator-leader");
    }
  }
}

TEST(Chart, OptionalObjectsOnlyWhenAskedAndTheySelectTheOperator) {
  const auto plain = render();
  for (const char* kind : {"PodDisruptionBudget", "ServiceMonitor", "NetworkPolicy"}) {
    EXPECT_TRUE(of_kind(plain, kind).empty()) << kind << " is off by default";
  }
  const auto docs = render(
      {"replicaCount=2", "podDisruptionBudget.enabled=true", "metrics.serviceMonitor.enabled=true",
       "metrics.serviceMonitor.labels.release=prometheus", "networkPolicy.enabled=true",
       "networkPolicy.egress.enabled=true", "networkPolicy.egress.apiServerCIDRs={10.0.0.1/32}"});
  const Json pod_labels = only(docs, "Deployment")["spec"]["template"]["metadata"]["labels"];
  auto selects_pods = [&](const Json& match_labels) {
    for (const auto& [k, v] : match_labels.items()) {
      if (pod_labels.value(k, Json()) != v) return false;
    }
    return !match_labels.empty();
  };
  const Json pdb = only(docs, "PodDisruptionBudget");
  EXPECT_EQ(pdb["spec"]["minAvailable"], 1);
  EXPECT_TRUE(selects_pods(pdb["spec"]["selector"]["matchLabels"]));

  const Json service = only(docs, "Service");
  EXPECT_TRUE(selects_pods(service["spec"]["selector"]));
  EXPECT_EQ(service["spec"]["ports"][0]["targetPort"], "metrics");
  const Json monitor = only(docs, "ServiceMonitor");
  EXPECT_EQ(monitor["apiVersion"], "monitoring.coreos.com/v1");
  EXPECT_EQ(monitor["metadata"]["labels"]["release"], "prometheus");
  for (const auto& [k, v] : monitor["spec"]["selector"]["matchLabels"].items()) {
    EXPECT_EQ(service["metadata"]["labels"].value(k, Json()), v) << "ServiceMonitor selects " << k;
  }
  EXPECT_EQ(monitor["spec"]["endpoints"][0]["port"], service["spec"]["ports"][0]["name"]);

  const Json policy = only(docs, "NetworkPolicy");
  EXPECT_TRUE(selects_pods(policy["spec"]["podSelector"]["matchLabels"]));
  EXPECT_EQ(policy["spec"]["policyTypes"], Json::array({"Ingress", "Egress"}));
  ASSERT_EQ(policy["spec"]["ingress"].size(), 1u);
  EXPECT_EQ(policy["spec"]["ingress"][0]["ports"],
            Json::parse(R"([{"port":"metrics","protocol":"TCP"}])"));
  EXPECT_EQ(policy["spec"]["egress"][0]["to"][0]["ipBlock"]["cidr"], "10.0.0.1/32");
}

TEST(Chart, RefusesCombinationsThatWouldHurt) {
  const CommandResult pdb = template_chart({"podDisruptionBudget.enabled=true"});
  EXPECT_NE(pdb.exit_code, 0);
  EXPECT_NE(pdb.err.find("needs replicaCount > 1"), std::string::npos) << pdb.err;
  const CommandResult lease = template_chart({"leaderElection.renewDeadlineSeconds=20"});
  EXPECT_NE(lease.exit_code, 0);
  EXPECT_NE(lease.err.find("renewDeadlineSeconds must be shorter"), std::string::npos) << lease.err;
  const CommandResult no_sa = template_chart({"serviceAccount.create=false"});
  EXPECT_NE(no_sa.exit_code, 0);
  EXPECT_NE(no_sa.err.find("serviceAccount.name is required"), std::string::npos) << no_sa.err;
  const auto own_sa = render({"serviceAccount.create=false", "serviceAccount.name=platform-ops"});
  EXPECT_TRUE(of_kind(own_sa, "ServiceAccount").empty());
  EXPECT_EQ(only(own_sa, "ClusterRoleBinding")["subjects"][0]["name"], "platform-ops");
}

// values.schema.json: a mistyped key or an unknown setting fails the install
// instead of being silently ignored.
TEST(Chart, SchemaRejectsMistypedValues) {
  struct Case {
    std::string value;
    std::string message;
  };
  const std::vector<Case> cases = {
      {"watchNamespce=team-a", "additional properties 'watchNamespce' not allowed"},
      {"logging.format=xml", "/logging/format"},
      {"logging.level=verbose", "/logging/level"},
      {"replicaCount=0", "/replicaCount"},
      {"metrics.port=70000", "/metrics/port"},
      {"kubeApi.qps=fast", "/kubeApi/qps"},
      {"leaderElection.enabled=maybe", "/leaderElection/enabled"},
      {"metrics.serviceMonitor.interval=30 seconds", "/metrics/serviceMonitor/interval"},
  };
  for (const auto& c : cases) {
    const CommandResult r = template_chart({c.value});
    EXPECT_NE(r.exit_code, 0) << c.value;
    EXPECT_NE(r.err.find(c.message), std::string::npos) << c.value << ": " << r.err;
  }
  // What a user legitimately writes still passes: fractional qps, a percentage budget.
  const auto docs = render({"kubeApi.qps=7.5", "replicaCount=3", "podDisruptionBudget.enabled=true",
                            "podDisruptionBudget.minAvailable=50%"});
  EXPECT_EQ(arg_value(args_of(docs), "--kube-api-qps"), "7.5");
  EXPECT_EQ(only(docs, "PodDisruptionBudget")["spec"]["minAvailable"], "50%");
}

// Dotted paths of values.yaml's leaves (scalars, lists, empty maps).
void leaf_paths(const Json& node, const std::string& prefix, std::set<std::string>& out) {
  if (node.is_object() && !node.empty()) {
    for (const auto& [k, v] : node.items())
      leaf_paths(v, prefix.empty() ? k : prefix + "." + k, out);
  } else {
    out.insert(prefix);
  }
}

TEST(Chart, EveryValueIsDocumentedInTheReadme) {
  const auto values = yaml_documents(read_text(chart_dir() / "values.yaml"));
  ASSERT_EQ(values.size(), 1u);
  std::set<std::string> leaves;
  leaf_paths(values[0], "", leaves);
  ASSERT_GT(leaves.size(), 30u);

  // Keys of the README's values table: rows starting with | `key` | in the
  // "## Values" section.
  std::set<std::string> documented;
  std::istringstream readme(read_text(chart_dir() / "README.md"));
  bool in_values = false;
  for (std::string line; std::getline(readme, line);) {
    if (line.rfind("## ", 0) == 0) in_values = line == "## Values";
    if (!in_values || line.rfind("| `", 0) != 0) continue;
    const auto end = line.find('`', 3);
    documented.insert(line.substr(3, end - 3));
  }
  // A leaf is documented by its own row or by a row for a map it is in
  // (`resources` covers resources.limits.cpu).
  for (const auto& leaf : leaves) {
    bool found = false;
    for (std::string p = leaf;; p = p.substr(0, p.rfind('.'))) {
      if (documented.count(p)) found = true;
      if (found || p.find('.') == std::string::npos) break;
    }
    EXPECT_TRUE(found) << leaf << " is in values.yaml but not in README.md's table";
  }
  for (const auto& key : documented) {
    Json::json_pointer pointer("/" + std::regex_replace(key, std::regex("\\."), "/"));
    EXPECT_TRUE(values[0].contains(pointer)) << key << " is in README.md but not in values.yaml";
  }
}

}  // namespace
}  // namespace cd4ml::e2e
