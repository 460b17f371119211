// The local cluster's Prometheus (e2e/scripts/prometheus-lib.sh): the version
// we build, Kubernetes service discovery of pods against the API server (kwok
// pods: their targets are listed with their labels, never scraped), and real
// scrapes of a server on this machine listed through file_sd.

#include "prometheus.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <set>

#include "cluster.hpp"

namespace cd4ml::e2e {
namespace {

// A kwok pod of `ns` with `labels` and `annotations`; `env` for kwok's stages.
Json kwok_pod(const std::string& ns, const std::string& name, const Json& labels,
              const Json& annotations, const Json& env = Json::array()) {
  Json container = {{"name", "server"},
                    {"image", "example.invalid/server:1"},
                    {"ports", Json::array({{{"containerPort", 8080}}, {{"containerPort", 9100}}})}};
  if (!env.empty()) container["env"] = env;
  return {{"apiVersion", "v1"},
          {"kind", "Pod"},
          {"metadata",
           {{"name", name}, {"namespace", ns}, {"labels", labels}, {"annotations", annotations}}},
          {"spec", {{"containers", Json::array({container})}}}};
}

// The active targets of pods in `ns`.
std::vector<Json> active_targets_in(const std::string& ns) {
  std::vector<Json> out;
  for (const auto& t : prom_targets("active")) {
    if (t["labels"].value("namespace", "") == ns) out.push_back(t);
  }
  return out;
}

// Names of the pods of `ns` that discovery found and relabeling dropped.
std::set<std::string> dropped_pods_in(const std::string& ns) {
  std::set<std::string> out;
  for (const auto& t : prom_targets("dropped")) {
    const Json& d = t["discoveredLabels"];
    if (d.value("__meta_kubernetes_namespace", "") == ns) {
      out.insert(d.value("__meta_kubernetes_pod_name", ""));
    }
  }
  return out;
}

std::string unique_name(const std::string& base) {
  std::random_device rd;
  return base + "-" + std::to_string(rd() % 1000000);
}

// Prometheus's release for a module tag v0.3MM.P: 3.MM.P.
std::string prometheus_release(const std::string& tag) {
  const auto dot = tag.find('.', 3);
  const int minor = std::stoi(tag.substr(3, dot - 3));
  return std::to_string(minor / 100) + "." + std::to_string(minor % 100) + tag.substr(dot);
}

TEST(PrometheusE2E, RunsThePinnedVersionAndScrapesItself) {
  const std::string version = prometheus_release(CD4ML_PROMETHEUS_VERSION);
  const auto info =
      wait_for_series("prometheus_build_info{job=\"prometheus\",version=\"" + version + "\"}", 30s);
  ASSERT_EQ(info.size(), 1u);
  EXPECT_EQ(info[0].label("revision"), CD4ML_PROMETHEUS_VERSION);
  EXPECT_EQ(info[0].label("instance"), "127.0.0.1:" + cluster_env("PROMETHEUS_PORT"));
  const auto up = prom_query("up{job=\"prometheus\"}");
  ASSERT_EQ(up.size(), 1u);
  EXPECT_EQ(up[0].value, 1);
}

// Only Running pods annotated prometheus.io/scrape: "true" become targets,
// at their IP and the annotated port and path, with the pod's namespace,
// name and cd4ml.io labels; kwok's fake pods are never sent a packet.
TEST(PrometheusE2E, DiscoversAnnotatedRunningPodsAndDropsTheRest) {
  TestNamespace ns;
  const Json labels = {{"cd4ml.io/release", "churn"},
                       {"cd4ml.io/revision", "5d8f7c9b6"},
                       {"cd4ml.io/model-version", "v3"},
                       {"app", "server"}};
  const Json scrape = {{"prometheus.io/scrape", "true"},
                       {"prometheus.io/port", "9100"},
                       {"prometheus.io/path", "/stats"}};
  apply_json(kwok_pod(ns.name(), "scraped", labels, scrape));
  apply_json(kwok_pod(ns.name(), "unannotated", labels, Json::object()));
  apply_json(kwok_pod(ns.name(), "opted-out", labels, {{"prometheus.io/scrape", "false"}}));
  // A finished pod keeps its IP but serves nothing: a Job's pod, which kwok
  // completes at once. (Pods without an IP, e.g. Pending ones, are not
  // discovered at all: the pod role skips them.)
  Json finished = kwok_pod(ns.name(), "finished", labels, scrape);
  finished["spec"]["restartPolicy"] = "Never";
  apply_json({{"apiVersion", "batch/v1"},
              {"kind", "Job"},
              {"metadata", {{"name", "finished"}, {"namespace", ns.name()}}},
              {"spec",
               {{"backoffLimit", 0},
                {"template",
                 {{"metadata", {{"labels", labels}, {"annotations", scrape}}},
                  {"spec", finished["spec"]}}}}}});

  std::string ip;
  ASSERT_TRUE(wait_until("pod scraped to have an IP", 60s, [&] {
    const auto pod = get_json("pod", ns.name(), "scraped");
    ip = pod ? pod->value("/status/podIP"_json_pointer, "") : "";
    return !ip.empty();
  }));
  std::string finished_pod;
  ASSERT_TRUE(wait_until("the Job's pod to succeed with an IP", 60s, [&] {
    for (const auto& p : list_json("pods", ns.name(), "job-name=finished")) {
      if (p.value("/status/phase"_json_pointer, "") == "Succeeded" &&
          !p.value("/status/podIP"_json_pointer, "").empty()) {
        finished_pod = p["metadata"]["name"];
      }
    }
    return !finished_pod.empty();
  }));

  // Discovery has seen every pod in its final state once the others are
  // among the dropped targets (so their absence is relabeling's doing; the
  // Job's pod was briefly Running and a target before it finished).
  const std::set<std::string> want_dropped = {"unannotated", "opted-out", finished_pod};
  std::set<std::string> dropped;
  std::vector<Json> active;
  ASSERT_TRUE(wait_until(
      "pod scraped among the targets, the others among the dropped ones", 30s,
      [&] {
        dropped = dropped_pods_in(ns.name());
        active = active_targets_in(ns.name());
        return !active.empty() && std::includes(dropped.begin(), dropped.end(),
                                                want_dropped.begin(), want_dropped.end());
      },
      [&] { return "dropped " + Json(dropped).dump() + ", active " + Json(active).dump(); }));
  // Two declared container ports, one annotated port: one target.
  ASSERT_EQ(active.size(), 1u) << Json(active).dump();
  const Json want_labels = {{"instance", ip + ":9100"}, {"job", "kubernetes-pods"},
                            {"namespace", ns.name()},   {"pod", "scraped"},
                            {"pod_release", "churn"},   {"pod_revision", "5d8f7c9b6"},
                            {"pod_model_version", "v3"}};
  EXPECT_EQ(active[0]["labels"], want_labels);
  EXPECT_EQ(active[0].value("scrapeUrl", ""), "kwok-fake-pod://" + ip + ":9100/stats");
  EXPECT_EQ(active[0].value("scrapePool", ""), "kubernetes-pods");

  // Scraped (5 s interval) and failed before connecting: the fake scheme.
  Json target;
  EXPECT_TRUE(wait_until(
      "the fake pod's first scrape", 20s,
      [&] {
        const auto now = active_targets_in(ns.name());
        target = now.empty() ? Json() : now[0];
        return !now.empty() && now[0].value("health", "") == "down";
      },
      [&] { return target.dump(); }));
  EXPECT_NE(target.value("lastError", "").find("unsupported protocol scheme"), std::string::npos)
      << target.dump();

  // A deleted pod's target goes away.
  kubectl_ok({"delete", "pod", "scraped", "-n", ns.name(), "--wait=false"});
  EXPECT_TRUE(wait_until("the target of the deleted pod to go", 60s,
                         [&] { return active_targets_in(ns.name()).empty(); }));
}

// A server on this machine, listed in file_sd/, is scraped for real: its
// counter of answered requests arrives with the server's own labels, and
// neither probes nor scrapes are counted.
TEST(PrometheusE2E, ScrapesAHostTargetListedInFileSd) {
  const std::string name = unique_name("e2e-host");
  HostEchoServer server("host-release", "rev-" + name, "v7");
  ASSERT_GT(server.port(), 0);
  HostTarget target(name, server.port(), {{"test_target", name}});
  for (int i = 0; i < 7; ++i) ASSERT_TRUE(server.get("/predict"));
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(server.get("/ready"));
  ASSERT_TRUE(server.get("/live"));

  const std::string series = "echo_requests_total{job=\"host\",test_target=\"" + name + "\"}";
  const auto seen = wait_for_series(series + " == 7", 30s);
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].label("release"), "host-release");
  EXPECT_EQ(seen[0].label("revision"), "rev-" + name);
  EXPECT_EQ(seen[0].label("model_version"), "v7");
  EXPECT_EQ(seen[0].label("instance"), "127.0.0.1:" + std::to_string(server.port()));
  // Two more scrapes later, still 7: scrapes do not count themselves.
  wait_for_series("count_over_time(" + series + "[1m]) >= 3", 30s);
  const auto later = prom_query(series);
  ASSERT_EQ(later.size(), 1u);
  EXPECT_EQ(later[0].value, 7);
}

}  // namespace
}  // namespace cd4ml::e2e
