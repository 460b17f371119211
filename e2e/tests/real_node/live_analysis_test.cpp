// Live analysis against the local cluster's real Prometheus: echo-server
// pods on the real node export echo_requests_total by revision, Prometheus
// scrapes them, a prober sends 50 requests/s through the active Service, and
// the operator judges the canary on what Prometheus answers. Nothing is
// scripted: the values in status are what the queries returned.
//
// The metric is each revision's request rate, which the canary's weight
// decides: at 50 % the canary serves about as much as the stable revision
// (above a minimum: it passes), at 25 % about a third of it (worse than the
// active revision: it fails). The reference model's accuracy judged live is
// the same mechanism with another query.

#include <gtest/gtest.h>

#include "modelrelease_fixture.hpp"
#include "operator/api/conditions.hpp"
#include "prometheus.hpp"
#include "real_node.hpp"
#include "samples.hpp"
#include "traffic_prober.hpp"

namespace cd4ml::e2e {
namespace {

using std::chrono::system_clock;

const char* const kRate = R"(sum(rate(echo_requests_total{revision="{{revision}}"}[20s])))";

class LiveAnalysis : public EchoReleaseFixture {
 protected:
  static Json model(const std::string& version) {
    return {{"uri", "file:///models/echo/" + version}, {"version", version}};
  }

  static Json canary(const Json& steps) {
    return {{"canary", {{"steps", steps}, {"scaleDownDelaySeconds", 3}}}};
  }

  Json echo_release(const std::string& version, int replicas, const Json& strategy,
                    const Json& analysis) const {
    Json mr = sample_release(ns_.name(), "echo", model(version), replicas);
    mr["spec"]["template"] = echo_pod_template();
    annotate_for_scraping(mr["spec"]["template"], 8080);
    mr["spec"]["strategy"] = strategy;
    mr["spec"]["analysis"] = analysis;
    return mr;
  }

  Json analysis_of(const Json& metric) const {
    return {{"prometheus", {{"address", prometheus_url()}}},
            {"interval", "5s"},
            {"metrics", Json::array({metric})}};
  }

  // v1 Healthy and probed; returns its revision.
  std::string serve_v1(int replicas, const Json& strategy, const Json& analysis) {
    watch("echo", replicas);
    apply_json(echo_release("v1", replicas, strategy, analysis));
    const Json first = wait_for_phase("echo", "Healthy", 120s);
    EXPECT_FALSE(first["status"].contains("analysis")) << "a first release is not analysed";
    prober_ = probe_service(ns_.name(), "echo");
    return first["status"]["activeRevision"];
  }

  void expect_no_failed_requests() {
    prober_->stop();
    const ProbeSummary summary = summarize(prober_->samples());
    std::cout << "[figures] " << summary.describe() << "\n";
    EXPECT_EQ(summary.failures, 0u) << summary.describe();
  }

