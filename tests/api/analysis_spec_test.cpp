#include "operator/api/analysis_spec.hpp"

#include <gtest/gtest.h>

#include "operator/api/modelrelease.hpp"

namespace cd4ml::api {
namespace {

using std::chrono::seconds;

// A ModelRelease spec object with the given spec.analysis.
Json spec_with(const Json& analysis) {
  return {{"model", {{"uri", "s3://m"}, {"version", "v1"}}}, {"analysis", analysis}};
}

Json one_metric(const Json& metric) {
  return {{"metrics", Json::array({metric})}};
}

TEST(AnalysisSpec, AbsentOrWithoutMetricsIsNone) {
  EXPECT_FALSE(parse_analysis_spec(Json::object()).has_value());
  EXPECT_FALSE(parse_analysis_spec(spec_with(Json::object())).has_value());
  EXPECT_FALSE(parse_analysis_spec(spec_with({{"metrics", Json::array()}})).has_value());
  EXPECT_FALSE(parse_analysis_spec(spec_with(nullptr)).has_value());
  EXPECT_FALSE(parse_analysis_spec(Json("analysis")).has_value()) << "not even an object";
}

TEST(AnalysisSpec, DefaultsAreTheCrds) {
  const auto analysis =
      parse_analysis_spec(spec_with(one_metric({{"name", "errors"}, {"query", "q"}})));
  ASSERT_TRUE(analysis.has_value());
  EXPECT_EQ(analysis->address, "") << "the operator's --prometheus-address";
  EXPECT_EQ(analysis->interval, seconds(30));
  ASSERT_EQ(analysis->metrics.size(), 1u);
  const AnalysisMetric& m = analysis->metrics[0];
  EXPECT_EQ(m.name, "errors");
  EXPECT_EQ(m.query, "q");
  EXPECT_FALSE(m.min.has_value());
  EXPECT_FALSE(m.max.has_value());
  EXPECT_EQ(m.compare_to_active, "");
  EXPECT_TRUE(m.higher_is_better);
  EXPECT_EQ(m.tolerance, 0.0);
  EXPECT_FALSE(m.min_samples.has_value());
  EXPECT_EQ(m.failure_limit, 0);
  EXPECT_EQ(m.inconclusive_limit, 3);
  EXPECT_EQ(m.consecutive_error_limit, 4);
  EXPECT_FALSE(m.count.has_value()) << "until the step or window ends";
}

TEST(AnalysisSpec, EveryFieldIsRead) {
  const auto analysis = parse_analysis_spec(spec_with(Json::parse(R"({
      "prometheus": {"address": "http://prometheus.monitoring:9090"},
      "interval": "1m30s",
      "metrics": [
        {"name": "live-accuracy", "query": "accuracy{revision=\"{{revision}}\"}",
         "compareToActive": "NoWorse", "direction": "LowerIsBetter", "tolerance": 0.01,
         "minSamples": {"query": "samples", "count": 200},
         "failureLimit": 1, "inconclusiveLimit": 5, "consecutiveErrorLimit": 2, "count": 7},
        {"name": "error-rate", "query": "errors", "min": 0, "max": 0.01}]})")));
  ASSERT_TRUE(analysis.has_value());
  EXPECT_EQ(analysis->address, "http://prometheus.monitoring:9090");
  EXPECT_EQ(analysis->interval, seconds(90));
  ASSERT_EQ(analysis->metrics.size(), 2u);
  const AnalysisMetric& accuracy = analysis->metrics[0];
  EXPECT_EQ(accuracy.name, "live-accuracy");
  EXPECT_EQ(accuracy.query, "accuracy{revision=\"{{revision}}\"}");
  EXPECT_EQ(accuracy.compare_to_active, "NoWorse");
  EXPECT_FALSE(accuracy.higher_is_better);
  EXPECT_EQ(accuracy.tolerance, 0.01);
  ASSERT_TRUE(accuracy.min_samples.has_value());
  EXPECT_EQ(accuracy.min_samples->query, "samples");
  EXPECT_EQ(accuracy.min_samples->count, 200.0);
  EXPECT_EQ(accuracy.failure_limit, 1);
  EXPECT_EQ(accuracy.inconclusive_limit, 5);
  EXPECT_EQ(accuracy.consecutive_error_limit, 2);
  EXPECT_EQ(accuracy.count, 7);
  const AnalysisMetric& errors = analysis->metrics[1];
  EXPECT_EQ(errors.name, "error-rate");
  EXPECT_EQ(errors.min, 0.0);
  EXPECT_EQ(errors.max, 0.01);
  EXPECT_EQ(errors.compare_to_active, "");
}

// A stored object can predate the CRD's validation: a member of the wrong
// type, or out of the CRD's bounds, reads as its default instead of throwing.
TEST(AnalysisSpec, MalformedMembersReadAsTheirDefaults) {
  const auto analysis = parse_analysis_spec(spec_with(Json::parse(R"({
      "prometheus": "http://not-an-object",
      "interval": 30,
      "metrics": [{"name": 7, "query": ["q"], "min": "0.8", "max": true,
                   "compareToActive": 1, "direction": {}, "tolerance": "0.1",
                   "minSamples": {"query": 1, "count": "200"},
                   "failureLimit": -1, "inconclusiveLimit": 2.5,
                   "consecutiveErrorLimit": 1e30, "count": 0}]})")));
  ASSERT_TRUE(analysis.has_value());
  EXPECT_EQ(analysis->address, "");
  EXPECT_EQ(analysis->interval, seconds(30));
  ASSERT_EQ(analysis->metrics.size(), 1u);
  const AnalysisMetric& m = analysis->metrics[0];
  EXPECT_EQ(m.name, "");
  EXPECT_EQ(m.query, "");
  EXPECT_FALSE(m.min.has_value());
  EXPECT_FALSE(m.max.has_value()) << "true is no number";
  EXPECT_EQ(m.compare_to_active, "");
  EXPECT_TRUE(m.higher_is_better);
  EXPECT_EQ(m.tolerance, 0.0);
  ASSERT_TRUE(m.min_samples.has_value());
  EXPECT_EQ(m.min_samples->query, "");
  EXPECT_EQ(m.min_samples->count, 0.0);
  EXPECT_EQ(m.failure_limit, 0) << "a negative limit would fail before any measurement";
  EXPECT_EQ(m.inconclusive_limit, 3);
  EXPECT_EQ(m.consecutive_error_limit, 4);
  EXPECT_FALSE(m.count.has_value()) << "0 measurements can never pass: not set";
}

TEST(AnalysisSpec, AnIntervalThatIsNoDurationOfAtLeastOneSecondIsTheDefault) {
  for (const char* interval : {"0s", "0h0m0s", "10 minutes", "1.5m", ""}) {
    Json analysis = one_metric({{"name", "m"}, {"query", "q"}});
    analysis["interval"] = interval;
    EXPECT_EQ(parse_analysis_spec(spec_with(analysis))->interval, seconds(30)) << interval;
  }
  Json analysis = one_metric({{"name", "m"}, {"query", "q"}});
  analysis["interval"] = "1s";
  EXPECT_EQ(parse_analysis_spec(spec_with(analysis))->interval, seconds(1));
}

TEST(AnalysisSpec, APostPromotionWindowIsReadOnlyAsADurationOfAtLeastOneSecond) {
  Json analysis = one_metric({{"name", "m"}, {"query", "q"}});
  EXPECT_FALSE(parse_analysis_spec(spec_with(analysis))->post_promotion) << "absent: none";
  analysis["postPromotion"] = {{"duration", "10m"}};
  EXPECT_EQ(parse_analysis_spec(spec_with(analysis))->post_promotion, seconds(600));
  for (const Json& odd : {Json("0s"), Json(600), Json("ten minutes"), Json(nullptr)}) {
    analysis["postPromotion"] = {{"duration", odd}};
    EXPECT_FALSE(parse_analysis_spec(spec_with(analysis))->post_promotion) << odd.dump();
  }
  analysis["postPromotion"] = "10m";
  EXPECT_FALSE(parse_analysis_spec(spec_with(analysis))->post_promotion);
}

TEST(AnalysisSpec, PrometheusSecretRefsAreReadWithTheirDefaultKeys) {
  Json analysis = one_metric({{"name", "m"}, {"query", "q"}});
  const auto none = parse_analysis_spec(spec_with(analysis));
  EXPECT_FALSE(none->bearer_token_secret);
  EXPECT_FALSE(none->ca_secret);
  analysis["prometheus"] = {{"address", "https://prom:9090"},
                            {"bearerTokenSecretRef", {{"name", "prom"}}},
                            {"caSecretRef", {{"name", "prom-ca"}, {"key", "bundle.pem"}}}};
  const auto both = parse_analysis_spec(spec_with(analysis));
  ASSERT_TRUE(both->bearer_token_secret);
  EXPECT_EQ(both->bearer_token_secret->name, "prom");
  EXPECT_EQ(both->bearer_token_secret->key, "token");
  ASSERT_TRUE(both->ca_secret);
  EXPECT_EQ(both->ca_secret->name, "prom-ca");
  EXPECT_EQ(both->ca_secret->key, "bundle.pem");
  EXPECT_EQ(both->address, "https://prom:9090");
  // A reference without a name (the CRD requires one) names no Secret.
  analysis["prometheus"]["bearerTokenSecretRef"] = {{"key", "token"}};
  analysis["prometheus"]["caSecretRef"] = "prom-ca";
  const auto nameless = parse_analysis_spec(spec_with(analysis));
  EXPECT_FALSE(nameless->bearer_token_secret);
  EXPECT_FALSE(nameless->ca_secret);
}

TEST(AnalysisSpec, MetricsThatAreNoListMeanNoAnalysis) {
  EXPECT_FALSE(parse_analysis_spec(spec_with({{"metrics", {{"name", "m"}}}})).has_value());
  EXPECT_FALSE(parse_analysis_spec(spec_with({{"metrics", "m"}})).has_value());
  // An item that is no object is kept as a metric with every default (no
  // query): dropping it could leave no metric at all, and a release without
  // analysis is promoted with no live evidence.
  const auto analysis = parse_analysis_spec(spec_with({{"metrics", Json::array({42})}}));
  ASSERT_TRUE(analysis.has_value());
  ASSERT_EQ(analysis->metrics.size(), 1u);
  EXPECT_EQ(analysis->metrics[0].query, "");
}

TEST(AnalysisSpec, TheReleaseSpecCarriesItAndItsCanaryAnalysisSteps) {
  const Json release = {
      {"metadata", {{"name", "churn"}}},
      {"spec",
       {{"model", {{"uri", "s3://m"}, {"version", "v1"}}},
        {"analysis", one_metric({{"name", "errors"}, {"query", "q"}, {"max", 0.01}})},
        {"strategy",
         {{"canary", {{"steps", Json::parse(R"([{"setWeight": 10}, {"analysis": {}}, {"pause": {}},
                                      {"analysis": "not an object"}])")}}}}}}}};
  const ReleaseSpec spec = parse_release_spec(release);
  ASSERT_TRUE(spec.analysis.has_value());
  EXPECT_EQ(spec.analysis->metrics.at(0).max, 0.01);
  ASSERT_TRUE(spec.canary.has_value());
  const auto& steps = spec.canary->steps;
  ASSERT_EQ(steps.size(), 4u);
  EXPECT_FALSE(steps[0].analysis);
  EXPECT_TRUE(steps[1].analysis);
  EXPECT_FALSE(steps[1].pause);
  EXPECT_FALSE(steps[1].set_weight.has_value());
  EXPECT_FALSE(steps[2].analysis);
  EXPECT_FALSE(steps[3].analysis) << "only an object is an analysis step";

  EXPECT_FALSE(parse_release_spec({{"spec", {{"model", Json::object()}}}}).analysis.has_value());
}

}  // namespace
}  // namespace cd4ml::api
