#include <gtest/gtest.h>

#include "operator/api/modelrelease.hpp"

namespace cd4ml::api {
namespace {

using std::chrono::seconds;

Json release_with(const Json& strategy) {
  return {{"metadata", {{"name", "churn"}}},
          {"spec",
           {{"model", {{"uri", "s3://m"}, {"version", "v1"}}},
            {"replicas", 3},
            {"strategy", strategy}}}};
}

TEST(ReleaseSpec, WithoutAStrategyItIsBlueGreenWithItsDefaults) {
  const ReleaseSpec spec = parse_release_spec(release_with(Json::object()));
  EXPECT_FALSE(spec.canary.has_value());
  EXPECT_TRUE(spec.auto_promotion);
  EXPECT_EQ(spec.preview_replicas, 3);
  EXPECT_EQ(spec.scale_down_delay_seconds, 30);
  EXPECT_EQ(spec.active_service, "churn");
  EXPECT_EQ(spec.preview_service, "churn-preview");
}

TEST(ReleaseSpec, CanaryStepsAndServices) {
  const ReleaseSpec spec = parse_release_spec(release_with(Json::parse(R"({"canary": {
      "steps": [{"setWeight": 0.5}, {"pause": {"duration": "1h30m"}}, {"pause": {}}],
      "scaleDownDelaySeconds": 5, "canaryService": "churn-new"}})")));
  ASSERT_TRUE(spec.canary.has_value());
  const auto& steps = spec.canary->steps;
  ASSERT_EQ(steps.size(), 3u);
  EXPECT_EQ(steps[0].set_weight, 0.5);
  EXPECT_FALSE(steps[0].pause);
  EXPECT_TRUE(steps[1].pause);
  EXPECT_EQ(steps[1].pause_duration, seconds(5400));
  EXPECT_TRUE(steps[2].pause);
  EXPECT_FALSE(steps[2].pause_duration.has_value()) << "until promoted";
  EXPECT_EQ(spec.scale_down_delay_seconds, 5);
  EXPECT_EQ(spec.active_service, "churn");
  EXPECT_EQ(spec.preview_service, "churn-new") << "the canary Service takes the preview's place";
  EXPECT_EQ(spec.preview_replicas, 3);
}

// Found by tests/fuzz/spec_readers_fuzz: a number an int cannot hold was
// cast to int (undefined behaviour). A stored object that predates the CRD's
// validation gets the default instead.
TEST(ReleaseSpec, IntegersAnIntCannotHoldGetTheDefault) {
  for (const char* replicas : {"6.6e119", "2.5", "18446744073709551615", "-9223372036854775808"}) {
    Json release = release_with(Json::object());
    release["spec"]["replicas"] = Json::parse(replicas);
    release["spec"]["progressDeadlineSeconds"] = Json::parse(replicas);
    const ReleaseSpec spec = parse_release_spec(release);
    EXPECT_EQ(spec.replicas, 1) << replicas;
    EXPECT_EQ(spec.progress_deadline_seconds, 600) << replicas;
  }
  Json release = release_with(Json::object());
  release["spec"]["replicas"] = 2147483647;
  EXPECT_EQ(parse_release_spec(release).replicas, 2147483647);
}

TEST(ReleaseSpec, DurationsAreWholeHoursMinutesAndSecondsInOrder) {
  EXPECT_EQ(parse_duration("30s"), seconds(30));
  EXPECT_EQ(parse_duration("10m"), seconds(600));
  EXPECT_EQ(parse_duration("2h"), seconds(7200));
  EXPECT_EQ(parse_duration("1h0m5s"), seconds(3605));
  EXPECT_EQ(parse_duration("0s"), seconds(0));
  for (const char* bad : {"", "10", "1.5h", "5s1m", "-1s", "1d", "10 m", "h"}) {
    EXPECT_FALSE(parse_duration(bad).has_value()) << bad;
  }
}

}  // namespace
}  // namespace cd4ml::api
