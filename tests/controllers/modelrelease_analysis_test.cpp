// Live analysis: one measurement judged (measurement.hpp), the verdict over
// many (analysis.hpp), and whole rollouts judged on live metrics through
// the plan (analysis_plan.hpp) with a scripted Prometheus answering the
// queries by revision. The real Prometheus and reference model are in
// e2e/tests/real_node/live_analysis_test.cpp.

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "analysis_fixture.hpp"
#include "modelrelease_sim.hpp"
#include "operator/controllers/modelrelease/analysis.hpp"
#include "operator/controllers/modelrelease/measurement.hpp"

namespace cd4ml::controllers::modelrelease {
namespace {

using sim::Analysed;
using sim::Cluster;
using sim::first_release;
using sim::kAnalysis;
using sim::kBlueGreen;
using sim::kCanary;
using sim::no_data;
using sim::refused;
using sim::revision_for;
using sim::ScriptedPrometheus;
using sim::value_of;
using std::chrono::seconds;
using Result = MeasurementResult;

api::AnalysisMetric bounds(std::optional<double> min, std::optional<double> max) {
  api::AnalysisMetric m;
  m.name = "accuracy";
  m.query = "q";
  m.min = min;
  m.max = max;
  return m;
}

api::AnalysisMetric versus_active(const std::string& rule, double tolerance = 0,
                                  bool higher_is_better = true) {
  api::AnalysisMetric m;
  m.name = "accuracy";
  m.query = "q";
  m.compare_to_active = rule;
  m.tolerance = tolerance;
  m.higher_is_better = higher_is_better;
  return m;
}

const auto kAt = std::chrono::system_clock::from_time_t(1'900'000'000);

TEST(RenderQuery, ReplacesKnownVariablesAndLeavesOthersForPrometheusToReport) {
  const TemplateVars vars = {{"revision", "abc"}, {"release", "churn"}};
  EXPECT_EQ(render_query(R"(x{revision="{{revision}}",r="{{ release }}"})", vars),
            R"(x{revision="abc",r="churn"})");
  EXPECT_EQ(render_query("x{{nope}}y", vars), "x{{nope}}y");
  EXPECT_EQ(render_query("unclosed {{revision", vars), "unclosed {{revision");
  EXPECT_EQ(render_query("", vars), "");
}

TEST(JudgeMeasurement, BoundsDecideFailedOrSuccessful) {
  EXPECT_EQ(judge_measurement(bounds(0.8, std::nullopt), {value_of(0.85)}, kAt).result,
            Result::Successful);
  const Measurement low = judge_measurement(bounds(0.8, std::nullopt), {value_of(0.7)}, kAt);
  EXPECT_EQ(low.result, Result::Failed);
  EXPECT_EQ(low.message, "accuracy 0.7 is below the minimum 0.8");
  EXPECT_EQ(low.value, 0.7);
  EXPECT_EQ(judge_measurement(bounds(std::nullopt, 0.01), {value_of(0.02)}, kAt).result,
            Result::Failed);
}

TEST(JudgeMeasurement, MissingEvidenceIsInconclusiveOrErrorNeverFailed) {
  const auto metric = bounds(0.8, std::nullopt);
  EXPECT_EQ(judge_measurement(metric, {no_data()}, kAt).result, Result::Inconclusive);
  const double nan = std::numeric_limits<double>::quiet_NaN();
  EXPECT_EQ(judge_measurement(metric, {value_of(nan)}, kAt).result, Result::Inconclusive);
  const Measurement down =
      judge_measurement(metric, {refused("Prometheus at http://p:9090 is unreachable")}, kAt);
  EXPECT_EQ(down.result, Result::Error);
  EXPECT_NE(down.message.find("unreachable"), std::string::npos) << down.message;
  const Measurement bad = judge_measurement(metric, {refused("bad_data: parse error")}, kAt);
  EXPECT_EQ(bad.result, Result::Error);
  EXPECT_NE(bad.message.find("bad_data: parse error"), std::string::npos);
}

TEST(JudgeMeasurement, SeveralSeriesAreRefusedWithTheirNames) {
  kube::PromResult two = value_of(0.9);
  two.samples[0].labels = {{"pod", "a"}};
  two.samples.push_back({{{"pod", "b"}}, 0.1});
  const Measurement m = judge_measurement(bounds(0.8, std::nullopt), {two}, kAt);
  EXPECT_EQ(m.result, Result::Error);
  EXPECT_NE(m.message.find("2 series"), std::string::npos) << m.message;
  EXPECT_NE(m.message.find(R"(pod="b")"), std::string::npos) << m.message;
  EXPECT_NE(m.message.find("sum()"), std::string::npos) << m.message;
}

TEST(JudgeMeasurement, MinSamplesMakesThinEvidenceInconclusive) {
  auto metric = bounds(0.8, std::nullopt);
  metric.min_samples = api::MinSamples{"n", 200};
  const Measurement thin =
      judge_measurement(metric, {value_of(0.5), std::nullopt, value_of(20)}, kAt);
  EXPECT_EQ(thin.result, Result::Inconclusive) << "a bad value on 20 samples proves nothing";
  EXPECT_EQ(thin.samples, 20);
  EXPECT_EQ(judge_measurement(metric, {value_of(0.5), std::nullopt, value_of(250)}, kAt).result,
            Result::Failed);
  EXPECT_EQ(judge_measurement(metric, {value_of(0.9), std::nullopt, no_data()}, kAt).result,
            Result::Inconclusive);
}

TEST(JudgeMeasurement, CompareToActiveUsesDirectionAndTolerance) {
  const auto no_worse = versus_active("NoWorse", 0.01);
  EXPECT_EQ(judge_measurement(no_worse, {value_of(0.855), value_of(0.86)}, kAt).result,
            Result::Successful);
  const Measurement worse = judge_measurement(no_worse, {value_of(0.80), value_of(0.86)}, kAt);
  EXPECT_EQ(worse.result, Result::Failed);
  EXPECT_EQ(worse.active_value, 0.86);
  EXPECT_NE(worse.message.find("0.8 vs active 0.86"), std::string::npos) << worse.message;
  const auto better = versus_active("Better", 0.01);
  EXPECT_EQ(judge_measurement(better, {value_of(0.865), value_of(0.86)}, kAt).result,
            Result::Failed)
      << "better by less than the tolerance";
  const auto lower = versus_active("NoWorse", 0, false);
  EXPECT_EQ(judge_measurement(lower, {value_of(0.02), value_of(0.01)}, kAt).result, Result::Failed);
  EXPECT_EQ(judge_measurement(no_worse, {value_of(0.9), no_data()}, kAt).result,
            Result::Inconclusive)
      << "nothing to compare with proves nothing";
}

// --- the verdict over many measurements ---

api::AnalysisSpec one_metric(int failure_limit = 0, int inconclusive_limit = 3, int error_limit = 4,
                             std::optional<int> count = 3) {
  api::AnalysisSpec spec;
  auto m = bounds(0.8, std::nullopt);
  m.failure_limit = failure_limit;
  m.inconclusive_limit = inconclusive_limit;
  m.consecutive_error_limit = error_limit;
  m.count = count;
  spec.metrics.push_back(m);
  return spec;
}

Measurement measured(Result r, int second) {
  Measurement m;
  m.metric = "accuracy";
  m.result = r;
  m.at = kAt + seconds(second);
  m.message = to_string(r);
  return m;
}

AnalysisPhase after(const api::AnalysisSpec& spec, const std::vector<Result>& results) {
  AnalysisRecord record =
      resume_analysis(std::nullopt, spec, {AnalysisStage::PrePromotion, "b", "a", 0}, kAt);
  int t = 0;
  for (const Result r : results) add_measurements(record, {measured(r, t++)});
  assess(record, spec);
  return record.phase;
}

TEST(AnalysisVerdict, LimitsDecide) {
  using P = AnalysisPhase;
  const Result S = Result::Successful, F = Result::Failed, I = Result::Inconclusive,
               E = Result::Error;
  EXPECT_EQ(after(one_metric(), {}), P::Running);
  EXPECT_EQ(after(one_metric(), {S, S}), P::Running);
  EXPECT_EQ(after(one_metric(), {S, S, S}), P::Successful);
  EXPECT_EQ(after(one_metric(), {S, F}), P::Failed) << "failureLimit 0";
  EXPECT_EQ(after(one_metric(1), {F, S}), P::Running);
  EXPECT_EQ(after(one_metric(1), {F, S, F}), P::Failed) << "failures count over the whole run";
  EXPECT_EQ(after(one_metric(), {I, I, I}), P::Running);
  EXPECT_EQ(after(one_metric(), {I, I, I, I}), P::Inconclusive);
  EXPECT_EQ(after(one_metric(), {I, I, I, I, S}), P::Running) << "conclusive again: resumed";
  EXPECT_EQ(after(one_metric(), {E, E, E, E}), P::Running);
  EXPECT_EQ(after(one_metric(), {E, E, E, E, E}), P::Error);
  EXPECT_EQ(after(one_metric(), {E, E, E, S, E, E}), P::Running) << "consecutive only";
  EXPECT_EQ(after(one_metric(0, 3, 4, std::nullopt), {S}), P::Successful) << "count defaults to 1";
  EXPECT_EQ(after(one_metric(), {E, E, E, E, E, F}), P::Failed) << "a failure beats everything";
}

TEST(AnalysisRecord, KeepsTheLastTenMeasurementsAndAllCountsThroughJson) {
  const api::AnalysisSpec spec = one_metric();
  AnalysisRecord record =
      resume_analysis(std::nullopt, spec, {AnalysisStage::PrePromotion, "b", "a", 0}, kAt);
  for (int i = 0; i < 12; ++i) add_measurements(record, {measured(Result::Successful, i)});
  add_measurements(record, {measured(Result::Error, 12)});
  assess(record, spec);
  const Json status = {{"analysis", to_json(record)}};
  const auto back = analysis_record_from_json(status);
  ASSERT_TRUE(back);
  ASSERT_EQ(back->metrics.size(), 1u);
  const MetricRecord& m = back->metrics[0];
  EXPECT_EQ(m.successful, 12);
  EXPECT_EQ(m.error, 1);
  EXPECT_EQ(m.consecutive_errors, 1);
  ASSERT_EQ(m.measurements.size(), kKeptMeasurements);
  EXPECT_EQ(m.measurements.back().at, kAt + seconds(12));
  EXPECT_EQ(back->last_measured(), kAt + seconds(12));
  EXPECT_EQ(back->phase, AnalysisPhase::Successful);
  EXPECT_EQ(back->revision, "b");
  EXPECT_EQ(back->active_revision, "a");
}

TEST(AnalysisRecord, ANewCandidateOrActiveStartsANewRunAndANewStepRestartsItsCount) {
  const api::AnalysisSpec spec = one_metric();
  AnalysisRecord record =
      resume_analysis(std::nullopt, spec, {AnalysisStage::PrePromotion, "b", "a", 0}, kAt);
  add_measurements(record, {measured(Result::Successful, 0), measured(Result::Failed, 1)});
  EXPECT_EQ(resume_analysis(record, spec, {AnalysisStage::PrePromotion, "c", "a", 0}, kAt)
                .metrics[0]
                .failed,
            0);
  EXPECT_EQ(resume_analysis(record, spec, {AnalysisStage::PrePromotion, "b", "x", 0}, kAt)
                .metrics[0]
                .failed,
            0);
  const AnalysisRecord same =
      resume_analysis(record, spec, {AnalysisStage::PrePromotion, "b", "a", 0}, kAt);
  EXPECT_EQ(same.metrics[0].failed, 1);
  EXPECT_EQ(same.metrics[0].step_successful, 1);
  const AnalysisRecord next_step =
      resume_analysis(record, spec, {AnalysisStage::PrePromotion, "b", "a", 2}, kAt);
  EXPECT_EQ(next_step.metrics[0].failed, 1) << "failures span the whole run";
  EXPECT_EQ(next_step.metrics[0].step_successful, 0);
  EXPECT_EQ(next_step.metrics[0].successful, 1);
}

TEST(AnalysisRecord, APostPromotionRunIsItsOwnRunAndKeepsItsWindowThroughJson) {
  const api::AnalysisSpec spec = one_metric();
  AnalysisRecord pre =
      resume_analysis(std::nullopt, spec, {AnalysisStage::PrePromotion, "b", "a", 0}, kAt);
  add_measurements(pre, {measured(Result::Successful, 0)});
  const RunKey post_key{AnalysisStage::PostPromotion, "b", "a", 0};
  AnalysisRecord post = resume_analysis(pre, spec, post_key, kAt + seconds(60));
  EXPECT_EQ(post.metrics[0].successful, 0) << "the candidate's measurements do not count after";
  EXPECT_EQ(post.started_at, std::chrono::floor<seconds>(kAt + seconds(60)));
  post.ends_at = std::chrono::floor<seconds>(kAt + seconds(660));
  post.ended_at = std::chrono::floor<seconds>(kAt + seconds(120));
  const auto back = analysis_record_from_json({{"analysis", to_json(post)}});
  ASSERT_TRUE(back);
  EXPECT_EQ(back->stage, AnalysisStage::PostPromotion);
  EXPECT_EQ(back->ends_at, post.ends_at);
  EXPECT_EQ(back->ended_at, post.ended_at);
  Json written_before_stages = to_json(pre);
  written_before_stages.erase("stage");
  EXPECT_EQ(analysis_record_from_json({{"analysis", written_before_stages}})->stage,
            AnalysisStage::PrePromotion);
}

TEST(AnalysisRecord, MalformedStatusIsIgnored) {
  EXPECT_FALSE(analysis_record_from_json(Json::object()));
  EXPECT_FALSE(analysis_record_from_json({{"analysis", "x"}}));
  EXPECT_FALSE(analysis_record_from_json({{"analysis", {{"revision", 3}}}}));
  const auto odd = analysis_record_from_json(Json::parse(R"({"analysis": {"revision": "b",
      "metrics": [{"name": "m", "failed": -4, "measurements": [1, "x", {"at": 2}]}]}})"));
  ASSERT_TRUE(odd);
  EXPECT_EQ(odd->metrics[0].failed, 0);
  EXPECT_TRUE(odd->metrics[0].measurements.empty());
}

// --- whole rollouts through the plan ---

TEST(LiveAnalysisBlueGreen, AGoodCandidateIsPromotedOnlyAfterCountSuccessfulMeasurements) {
  Analysed t(kBlueGreen);
  t.prom->accuracy = {{t.a, 0.86}, {t.b, 0.87}};
  t.c.step();
  EXPECT_EQ(t.c.measurement_rounds, 1);
  EXPECT_EQ(t.prom->queries, 2) << "the candidate's query and the active one's";
  EXPECT_EQ(t.c.selected("churn"), t.a);
  EXPECT_EQ(t.c.phase(), "Progressing") << t.c.status().dump();
  EXPECT_NE(t.c.status().value("message", "").find("analysis: live-accuracy 1/3"),
            std::string::npos)
      << t.c.status().value("message", "");
  t.c.step();
  EXPECT_EQ(t.c.measurement_rounds, 1) << "not measured again within the interval";
  t.tick();
  EXPECT_EQ(t.c.selected("churn"), t.a);
  t.tick();
  EXPECT_TRUE(t.c.has_event("AnalysisPassed"));
  EXPECT_EQ(t.c.measurement_rounds, 3);
  t.c.all_pods_up();
  t.c.settle();
  EXPECT_EQ(t.c.selected("churn"), t.b);
  EXPECT_TRUE(t.c.has_event("Promoted"));
  const Json analysis = t.analysis();
  EXPECT_EQ(analysis.value("phase", ""), "Successful");
  EXPECT_EQ(analysis["metrics"][0]["successful"], 3);
  EXPECT_EQ(analysis["metrics"][0]["measurements"][2]["activeValue"], 0.86);
  EXPECT_EQ(analysis["metrics"][0]["measurements"][2]["value"], 0.87);
  EXPECT_EQ(t.c.measurement_rounds, 3) << "no measuring after the promotion";
}

TEST(LiveAnalysisBlueGreen, ACandidateWorseLiveIsAbortedWithTheValues) {
  Analysed t(kBlueGreen);
  t.prom->accuracy = {{t.a, 0.86}, {t.b, 0.71}};
  t.c.step();
  EXPECT_EQ(t.c.selected("churn"), t.a);
  EXPECT_TRUE(t.c.has_event("AnalysisFailed"));
  EXPECT_EQ(t.c.phase(), "Degraded");
  const std::string message = t.c.status().value("message", "");
  EXPECT_NE(message.find("0.71 vs active 0.86"), std::string::npos) << message;
  EXPECT_EQ(t.analysis().value("phase", ""), "Failed");
  t.c.settle();
  EXPECT_EQ(t.c.selected("churn-preview"), t.a) << "the preview goes back to the active";
  const int rounds = t.c.measurement_rounds;
  t.tick();
  EXPECT_EQ(t.c.measurement_rounds, rounds) << "an aborted candidate is not measured";
}

TEST(LiveAnalysisBlueGreen, PrometheusDownPausesThenResumesAndCompletes) {
  Analysed t(kBlueGreen);
  t.prom->accuracy = {{t.a, 0.86}, {t.b, 0.87}};
  t.prom->down = true;
  t.c.step();
  for (int i = 0; i < 3; ++i) t.tick();
  EXPECT_FALSE(t.c.has_event("AnalysisError")) << "4 errors are within consecutiveErrorLimit";
  t.tick();
  EXPECT_TRUE(t.c.has_event("AnalysisError"));
  EXPECT_EQ(t.c.phase(), "AwaitingPromotion");
  EXPECT_EQ(
      t.c.status().value("/conditions"_json_pointer, Json::array()).dump().find("AnalysisError") !=
          std::string::npos,
      true);
  EXPECT_NE(t.c.status().value("message", "").find("unreachable"), std::string::npos);
  for (int i = 0; i < 10; ++i) t.tick();
  EXPECT_EQ(t.c.selected("churn"), t.a) << "never promoted on missing evidence";
  EXPECT_FALSE(t.c.has_event("AnalysisFailed")) << "never aborted on missing evidence";
  EXPECT_EQ(t.prom->queries, 15) << "one query per interval while it is down";
  t.prom->down = false;
  t.tick();
  EXPECT_TRUE(t.c.has_event("AnalysisResumed"));
  t.tick();
  t.tick();
  t.c.all_pods_up();
  t.c.settle();
  EXPECT_EQ(t.c.selected("churn"), t.b);
}

TEST(LiveAnalysisBlueGreen, NoTrafficIsInconclusiveAndPausesButNeverFails) {
  Analysed t(kBlueGreen);
  t.c.step();
  for (int i = 0; i < 20; ++i) t.tick();
  EXPECT_TRUE(t.c.has_event("AnalysisInconclusive"));
  EXPECT_FALSE(t.c.has_event("AnalysisFailed"));
  EXPECT_EQ(t.c.phase(), "AwaitingPromotion");
  EXPECT_EQ(t.c.selected("churn"), t.a);
  EXPECT_EQ(t.c.selected("churn-preview"), t.b) << "the candidate stays for more evidence";
  EXPECT_EQ(t.analysis()["metrics"][0]["inconclusive"], 21);
}

TEST(LiveAnalysisBlueGreen, APlanFromTheSameStatusDoesNotMeasureAgain) {
  // What a restart of the operator sees: status says when it last measured.
  Analysed t(kBlueGreen);
  t.prom->accuracy = {{t.a, 0.86}, {t.b, 0.87}};
  t.c.step();
  const Json before = t.analysis();
  t.c.now += seconds(29);
  Plan p = plan(t.c.observe());
  EXPECT_FALSE(p.analysis_due);
  ASSERT_TRUE(p.requeue_after);
  EXPECT_LE(*p.requeue_after, std::chrono::milliseconds(1100)) << "requeued for the next one";
  EXPECT_EQ(t.analysis(), before);
  t.c.now += seconds(1);
  EXPECT_TRUE(plan(t.c.observe()).analysis_due);
}

TEST(LiveAnalysisBlueGreen, TheAnnotationPromotesWithoutWaitingForAnalysis) {
  Analysed t(kBlueGreen);
  t.c.step();
  t.c.release["metadata"]["annotations"] = {{"cd4ml.io/promote", t.b}};
  t.c.step();
  t.c.all_pods_up();
  t.c.settle();
  EXPECT_EQ(t.c.selected("churn"), t.b);
}

TEST(LiveAnalysisCanary, AnAnalysisStepWaitsForCountSuccessfulMeasurements) {
  Analysed t(kCanary);
  t.prom->accuracy = {{t.a, 0.86}, {t.b, 0.87}};
  t.c.step();
  EXPECT_EQ(sim::canary_status(t.c).value("step", 0), 1) << "in the analysis step";
  EXPECT_EQ(t.c.measurement_rounds, 0) << "measured before it carried any traffic";
  t.tick();
  t.tick();
  EXPECT_EQ(sim::canary_status(t.c).value("step", 0), 1);
  EXPECT_FALSE(t.c.has_event("AnalysisPassed"));
  t.tick();
  EXPECT_TRUE(t.c.has_event("AnalysisPassed"));
  EXPECT_EQ(sim::canary_status(t.c).value("step", 0), 2);
  t.c.pods_up(t.b);
  t.c.step();
  EXPECT_EQ(t.analysis()["metrics"][0]["stepSuccessful"], 0) << "counted per analysis step";
  EXPECT_EQ(t.analysis()["metrics"][0]["successful"], 3);
  t.tick();
  EXPECT_EQ(t.analysis()["metrics"][0]["successful"], 4) << "background analysis goes on";
}

TEST(LiveAnalysisCanary, AFailedMeasurementTakesTheCanaryShareAway) {
  Analysed t(kCanary);
  t.prom->accuracy = {{t.a, 0.86}, {t.b, 0.87}};
  t.c.step();
  EXPECT_GT(sim::canary_status(t.c).value("weight", 0.0), 0);
  t.prom->accuracy[t.b] = 0.70;
  t.tick();
  EXPECT_TRUE(t.c.has_event("AnalysisFailed"));
  EXPECT_EQ(sim::canary_status(t.c).value("weight", -1.0), 0);
  EXPECT_EQ(t.c.selected("churn"), t.a) << "the active Service selects the stable pods only";
  EXPECT_EQ(t.c.phase(), "Degraded");
}

TEST(LiveAnalysisCanary, MissingEvidenceHoldsTheStepsAndTheShare) {
  Analysed t(kCanary);
  t.prom->accuracy = {{t.a, 0.86}};
  t.c.step();
  const double share = sim::canary_status(t.c).value("weight", 0.0);
  EXPECT_GT(share, 0);
  for (int i = 0; i < 6; ++i) t.tick();
  EXPECT_EQ(t.c.phase(), "AwaitingPromotion");
  EXPECT_EQ(t.c.status().value("/conditions/0/reason"_json_pointer, std::string()) ==
                    "AnalysisInconclusive" ||
                t.c.status().dump().find("AnalysisInconclusive") != std::string::npos,
            true);
  EXPECT_EQ(sim::canary_status(t.c).value("step", 0), 1);
  EXPECT_EQ(sim::canary_status(t.c).value("weight", 0.0), share) << "the share it has stays";
  t.prom->accuracy[t.b] = 0.9;
  t.tick();
  EXPECT_TRUE(t.c.has_event("AnalysisResumed"));
}

TEST(LiveAnalysisCanary, AFirstReleaseAndARollbackAreNotAnalysed) {
  Cluster c;
  auto prom = std::make_shared<ScriptedPrometheus>();
  c.prometheus = prom;
  c.release["spec"]["analysis"] = kAnalysis;
  first_release(c);
  EXPECT_EQ(prom->queries, 0);
  EXPECT_FALSE(c.status().contains("analysis"));
}

}  // namespace
}  // namespace cd4ml::controllers::modelrelease
