// Post-promotion analysis (post_promotion.hpp) through the plan: after a
// switch the new live revision is measured for spec.analysis.postPromotion
// while the one it replaced keeps running; a failure switches straight back
// to it, missing evidence rolls nothing back. The real-node run is in
// e2e/tests/real_node/live_analysis_test.cpp.

#include <gtest/gtest.h>

#include "analysis_fixture.hpp"
#include "modelrelease_sim.hpp"

namespace cd4ml::controllers::modelrelease {
namespace {

using sim::Analysed;
using sim::kBlueGreen;
using sim::kCanary;
using std::chrono::seconds;

// No count: one Successful measurement promotes; after the switch the run
// lasts its whole window.
const Json kPostAnalysis = Json::parse(R"({
  "interval": "30s",
  "postPromotion": {"duration": "2m"},
  "metrics": [{"name": "live-accuracy", "query": "accuracy{revision=\"{{revision}}\"}",
               "compareToActive": "NoWorse", "tolerance": 0.01}]
})");

Json with_window(const std::string& duration) {
  Json analysis = kPostAnalysis;
  analysis["postPromotion"]["duration"] = duration;
  return analysis;
}

// Steps (a tick at a time, pods coming up) until `b` is live; returns the
// instant of the switch.
std::chrono::system_clock::time_point promote_b(Analysed& t) {
  t.prom->accuracy = {{t.a, 0.86}, {t.b, 0.87}};
  for (int i = 0; i < 40 && t.c.status().value("activeRevision", "") != t.b; ++i) {
    t.c.all_pods_up();
    t.c.settle();
    if (t.c.status().value("activeRevision", "") != t.b) t.tick();
  }
  EXPECT_EQ(t.c.selected("churn"), t.b);
  return t.c.now;
}

std::string analysis_field(const Analysed& t, const char* field) {
  return t.c.status().value("analysis", Json::object()).value(field, std::string());
}

TEST(PostPromotion, TheReplacedRevisionKeepsRunningThroughTheWindowThenGoes) {
  Analysed t(kBlueGreen, kPostAnalysis);
  const int full = t.c.replicas(t.a);
  const auto switched = promote_b(t);
  EXPECT_EQ(analysis_field(t, "stage"), "PostPromotion");
  EXPECT_EQ(analysis_field(t, "revision"), t.b);
  EXPECT_EQ(analysis_field(t, "activeRevision"), t.a);
  EXPECT_EQ(t.c.phase(), "Progressing");
  EXPECT_EQ(t.c.condition("Ready", "reason"), "PostPromotionAnalysis");
  const int rounds = t.c.measurement_rounds;
  t.c.settle();
  EXPECT_EQ(t.c.measurement_rounds, rounds) << "first measured an interval after the switch";

  t.tick();
  EXPECT_EQ(t.c.measurement_rounds, rounds + 1);
  EXPECT_EQ(t.prom->asked_at[t.a], switched) << "the replaced revision as it was at the switch";
  EXPECT_EQ(t.c.replicas(t.a), full) << "kept past scaleDownDelaySeconds (30s)";
  t.tick();
  t.tick();
  EXPECT_EQ(t.c.replicas(t.a), full);
  EXPECT_FALSE(t.c.has_event("ScaledDown"));
  t.tick();  // two minutes after the switch: the window is over
  EXPECT_EQ(analysis_field(t, "phase"), "Successful") << t.c.status().dump(1);
  const EventSpec* passed = t.c.last_event("AnalysisPassed");
  ASSERT_NE(passed, nullptr);
  EXPECT_NE(passed->message.find("post-promotion"), std::string::npos) << passed->message;
  t.c.settle();
  EXPECT_EQ(t.c.replicas(t.a), 0);
  EXPECT_EQ(t.c.phase(), "Healthy");
  const int after = t.c.measurement_rounds;
  t.tick();
  EXPECT_EQ(t.c.measurement_rounds, after) << "an ended run is not measured";
}

TEST(PostPromotion, AFailureSwitchesStraightBackToTheStillRunningRevision) {
  Analysed t(kBlueGreen, kPostAnalysis);
  const int full = t.c.replicas(t.a);
  promote_b(t);
  const int promoted = t.c.count_events("Promoted");
  t.prom->accuracy[t.b] = 0.70;
  t.tick();
  EXPECT_TRUE(t.c.has_event("AnalysisFailed"));
  EXPECT_EQ(analysis_field(t, "phase"), "Failed");
  EXPECT_EQ(t.c.selected("churn"), t.b) << "the failure is in status before any Service moves";
  EXPECT_EQ(t.c.replicas(t.a), full);

  t.c.step();
  EXPECT_EQ(t.c.selected("churn"), t.a) << "no scale-up needed: it never stopped";
  EXPECT_TRUE(t.c.has_event("RolledBack"));
  t.c.settle();
  EXPECT_EQ(t.c.phase(), "Degraded");
  EXPECT_EQ(t.c.status().value("targetRevision", ""), t.b) << "spec still asks for it";
  EXPECT_EQ(t.c.status().value("activeRevision", ""), t.a);
  const std::string message = t.c.status().value("message", "");
  EXPECT_NE(message.find("post-promotion"), std::string::npos) << message;
  EXPECT_NE(message.find("0.7 vs active 0.86"), std::string::npos) << message;
  const int rounds = t.c.measurement_rounds;
  for (int i = 0; i < 6; ++i) t.tick();
  t.c.all_pods_up();
  t.c.settle();
  EXPECT_EQ(t.c.selected("churn"), t.a);
  EXPECT_EQ(t.c.count_events("Promoted"), promoted) << "the failed revision is not retried";
  EXPECT_EQ(t.c.measurement_rounds, rounds);
  EXPECT_EQ(t.c.replicas(t.b), 0) << "scaled down after the delay";
}

TEST(PostPromotion, ARollbackWhoseStatusWriteWasLostIsNotUndone) {
  Analysed t(kBlueGreen, kPostAnalysis);
  promote_b(t);
  t.prom->accuracy[t.b] = 0.70;
  t.tick();
  ASSERT_EQ(analysis_field(t, "phase"), "Failed");
  // The switch back lands, the operator dies before writing status.
  Plan p = plan(t.c.observe());
  ASSERT_FALSE(p.services.empty());
  p.status.reset();
  t.c.apply(p);
  ASSERT_EQ(t.c.selected("churn"), t.a);
  const int promoted = t.c.count_events("Promoted");
  t.c.settle();
  for (int i = 0; i < 4; ++i) t.tick();
  EXPECT_EQ(t.c.selected("churn"), t.a);
  EXPECT_EQ(t.c.count_events("Promoted"), promoted);
  EXPECT_EQ(t.c.phase(), "Degraded");
  EXPECT_EQ(t.c.status().value("activeRevision", ""), t.a);
}

TEST(PostPromotion, MissingEvidenceKeepsTheFallbackForTheWindowAndRollsNothingBack) {
  Analysed t(kBlueGreen, with_window("5m"));
  const int full = t.c.replicas(t.a);
  promote_b(t);
  t.prom->down = true;
  for (int i = 0; i < 5; ++i) t.tick();
  EXPECT_TRUE(t.c.has_event("AnalysisError"));
  EXPECT_EQ(t.c.condition("Ready", "reason"), "AnalysisError");
  EXPECT_EQ(t.c.replicas(t.a), full);
  for (int i = 0; i < 5; ++i) t.tick();  // past the window
  t.c.settle();
  EXPECT_FALSE(t.c.has_event("RolledBack"));
  EXPECT_EQ(t.c.selected("churn"), t.b);
  EXPECT_EQ(analysis_field(t, "phase"), "Error");
  const EventSpec* ended = t.c.last_event("AnalysisError");
  ASSERT_NE(ended, nullptr);
  EXPECT_NE(ended->message.find("without a verdict"), std::string::npos) << ended->message;
  EXPECT_EQ(t.c.replicas(t.a), 0) << "no longer kept once the window is over";
  EXPECT_EQ(t.c.phase(), "Healthy");
}

TEST(PostPromotion, ACanaryGoesBackWithoutStepsToTheFullStableRevision) {
  Analysed t(kCanary, kPostAnalysis);
  const int full = t.c.replicas(t.a);
  promote_b(t);
  EXPECT_EQ(analysis_field(t, "stage"), "PostPromotion");
  EXPECT_EQ(t.c.replicas(t.a), full);
  t.prom->accuracy[t.b] = 0.70;
  t.tick();
  t.c.settle();
  EXPECT_EQ(t.c.selected("churn"), t.a);
  EXPECT_TRUE(t.c.has_event("RolledBack"));
  EXPECT_EQ(t.c.phase(), "Degraded");
}

TEST(PostPromotion, WithoutAWindowTheReplacedRevisionGoesAfterTheDelay) {
  Analysed t(kBlueGreen);  // spec.analysis without postPromotion
  t.prom->accuracy = {{t.a, 0.86}, {t.b, 0.87}};
  for (int i = 0; i < 3; ++i) t.tick();
  t.c.all_pods_up();
  t.c.settle();
  ASSERT_EQ(t.c.selected("churn"), t.b);
  const int rounds = t.c.measurement_rounds;
  t.tick();
  t.c.settle();
  EXPECT_EQ(t.c.replicas(t.a), 0);
  EXPECT_EQ(t.c.measurement_rounds, rounds);
  EXPECT_EQ(t.c.phase(), "Healthy");
}

}  // namespace
}  // namespace cd4ml::controllers::modelrelease
