// The local cluster's Prometheus scraping real serving pods: echo-server pods
// of a ModelRelease on the real node, annotated for scraping, found through
// Kubernetes service discovery and scraped at their pod IPs. What the server
// counted (echo_requests_total) is compared with what the traffic prober saw
// answered, per revision, across a blue/green switch.

#include <gtest/gtest.h>

#include "modelrelease_fixture.hpp"
#include "prometheus.hpp"
#include "real_node.hpp"
#include "samples.hpp"
#include "traffic_prober.hpp"

namespace cd4ml::e2e {
namespace {

using std::chrono::system_clock;
constexpr int kReplicas = 2;
// Scrape interval of the local Prometheus (prometheus-lib.sh), and what a
// scrape may add to it (its duration, start jitter, the query's own delay).
constexpr auto kScrapeInterval = 5s;
constexpr auto kScrapeSlack = 2s;

class PrometheusScrape : public EchoReleaseFixture {
 protected:
  // The echo server at `version`, scraped on its serving port. Old pods are
  // kept 15 s after a switch: scraped at least twice after their last request.
  Json echo_release(const std::string& version) const {
    Json mr = sample_release(ns_.name(), "echo",
                             {{"uri", "file:///models/echo/" + version}, {"version", version}},
                             kReplicas);
    mr["spec"]["template"] = echo_pod_template();
    annotate_for_scraping(mr["spec"]["template"], 8080);
    mr["spec"]["strategy"] = {{"blueGreen", {{"scaleDownDelaySeconds", 15}}}};
    return mr;
  }

  std::string wait_active(const std::string& version) {
    const Json mr = wait_until_release(
        "echo", "model " + version + " active and Healthy",
        [&](const Json& r) {
          return r.value("/status/activeModelVersion"_json_pointer, "") == version &&
                 r.value("/status/phase"_json_pointer, "") == "Healthy";
        },
        120s);
    return mr.value("/status/activeRevision"_json_pointer, "");
  }

  // Waits until `revision` has answered `n` of the prober's requests.
  static void wait_for_answers(const TrafficProber& prober, const std::string& revision,
                               std::size_t n) {
    wait_until(std::to_string(n) + " answers from " + revision, 60s, [&] {
      for (const auto& [r, count] : answers_by_revision(prober.samples())) {
        if (r == revision) return count >= n;
      }
      return false;
    });
  }

  // Every echo_requests_total series of the namespace over the last minutes
  // (max_over_time: pods scaled down keep their last count).
  std::vector<PromSample> server_counts() const {
    return prom_query("max_over_time(echo_requests_total{namespace=\"" + ns_.name() + "\"}[10m])");
  }
};

TEST_F(PrometheusScrape, ServerCountsPerRevisionMatchTheProber) {
  apply_json(echo_release("v1"));
  const std::string first = wait_active("v1");
  // Both pods are scraped for real (health up) before traffic starts.
  wait_for_series("count(up{job=\"kubernetes-pods\",namespace=\"" + ns_.name() +
                      "\",pod_revision=\"" + first + "\"} == 1) == " + std::to_string(kReplicas),
                  30s);

  const std::string ip = cluster_ip(ns_.name(), "echo");
  ASSERT_FALSE(ip.empty());
  wait_for_proxy_rules(ip);
  TrafficProber prober({ip, 80, "/", 50});
  ASSERT_TRUE(prober.wait_for_success(10s));
  wait_for_answers(prober, first, 400);

  // While traffic flows, Prometheus is at most one scrape behind: it holds
  // every answer to a request sent a scrape interval (and slack) ago.
  const auto asked = system_clock::now();
  double total = 0;
  for (const auto& s : prom_query("echo_requests_total{namespace=\"" + ns_.name() + "\"}")) {
    total += s.value;
  }
  std::size_t answered_before = 0;
  for (const auto& s :
       prober.samples_between(system_clock::time_point{}, asked - kScrapeInterval - kScrapeSlack)) {
    answered_before += s.ok();
  }
  // Whatever a server had counted when asked has been answered by now.
  prober.wait_for_answer_after(system_clock::now(), 5s);
  const std::size_t finished = prober.samples().size();
  EXPECT_GE(total, static_cast<double>(answered_before));
  EXPECT_LE(total, static_cast<double>(finished)) << "the servers counted more than was sent";

  patch_release("echo",
                {{"spec", {{"model", {{"uri", "file:///models/echo/v2"}, {"version", "v2"}}}}}});
  const std::string second = wait_active("v2");
  ASSERT_NE(second, first);
  wait_for_answers(prober, second, 200);
  prober.stop();

  const auto samples = prober.samples();
  const ProbeSummary summary = summarize(samples);
  std::map<std::string, double> want;
  for (const auto& [revision, count] : answers_by_revision(samples)) want[revision] = count;
  ASSERT_GT(want[first], 0);
  ASSERT_GT(want[second], 0);
  // A request the prober gave up on may still have been answered and counted.
  const double tolerance = static_cast<double>(summary.failures);

  std::map<std::string, double> have;
  const bool matched = wait_until(
      "Prometheus's counts per revision to match the prober's", kScrapeInterval * 3,
      [&] {
        have.clear();
        for (const auto& s : server_counts()) have[s.label("revision")] += s.value;
        for (const auto& [revision, n] : want) {
          if (have[revision] < n || have[revision] > n + tolerance) return false;
        }
        return have.size() == want.size();
      },
      [&] { return "server " + Json(have).dump() + ", prober " + Json(want).dump(); });
  std::cout << "[figures] prober " << summary.describe() << "; server counts " << Json(have).dump()
            << "\n";
  EXPECT_TRUE(matched);

  // The servers' own labels survive scraping (honor_labels), beside the pod's.
  for (const auto& s : server_counts()) {
    EXPECT_EQ(s.label("revision"), s.label("pod_revision")) << Json(s.labels).dump();
    EXPECT_EQ(s.label("release"), "echo");
    EXPECT_EQ(s.label("pod_release"), "echo");
    EXPECT_EQ(s.label("model_version"), s.label("pod_model_version"));
    EXPECT_EQ(s.label("job"), "kubernetes-pods");
    EXPECT_FALSE(s.label("pod").empty());
  }
}

}  // namespace
}  // namespace cd4ml::e2e