  std::unique_ptr<TrafficProber> prober_;
};

TEST_F(LiveAnalysis, ACanaryThatMeetsItsMetricPassesTheAnalysisStep) {
  const Json served = {
      {"name", "served"}, {"query", kRate}, {"min", 5}, {"count", 2}, {"inconclusiveLimit", 10}};
  serve_v1(1, canary(Json::parse(R"([{"setWeight": 50}, {"analysis": {}}, {"pause": {}}])")),
           analysis_of(served));
  patch_release("echo", {{"spec", {{"model", model("v2")}}}});
  const Json paused = wait_until_release(
      "echo", "past the analysis step, paused at step 3",
      [](const Json& mr) {
        return mr.value("/status/canary/step"_json_pointer, -1) == 2 &&
               mr.value("/status/phase"_json_pointer, "") == "AwaitingPromotion";
      },
      180s);
  const Json& analysis = paused["status"]["analysis"];
  EXPECT_EQ(analysis.value("revision", ""), paused["status"]["canary"].value("revision", ""));
  const Json& metric = analysis["metrics"][0];
  EXPECT_GE(metric.value("successful", 0), 2) << analysis.dump();
  EXPECT_EQ(metric.value("failed", -1), 0) << analysis.dump();
  for (const auto& m : metric["measurements"]) {
    if (m["result"] == "Successful") {
      EXPECT_GE(m.value("value", 0.0), 5) << "a Successful value within the rule";
    }
  }
  EXPECT_TRUE(has_release_event("echo", "AnalysisPassed"));
  expect_no_failed_requests();
  expect_no_violations();
}

TEST_F(LiveAnalysis, ACanaryWorseThanTheActiveRevisionIsAbortedWithTheValues) {
  const Json rate_no_worse = {{"name", "request-rate"},
                              {"query", kRate},
                              {"compareToActive", "NoWorse"},
                              {"tolerance", 1},
                              {"inconclusiveLimit", 10}};
  const std::string v1 = serve_v1(3, canary(Json::parse(R"([{"setWeight": 25}, {"pause": {}}])")),
                                  analysis_of(rate_no_worse));
  patch_release("echo", {{"spec", {{"model", model("v2")}}}});
  const Json aborted = wait_until_release(
      "echo", "aborted by the analysis",
      [](const Json& mr) {
        return mr.value("/status/phase"_json_pointer, "") == "Degraded" &&
               mr.value("/status/canary/weight"_json_pointer, -1.0) == 0.0;
      },
      180s);
  EXPECT_EQ(aborted["status"]["activeRevision"], v1);
  const Json& analysis = aborted["status"]["analysis"];
  EXPECT_EQ(analysis.value("phase", ""), "Failed") << analysis.dump();
  const std::string message = aborted["status"].value("message", "");
  EXPECT_NE(message.find("vs active"), std::string::npos) << message;
  // The failed measurement, with both values as Prometheus gave them.
  Json failed;
  for (const auto& m : analysis["metrics"][0]["measurements"]) {
    if (m["result"] == "Failed") failed = m;
  }
  ASSERT_FALSE(failed.is_null()) << analysis.dump();
  EXPECT_LT(failed.value("value", 1e9) + 1, failed.value("activeValue", 0.0)) << failed.dump();
  EXPECT_TRUE(has_release_event("echo", "AnalysisFailed"));

  // From the failed measurement (status keeps its second) to the active
  // Service narrowed back to v1, as the watcher saw it.
  wait_until("the watcher to see the Service narrowed to " + v1, 10s, [&] {
    const auto history = watcher_->active_history();
    return !history.empty() && history.back() == v1;
  });
  ASSERT_GE(watcher_->active_history().size(), 2u)
      << "the canary never had its share: it was judged before any traffic";
  const auto measured_at = api::parse_rfc3339(failed.value("at", "")).value_or(system_clock::now());
  const auto narrowed = watcher_->active_seen_at().back();
  std::cout << "[figures] failed measurement -> traffic back on the stable revision: "
            << std::chrono::duration_cast<std::chrono::milliseconds>(narrowed - measured_at).count()
            << " ms (measurement time has whole seconds)\n";
  expect_no_failed_requests();
  expect_no_violations();
}

// After a blue/green switch the new revision takes all 50 requests/s, more
// than its metric allows: the post-promotion analysis fails it and traffic
// goes straight back to v1, which kept running past its 3 s scale-down delay.
TEST_F(LiveAnalysis, ASwitchThatFailsAfterPromotionGoesBackToTheStillRunningRevision) {
  const Json at_most = {
      {"name", "request-rate"}, {"query", kRate}, {"max", 30}, {"inconclusiveLimit", 100}};
  Json analysis = analysis_of(at_most);
  analysis["postPromotion"] = {{"duration", "2m"}};
  const Json blue_green = {{"blueGreen", {{"scaleDownDelaySeconds", 3}}}};
  const std::string v1 = serve_v1(2, blue_green, analysis);
  const auto v1_generation = [&] {
    const auto d = get_json("deployment", ns_.name(), "echo-" + v1);
    return d ? d->value("/metadata/generation"_json_pointer, -1L) : -1L;
  };
  const long generation_before = v1_generation();

  patch_release("echo", {{"spec", {{"model", model("v2")}}}});
  const Json asked = wait_until_release("echo", "v2 as the target", [&](const Json& mr) {
    const std::string target = mr.value("/status/targetRevision"_json_pointer, "");
    return !target.empty() && target != v1;
  });
  const std::string v2 = asked["status"]["targetRevision"];
  // The preview has no traffic, so its own analysis has no evidence: a
  // person promotes it, and the window after the switch judges it.
  patch_release("echo", {{"metadata", {{"annotations", {{"cd4ml.io/promote", v2}}}}}});
  const Json back = wait_until_release(
      "echo", "rolled back after promotion",
      [&](const Json& mr) {
        return mr.value("/status/activeRevision"_json_pointer, "") == v1 &&
               mr.value("/status/phase"_json_pointer, "") == "Degraded";
      },
      240s);
  const Json& run = back["status"]["analysis"];
  EXPECT_EQ(run.value("stage", ""), "PostPromotion") << run.dump();
  EXPECT_EQ(run.value("revision", ""), v2);
  EXPECT_EQ(run.value("activeRevision", ""), v1);
  EXPECT_EQ(run.value("phase", ""), "Failed");
  EXPECT_EQ(back["status"].value("targetRevision", ""), v2) << "spec still asks for v2";
  const std::string message = back["status"].value("message", "");
  EXPECT_NE(message.find("post-promotion"), std::string::npos) << message;
  EXPECT_TRUE(has_release_event("echo", "RolledBack"));
  EXPECT_EQ(v1_generation(), generation_before) << "v1 was never scaled down and up again";

  Json failed;
  for (const auto& m : run["metrics"][0]["measurements"]) {
    if (m["result"] == "Failed") failed = m;
  }
  ASSERT_FALSE(failed.is_null()) << run.dump();
  EXPECT_GT(failed.value("value", 0.0), 30) << failed.dump();
  wait_until("the watcher to see the active Service back on " + v1, 10s, [&] {
    const auto history = watcher_->active_history();
    return history.size() >= 3 && history.back() == v1;
  });
  const auto history = watcher_->active_history();
  EXPECT_EQ(history[history.size() - 2], v2) << "it did serve before going back";
  const auto measured_at = api::parse_rfc3339(failed.value("at", "")).value_or(system_clock::now());
  std::cout << "[figures] failed post-promotion measurement -> traffic back on the previous "
               "revision: "
            << std::chrono::duration_cast<std::chrono::milliseconds>(
                   watcher_->active_seen_at().back() - measured_at)
                   .count()
            << " ms (measurement time has whole seconds)\n";
  expect_no_failed_requests();
  expect_no_violations();
}

}  // namespace
}  // namespace cd4ml::e2e
