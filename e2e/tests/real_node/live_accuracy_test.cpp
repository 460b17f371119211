// The issue's own scenario with the reference model, all real: customers
// changed (live traffic is drawn from data set v2), the served model was
// trained on v2, and a candidate trained on the old data set v1 passes its
// offline gate. The traffic generator sends each prediction's true outcome
// back a second later; the churn servers count right and wrong predictions by
// the revision that made them; Prometheus scrapes them; and the canary's
// analysis compares the candidate's live accuracy with the served model's at
// the same instant. It must stop the candidate, with 0 failed requests.

#include <gtest/gtest.h>

#include <fstream>
#include <iostream>

#include "process.hpp"
#include "prometheus.hpp"
#include "real_model_fixture.hpp"

namespace cd4ml::e2e {
namespace {

// Accuracy from feedback over the last minute, by the revision that predicted.
const char* const kLiveAccuracy =
    R"(sum(rate(cd4ml_model_outcomes_total{namespace="{{namespace}}",release="{{release}}",revision="{{revision}}",correct="true"}[1m])))"
    R"( / sum(rate(cd4ml_model_outcomes_total{namespace="{{namespace}}",release="{{release}}",revision="{{revision}}"}[1m])))";
const char* const kFeedbackCount =
    R"(sum(increase(cd4ml_model_outcomes_total{namespace="{{namespace}}",release="{{release}}",revision="{{revision}}"}[1m])))";

class LiveAccuracy : public RealModelFixture {
 protected:
  // python3 -m churn.traffic from the repository, against the active
  // Service: 20 requests/s from data v2, feedback 1 s after each answer.
  std::unique_ptr<Process> start_traffic(const std::string& ip) {
    summary_ = kubeconfig_path().parent_path() / ("traffic-" + ns_.name() + ".json");
    return std::make_unique<Process>(
        std::vector<std::string>{
            "env", "PYTHONPATH=" + (source_dir() / "examples" / "churn").string(), "python3", "-m",
            "churn.traffic", "--url", "http://" + ip, "--data", "v2", "--rate", "20",
            "--feedback-delay", "1", "--no-keep-alive", "--report-every", "0", "--summary",
            summary_.string()},
        kubeconfig_path().parent_path() / ("traffic-" + ns_.name() + ".log"));
  }

  Json traffic_summary() const {
    std::ifstream in(summary_);
    Json out = Json::parse(in, nullptr, false);
    return out.is_discarded() ? Json::object() : out;
  }

  fs::path summary_;
};

TEST_F(LiveAccuracy, AModelTrainedOnOldDataIsStoppedByItsLiveAccuracy) {
  apply_json(churn_run("churn-current", {{"seed", "7"}}, kDataV2));
  apply_json(churn_run("churn-stale", {{"seed", "7"}}, kDataV1));
  const Json current = wait_for_end("churn-current");
  const Json stale = wait_for_end("churn-stale");
  ASSERT_EQ(current.value("/status/phase"_json_pointer, ""), "Succeeded") << current.dump(2);
  ASSERT_EQ(stale.value("/status/phase"_json_pointer, ""), "Succeeded") << stale.dump(2);

  Json mr = churn_release("churn-current");
  mr["spec"]["strategy"] = {
      {"canary",
       {{"steps", Json::parse(R"([{"setWeight": 50}, {"analysis": {}}, {"pause": {}}])")},
        {"scaleDownDelaySeconds", 3}}}};
  const Json live_accuracy = {{"name", "live-accuracy"},
                              {"query", std::string(kLiveAccuracy)},
                              {"compareToActive", "NoWorse"},
                              {"tolerance", 0.05},
                              {"minSamples", {{"query", kFeedbackCount}, {"count", 150}}},
                              // Enough Successful ones to pass that one lucky minute cannot.
                              {"count", 5},
                              {"inconclusiveLimit", 30}};
  mr["spec"]["analysis"] = {{"prometheus", {{"address", prometheus_url()}}},
                            {"interval", "5s"},
                            {"metrics", Json::array({live_accuracy})}};
  watch("churn", 1);
  apply_json(mr);
  const Json first = wait_for_phase("churn", "Healthy", 180s);
  const std::string served = first["status"]["activeRevision"];
  const std::string ip = cluster_ip(ns_.name(), "churn");
  wait_for_proxy_rules(ip);
  auto traffic = start_traffic(ip);

  // Offline the stale model looks fine: it passes the release's auc gate.
  EXPECT_GT(stale.value("/status/metrics/auc"_json_pointer, 0.0), 0.7) << stale["status"].dump();
  patch_release("churn", {{"spec", {{"model", {{"trainingRunRef", {{"name", "churn-stale"}}}}}}}});
  const Json aborted = wait_until_release(
      "churn", "the stale candidate aborted by its live accuracy",
      [](const Json& r) {
        return r.value("/status/phase"_json_pointer, "") == "Degraded" &&
               r.value("/status/canary/weight"_json_pointer, -1.0) == 0.0;
      },
      300s);
  ASSERT_EQ(aborted.value("/status/phase"_json_pointer, ""), "Degraded");
  EXPECT_EQ(aborted["status"]["activeRevision"], served);
  const Json& analysis = aborted["status"]["analysis"];
  EXPECT_EQ(analysis.value("phase", ""), "Failed") << analysis.dump();
  EXPECT_NE(aborted["status"].value("message", "").find("live-accuracy"), std::string::npos)
      << aborted["status"].value("message", "");
  Json failed;
  for (const auto& m : analysis["metrics"][0]["measurements"]) {
    if (m["result"] == "Failed") failed = m;
  }
  ASSERT_FALSE(failed.is_null()) << analysis.dump();
  const double candidate = failed.value("value", 1.0);
  const double active = failed.value("activeValue", 0.0);
  EXPECT_LT(candidate + 0.05, active) << failed.dump();
  EXPECT_GE(failed.value("samples", 0.0), 150) << failed.dump();
  EXPECT_TRUE(has_release_event("churn", "AnalysisFailed"));

  ASSERT_TRUE(traffic->stop().has_value()) << traffic->log();
  const Json summary = traffic_summary();
  ASSERT_TRUE(summary.contains("requests")) << traffic->log();
  int failures = 0;
  for (const auto& [reason, n] : summary["failures"].items()) failures += n.get<int>();
  EXPECT_EQ(failures, 0) << summary.dump();
  EXPECT_GT(summary.value("requests", 0), 0) << summary.dump();
  std::cout << "[figures] live accuracy at the failed measurement: candidate " << candidate
            << " vs served " << active << " (" << failed.value("samples", 0.0)
            << " feedback samples); traffic: " << summary.value("requests", 0) << " requests, "
            << failures
            << " failed; by revision (generator's view): " << summary["outcomes_by_revision"].dump()
            << "\n";
  expect_no_violations();
}

}  // namespace
}  // namespace cd4ml::e2e
