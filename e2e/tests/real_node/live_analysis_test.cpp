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

// Scoped to the test's namespace: revisions are hashes of the spec, so
// another test's release of the same spec has the same ones.
const char* const kRate =
    R"(sum(rate(echo_requests_total{namespace="{{namespace}}",revision="{{revision}}"}[20s])))";
const char* const kSamples =
    R"(sum(increase(echo_requests_total{namespace="{{namespace}}",revision="{{revision}}"}[20s])))";
// rate over 20s is the increase over 20s / 20: with `min: 5`, fewer than 100
// requests in the window would read as too low a rate while traffic is only
// starting to reach a revision, so fewer are Inconclusive.
constexpr int kEnoughSamples = 5 * 20;

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

  // v1 Healthy; returns its revision. No traffic yet.
  std::string deploy_v1(int replicas, const Json& strategy, const Json& analysis) {
    watch("echo", replicas);
    apply_json(echo_release("v1", replicas, strategy, analysis));
    const Json first = wait_for_phase("echo", "Healthy", 120s);
    EXPECT_FALSE(first["status"].contains("analysis")) << "a first release is not analysed";
    return first["status"]["activeRevision"];
  }

  // v1 Healthy and probed through the active Service; returns its revision.
  std::string serve_v1(int replicas, const Json& strategy, const Json& analysis) {
    std::string v1 = deploy_v1(replicas, strategy, analysis);
    prober_ = probe_service(ns_.name(), "echo");
    return v1;
  }

  // Asks for v2 and waits until the release is held by its analysis.
  Json held_by_analysis(const std::string& phase) {
    patch_release("echo", {{"spec", {{"model", model("v2")}}}});
    return wait_until_release(
        "echo", "held with analysis phase " + phase,
        [&](const Json& mr) {
          return mr.value("/status/phase"_json_pointer, "") == "AwaitingPromotion" &&
                 mr.value("/status/analysis/phase"_json_pointer, "") == phase;
        },
        180s);
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
  const Json served = {{"name", "served"},
                       {"query", kRate},
                       {"min", 5},
                       {"count", 2},
                       {"inconclusiveLimit", 10},
                       {"minSamples", {{"query", kSamples}, {"count", kEnoughSamples}}}};
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

// No request at all reaches v2: its counter reads 0, which `min` alone would
// judge Failed. minSamples makes it Inconclusive, the release pauses with the
// canary where it is, and the first requests lift the pause.
TEST_F(LiveAnalysis, NoTrafficIsInconclusiveAndPausesUntilRequestsCome) {
  const Json served = {{"name", "served"},
                       {"query", kRate},
                       {"min", 5},
                       {"count", 2},
                       {"inconclusiveLimit", 2},
                       {"minSamples", {{"query", kSamples}, {"count", kEnoughSamples}}}};
  const std::string v1 =
      deploy_v1(1, canary(Json::parse(R"([{"setWeight": 50}, {"analysis": {}}, {"pause": {}}])")),
                analysis_of(served));
  const Json held = held_by_analysis("Inconclusive");
  EXPECT_EQ(held["status"]["activeRevision"], v1);
  EXPECT_LE(held["status"]["canary"].value("step", -1), 1) << "held before the analysis step ended";
  const Json& metric = held["status"]["analysis"]["metrics"][0];
  EXPECT_EQ(metric.value("failed", -1), 0) << "no traffic is never a failure: " << metric.dump();
  EXPECT_GE(metric.value("inconclusive", 0), 3) << metric.dump();
  EXPECT_TRUE(has_release_event("echo", "AnalysisInconclusive"));

  prober_ = probe_service(ns_.name(), "echo");
  const Json passed = wait_until_release(
      "echo", "past the analysis step once requests come",
      [](const Json& mr) { return mr.value("/status/canary/step"_json_pointer, -1) == 2; }, 180s);
  EXPECT_EQ(passed["status"]["analysis"]["metrics"][0].value("failed", -1), 0);
  EXPECT_TRUE(has_release_event("echo", "AnalysisResumed"));
  expect_no_failed_requests();
  expect_no_violations();
}

// Two queries Prometheus cannot answer as one value: a syntax error, and a
// selector matching each revision's series. Both are Errors with the reason
// in the measurement, and the release pauses: nothing is aborted for them.
TEST_F(LiveAnalysis, AnInvalidQueryOrSeveralSeriesIsAnErrorThatPauses) {
  const Json broken = {{"name", "broken"},
                       {"query", R"(sum(rate(echo_requests_total{revision="{{revision}}"}[20s]))"},
                       {"min", 0},
                       {"consecutiveErrorLimit", 1}};
  const Json several = {{"name", "several"},
                        {"query", R"(echo_requests_total{namespace="{{namespace}}"})"},
                        {"min", 0},
                        {"consecutiveErrorLimit", 1}};
  Json analysis = analysis_of(broken);
  analysis["metrics"].push_back(several);
  // Two v1 pods, both scraped: two series before the canary's pod is.
  const std::string v1 = deploy_v1(
      2, canary(Json::parse(R"([{"setWeight": 50}, {"analysis": {}}, {"pause": {}}])")), analysis);
  wait_for_series("count(echo_requests_total{namespace=\"" + ns_.name() + "\"}) >= 2", 60s);
  const Json held = held_by_analysis("Error");
  EXPECT_EQ(held["status"]["activeRevision"], v1);
  EXPECT_LE(held["status"]["canary"].value("step", -1), 1);
  const auto last_message = [&](std::size_t i) {
    const Json& ms = held["status"]["analysis"]["metrics"][i]["measurements"];
    return ms.empty() ? std::string() : ms.back().value("message", "");
  };
  // Prometheus's own words for the syntax error.
  EXPECT_NE(last_message(0).find("parse error"), std::string::npos) << held.dump();
  EXPECT_NE(last_message(1).find("series"), std::string::npos) << held.dump();
  for (const auto& metric : held["status"]["analysis"]["metrics"]) {
    EXPECT_EQ(metric.value("failed", -1), 0) << metric.dump();
    EXPECT_EQ(metric.value("successful", -1), 0) << metric.dump();
  }
  EXPECT_TRUE(has_release_event("echo", "AnalysisError"));
  for (const auto& r : held["status"]["revisions"]) {
    EXPECT_NE(r.value("state", ""), "Aborted")
        << "nothing is aborted for a bad query: " << r.dump();
  }
  expect_no_violations();
}

// Blue/green with autoPromotion: test traffic on the preview Service feeds
// its analysis, and the switch comes only after the count-th Successful
// measurement.
TEST_F(LiveAnalysis, ABlueGreenPreviewIsPromotedOnlyAfterItsAnalysisPasses) {
  // The preview's counter reads 0 until the preview Service reaches it:
  // minSamples keeps that Inconclusive instead of Failed.
  const Json served = {{"name", "served"},
                       {"query", kRate},
                       {"min", 5},
                       {"count", 3},
                       {"inconclusiveLimit", 20},
                       {"minSamples", {{"query", kSamples}, {"count", kEnoughSamples}}}};
  const Json blue_green = {{"blueGreen", {{"autoPromotion", true}, {"scaleDownDelaySeconds", 3}}}};
  const std::string v1 = serve_v1(1, blue_green, analysis_of(served));
  auto preview_prober = probe_service(ns_.name(), "echo-preview");
  patch_release("echo", {{"spec", {{"model", model("v2")}}}});
  const Json promoted = wait_until_release(
      "echo", "v2 promoted",
      [&](const Json& mr) {
        const std::string active = mr.value("/status/activeRevision"_json_pointer, "");
        return !active.empty() && active != v1;
      },
      240s);
  const std::string v2 = promoted["status"]["activeRevision"];
  wait_until("the watcher to see the active Service on " + v2, 10s, [&] {
    const auto history = watcher_->active_history();
    return !history.empty() && history.back() == v2;
  });
  const auto switched_at = watcher_->active_seen_at().back();
  const Json& run = promoted["status"]["analysis"];
  EXPECT_EQ(run.value("revision", ""), v2) << promoted["status"].dump();
  EXPECT_EQ(run.value("phase", ""), "Successful") << run.dump();
  std::vector<system_clock::time_point> successes;
  for (const auto& m : run["metrics"][0]["measurements"]) {
    if (m["result"] == "Successful") {
      EXPECT_GE(m.value("value", 0.0), 5) << m.dump();
      successes.push_back(api::parse_rfc3339(m.value("at", "")).value_or(system_clock::now()));
    }
  }
  ASSERT_GE(successes.size(), 3u) << run.dump();
  EXPECT_LE(successes[2], switched_at) << "the switch came before the third Successful measurement";
  EXPECT_TRUE(has_release_event("echo", "AnalysisPassed"));
  preview_prober->stop();
  std::cout << "[figures] preview: " << summarize(preview_prober->samples()).describe() << "\n";
  expect_no_failed_requests();
  expect_no_violations();
}

}  // namespace
}  // namespace cd4ml::e2e
