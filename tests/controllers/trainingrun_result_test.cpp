#include <gtest/gtest.h>

#include <limits>

#include "operator/controllers/trainingrun/result.hpp"

namespace cd4ml::controllers::trainingrun {
namespace {

std::string error_of(std::string_view message) {
  auto parsed = parse_trainer_result(message);
  if (auto* e = std::get_if<ResultError>(&parsed)) return e->message;
  return "";
}

TEST(TrainerResult, ReadsMetricsAndDigest) {
  auto parsed = parse_trainer_result(
      R"({"metrics": {"accuracy": 0.93, "f1": 1, "loss_val": -2.5e-3},
          "artifactDigest": "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"})");
  ASSERT_TRUE(std::holds_alternative<TrainerResult>(parsed));
  const auto& r = std::get<TrainerResult>(parsed);
  EXPECT_DOUBLE_EQ(r.metrics.at("accuracy"), 0.93);
  EXPECT_DOUBLE_EQ(r.metrics.at("f1"), 1.0);
  EXPECT_DOUBLE_EQ(r.metrics.at("loss_val"), -0.0025);
  EXPECT_EQ(r.artifact_digest, "sha256:" + std::string(64, 'a'));
}

TEST(TrainerResult, EmptyMessageAndUnknownKeysAreFine) {
  for (const char* message : {"", "  \n", "{}", R"({"metrics": {}, "extra": [1, 2]})"}) {
    auto parsed = parse_trainer_result(message);
    ASSERT_TRUE(std::holds_alternative<TrainerResult>(parsed)) << message;
    EXPECT_TRUE(std::get<TrainerResult>(parsed).metrics.empty());
  }
}

TEST(TrainerResult, HostileInputsAreRejectedWithAReason) {
  struct Case {
    std::string message;
    std::string expected_in_error;
  };
  const std::vector<Case> cases = {
      {"accuracy=0.9", "not valid JSON"},
      {R"({"metrics": {"accuracy": 0.9})", "not valid JSON"},
      {"[1,2,3]", "must be a JSON object"},
      {R"("just a string")", "must be a JSON object"},
      {R"({"metrics": [0.9]})", "\"metrics\" must be an object"},
      {R"({"metrics": {"accuracy": "0.9"}})", "metric \"accuracy\" is not a number"},
      {R"({"metrics": {"accuracy": null}})", "is not a number"},
      {R"({"metrics": {"accuracy": true}})", "is not a number"},
      {R"({"metrics": {"accuracy": {"v": 1}}})", "is not a number"},
      {R"({"metrics": {"huge": 1e400}})", "number overflow"},
      {R"({"metrics": {"accuracy": NaN}})", "not valid JSON"},
      {R"({"metrics": {"accuracy": Infinity}})", "not valid JSON"},
      {R"({"metrics": {"": 1}})", "metric name \"\" is invalid"},
      {R"({"metrics": {"has space": 1}})", "metric name \"has space\" is invalid"},
      {R"({"metrics": {"a\u0000b": 1}})", "is invalid"},
      {R"({"artifactDigest": "md5:abc"})", "\"artifactDigest\" must be sha256"},
      {R"({"artifactDigest": 42})", "\"artifactDigest\" must be sha256"},
      {R"({"artifactDigest": "sha256:ABCDEF"})", "\"artifactDigest\" must be sha256"},
      {"\xff\xfe{}", "not valid JSON"},
      {std::string(5000, ' ') + "{}", "over the 4096-byte limit"},
  };
  for (const auto& c : cases) {
    const std::string error = error_of(c.message);
    EXPECT_NE(error.find(c.expected_in_error), std::string::npos)
        << "input: " << c.message.substr(0, 80) << "\nerror: " << error;
  }
}

const char* kBaseline = R"({"samples": 800,
    "features": {"tenure": {"edges": [6, 24, 48], "fractions": [0.25, 0.25, 0.3, 0.2]},
                 "support_calls": {"edges": [1], "fractions": [0.6, 0.4]}},
    "prediction": {"edges": [0.1, 0.5], "fractions": [0.5, 0.3333, 0.1667]}})";

TEST(TrainerResult, KeepsAValidBaselineAsItIs) {
  auto parsed = parse_trainer_result(std::string(R"({"metrics": {"auc": 0.8}, "baseline": )") +
                                     kBaseline + "}");
  ASSERT_TRUE(std::holds_alternative<TrainerResult>(parsed)) << error_of(kBaseline);
  EXPECT_EQ(std::get<TrainerResult>(parsed).baseline, nlohmann::json::parse(kBaseline));
  EXPECT_TRUE(std::get<TrainerResult>(parse_trainer_result("{}")).baseline.is_null());
}

TEST(TrainerResult, AMalformedBaselineRejectsTheResultAndSaysWhere) {
  const auto with = [](const std::string& pointer, const nlohmann::json& value) {
    nlohmann::json baseline = nlohmann::json::parse(kBaseline);
    if (value.is_discarded()) {
      baseline.erase(pointer);
    } else {
      baseline[nlohmann::json::json_pointer(pointer)] = value;
    }
    return error_of(nlohmann::json{{"metrics", {{"auc", 0.8}}}, {"baseline", baseline}}.dump());
  };
  const nlohmann::json absent = nlohmann::json::value_t::discarded;
  EXPECT_NE(with("features", absent).find("baseline.features must be an object"),
            std::string::npos);
  EXPECT_NE(with("/samples", 0).find("baseline.samples must be a positive integer"),
            std::string::npos);
  EXPECT_NE(with("/features/tenure/edges", nlohmann::json::array({24, 6, 48}))
                .find("baseline.features.tenure.edges must be strictly ascending"),
            std::string::npos);
  EXPECT_NE(with("/features/tenure/edges", nlohmann::json::array())
                .find("baseline.features.tenure.edges must be an array of 1 to 64 numbers"),
            std::string::npos);
  EXPECT_NE(with("/features/tenure/fractions", nlohmann::json::array({0.5, 0.5}))
                .find("one number more than edges"),
            std::string::npos);
  EXPECT_NE(with("/features/tenure/fractions", nlohmann::json::array({0.5, 0.5, 0.5, 0.5}))
                .find("baseline.features.tenure.fractions must sum to 1"),
            std::string::npos);
  EXPECT_NE(with("/prediction/fractions", nlohmann::json::array({1.5, -0.25, -0.25}))
                .find("baseline.prediction.fractions must be numbers between 0 and 1"),
            std::string::npos);
  EXPECT_NE(with("/features/has space", nlohmann::json::parse(R"({"edges":[1],"fractions":[0,1]})"))
                .find("invalid feature name"),
            std::string::npos);
}

TEST(TrainerResult, OneBadMetricRejectsAllMetrics) {
  EXPECT_FALSE(error_of(R"({"metrics": {"good": 1, "bad": "x"}})").empty());
}

TEST(TrainerResult, LongNamesInErrorsAreShortened) {
  const std::string name(300, 'x');
  const std::string error = error_of(R"({"metrics": {")" + name + R"(": 1}})");
  EXPECT_LT(error.size(), 250u);
  EXPECT_NE(error.find("..."), std::string::npos);
}

}  // namespace
}  // namespace cd4ml::controllers::trainingrun
