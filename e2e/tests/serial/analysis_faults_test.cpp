// Live analysis through faults of the local cluster's real Prometheus and of
// the operator: Prometheus stopped mid-analysis (measurements become Error,
// the release pauses, nothing is promoted or aborted; when it is back the
// analysis resumes and completes), and the operator killed mid-analysis (it
// resumes from status without counting a measurement twice). Serial:
// stopping Prometheus would disturb tests that read it. The candidate is a
// kwok revision judged on a query that needs only Prometheus itself.

#include <gtest/gtest.h>

#include "kube_session.hpp"
#include "modelrelease_fixture.hpp"
#include "operator/api/conditions.hpp"
#include "prometheus.hpp"
#include "samples.hpp"

namespace cd4ml::e2e {
namespace {

// Starts Prometheus again however the test ends.
struct PrometheusStopped {
  PrometheusStopped() { cluster_ctl({"stop", "prometheus"}); }
  ~PrometheusStopped() { restore(); }
  PrometheusStopped(const PrometheusStopped&) = delete;
  PrometheusStopped& operator=(const PrometheusStopped&) = delete;
  void restore() {
    if (stopped_) cluster_ctl({"start", "prometheus"});
    stopped_ = false;
  }
  bool stopped_ = true;
};

class AnalysisFaults : public ReleaseFixture {
 protected:
  static Json model(const std::string& version) {
    return {{"uri", "s3://models/churn/" + version}, {"version", version}};
  }

  Json analysed_release(int count) const {
    Json mr = sample_release(ns_.name(), "churn", model("v1"), 1);
    // One query that Prometheus answers whatever is scraped.
    const Json metric = {{"name", "prometheus-up"},
                         {"query", R"(sum(up{job="prometheus"}))"},
                         {"min", 1},
                         {"count", count},
                         {"consecutiveErrorLimit", 1}};
    mr["spec"]["analysis"] = {{"prometheus", {{"address", prometheus_url()}}},
                              {"interval", "2s"},
                              {"metrics", Json::array({metric})}};
    return mr;
  }

  static Json metric_record(const Json& mr) {
    return mr.value("/status/analysis/metrics/0"_json_pointer, Json::object());
  }
};

TEST_F(AnalysisFaults, PrometheusStoppedPausesTheReleaseAndItResumesWhenBack) {
  watch("churn", 1);
  apply_json(analysed_release(12));
  const std::string v1 = wait_for_phase("churn", "Healthy")["status"]["activeRevision"];
  patch_release("churn", {{"spec", {{"model", model("v2")}}}});
  wait_until_release("churn", "a Successful measurement",
                     [](const Json& mr) { return metric_record(mr).value("successful", 0) >= 1; });

  {
    PrometheusStopped stopped;
    const Json paused = wait_until_release(
        "churn", "paused by AnalysisError",
        [](const Json& mr) {
          return mr.value("/status/phase"_json_pointer, "") == "AwaitingPromotion" &&
                 mr.value("/status/analysis/phase"_json_pointer, "") == "Error";
        },
        60s);
    EXPECT_EQ(paused["status"]["activeRevision"], v1);
    const std::string message = paused["status"].value("message", "");
    EXPECT_NE(message.find("unreachable"), std::string::npos) << message;
    EXPECT_TRUE(has_release_event("churn", "AnalysisError"));
    // Still paused after several more intervals: never promoted, never aborted.
    const int errors = metric_record(paused).value("error", 0);
    wait_until_release("churn", "more Error measurements", [&](const Json& mr) {
      return metric_record(mr).value("error", 0) >= errors + 3;
    });
    const Json still = get_json("modelrelease", ns_.name(), "churn").value();
    EXPECT_EQ(still["status"]["activeRevision"], v1);
    EXPECT_EQ(still["status"].value("phase", ""), "AwaitingPromotion");
    EXPECT_EQ(still["status"]["analysis"].value("phase", ""), "Error");
    for (const auto& r : still["status"]["revisions"]) {
      EXPECT_NE(r.value("state", ""), "Aborted") << r.dump();
    }
    stopped.restore();
  }

  wait_until_release("churn", "resumed", [](const Json& mr) {
    return mr.value("/status/analysis/phase"_json_pointer, "") == "Running";
  });
  EXPECT_TRUE(has_release_event("churn", "AnalysisResumed"));

  // The operator killed mid-analysis: the new one resumes from status.
  op_->kill9();
  op_->start();
  ASSERT_TRUE(op_->wait_ready());
  const Json done = wait_until_release(
      "churn", "v2 promoted after its analysis",
      [](const Json& mr) {
        return mr.value("/status/phase"_json_pointer, "") == "Healthy" &&
               mr.value("/status/analysis/phase"_json_pointer, "") == "Successful";
      },
      120s);
  EXPECT_NE(done["status"]["activeRevision"], v1);
  const Json record = metric_record(done);
  EXPECT_EQ(record.value("stepSuccessful", 0), 12) << record.dump();
  // No measurement taken twice: each at least an interval after the last.
  std::optional<std::chrono::system_clock::time_point> last;
  for (const auto& m : record["measurements"]) {
    const auto at = api::parse_rfc3339(m.value("at", ""));
    ASSERT_TRUE(at) << m.dump();
    if (last) {
      EXPECT_GE(*at - *last, std::chrono::seconds(2)) << record.dump();
    }
    last = at;
  }
  expect_no_violations();
}

}  // namespace
}  // namespace cd4ml::e2e
