// The operator's Prometheus client (operator/kube/prometheus.cpp) against the
// local cluster's real Prometheus: what it decodes is what Prometheus
// computed, its refusals carry Prometheus's own words (compared with those
// curl gets through e2e/support/prometheus.cpp), and a query is evaluated at
// the time it asks for. Wire-level faults are in tests/kube/prometheus_test.cpp.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <future>
#include <stdexcept>
#include <vector>

#include "cluster.hpp"
#include "operator/kube/prometheus.hpp"
#include "prometheus.hpp"

namespace cd4ml::e2e {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

class PromClientE2E : public ::testing::Test {
 protected:
  kube::PromResult query(const std::string& promql, std::chrono::system_clock::time_point at =
                                                        std::chrono::system_clock::now()) {
    kube::PromEndpoint endpoint;
    endpoint.address = prometheus_url();
    return client_->query(endpoint, promql, at);
  }

  std::unique_ptr<kube::PromQuerier> client_ = kube::make_prom_client();
};

TEST_F(PromClientE2E, DecodesAVectorOfOneSeriesWithoutLabels) {
  const auto result = query("vector(1)");

  ASSERT_TRUE(result.ok) << result.error;
  ASSERT_EQ(result.samples.size(), 1u);
  EXPECT_TRUE(result.samples[0].labels.empty());
  EXPECT_EQ(result.samples[0].value, 1.0);
}

TEST_F(PromClientE2E, DecodesAScalar) {
  const auto result = query("scalar(vector(2.5))");
  const auto literal = query("2.5");

  ASSERT_TRUE(result.ok) << result.error;
  ASSERT_EQ(result.samples.size(), 1u);
  EXPECT_EQ(result.samples[0].value, 2.5);
  ASSERT_TRUE(literal.ok) << literal.error;
  ASSERT_EQ(literal.samples.size(), 1u);
  EXPECT_EQ(literal.samples[0].value, 2.5);
}

TEST_F(PromClientE2E, ReadsPrometheusOwnUpSeriesWithItsLabels) {
  wait_for_series("up{job=\"prometheus\"}", 30s);

  const auto result = query("up{job=\"prometheus\"}");

  ASSERT_TRUE(result.ok) << result.error;
  ASSERT_EQ(result.samples.size(), 1u);
  const auto& labels = result.samples[0].labels;
  EXPECT_EQ(labels.at("__name__"), "up");
  EXPECT_EQ(labels.at("job"), "prometheus");
  EXPECT_EQ(labels.at("instance"), "127.0.0.1:" + cluster_env("PROMETHEUS_PORT"));
  EXPECT_EQ(result.samples[0].value, 1.0);
}

TEST_F(PromClientE2E, ReturnsEverySeriesOfAResult) {
  const auto result = query(R"(label_replace(vector(1), "revision", "blue", "", "") or )"
                            R"(label_replace(vector(2), "revision", "green", "", ""))");

  ASSERT_TRUE(result.ok) << result.error;
  ASSERT_EQ(result.samples.size(), 2u);
  std::map<std::string, double> by_revision;
  for (const auto& sample : result.samples) {
    by_revision[sample.labels.at("revision")] = sample.value;
  }
  EXPECT_EQ(by_revision, (std::map<std::string, double>{{"blue", 1.0}, {"green", 2.0}}));
}

TEST_F(PromClientE2E, ReturnsAnEmptyVectorAsNoSamples) {
  const auto result = query("vector(1) > 5");

  ASSERT_TRUE(result.ok) << result.error;
  EXPECT_TRUE(result.samples.empty());
}

TEST_F(PromClientE2E, KeepsNaNAndInfinities) {
  const auto result = query(R"(label_replace(vector(0/0), "v", "nan", "", "") or )"
                            R"(label_replace(vector(1/0), "v", "inf", "", "") or )"
                            R"(label_replace(vector(-1/0), "v", "-inf", "", ""))");

  ASSERT_TRUE(result.ok) << result.error;
  ASSERT_EQ(result.samples.size(), 3u);
  for (const auto& sample : result.samples) {
    const std::string& v = sample.labels.at("v");
    SCOPED_TRACE(v);
    if (v == "nan") {
      EXPECT_TRUE(std::isnan(sample.value));
    } else if (v == "inf") {
      EXPECT_EQ(sample.value, HUGE_VAL);
    } else {
      EXPECT_EQ(sample.value, -HUGE_VAL);
    }
  }
}

TEST_F(PromClientE2E, EvaluatesTheQueryAtTheGivenTime) {
  // An hour ago, to the millisecond: Prometheus's time parameter resolution.
  const auto at = std::chrono::time_point_cast<std::chrono::milliseconds>(
      std::chrono::system_clock::now() - std::chrono::hours(1));
  const double expected = static_cast<double>(at.time_since_epoch().count()) / 1000.0;  // seconds

  const auto result = query("time()", at);

  ASSERT_TRUE(result.ok) << result.error;
  ASSERT_EQ(result.samples.size(), 1u);
  EXPECT_DOUBLE_EQ(result.samples[0].value, expected);
}

TEST_F(PromClientE2E, GivesPrometheusOwnWordsForAnInvalidQuery) {
  const std::string promql = "sum(rate(x[5m]";
  std::string curl_words;
  try {
    prom_query(promql);
    FAIL() << "curl's query was accepted";
  } catch (const std::runtime_error& e) {
    curl_words = e.what();
  }
  // e2e/support/prometheus.cpp's prefix before Prometheus's "<errorType>: <error>".
  const std::string prefix = "Prometheus refused query: ";
  ASSERT_THAT(curl_words, StartsWith(prefix));

  const auto result = query(promql);

  EXPECT_FALSE(result.ok);
  EXPECT_THAT(result.error, StartsWith("bad_data: "));
  EXPECT_THAT(result.error, HasSubstr("parse error"));
  EXPECT_EQ(result.error, curl_words.substr(prefix.size()));
}

TEST_F(PromClientE2E, RefusesARangeVectorResult) {
  const auto result = query("up[1m]");

  EXPECT_FALSE(result.ok);
  EXPECT_EQ(result.error,
            "the query gave a range vector (matrix) result; an analysis query must return an "
            "instant vector or a scalar");
}

TEST_F(PromClientE2E, ReportsAPathThatIsNotPrometheusApi) {
  kube::PromEndpoint endpoint;
  endpoint.address = prometheus_url() + "/not-here";

  const auto result = client_->query(endpoint, "vector(1)", std::chrono::system_clock::now());

  EXPECT_FALSE(result.ok);
  EXPECT_THAT(result.error, StartsWith("HTTP 404 from Prometheus"));
}

// Reconcile workers query at once through one client.
TEST_F(PromClientE2E, AnswersQueriesFromSeveralThreadsAtOnce) {
  std::vector<std::future<kube::PromResult>> answers;
  for (int i = 0; i < 4; ++i) {
    answers.push_back(std::async(std::launch::async,
                                 [this, i] { return query("vector(" + std::to_string(i) + ")"); }));
  }
  for (int i = 0; i < 4; ++i) {
    const auto result = answers[static_cast<std::size_t>(i)].get();
    ASSERT_TRUE(result.ok) << result.error;
    ASSERT_EQ(result.samples.size(), 1u);
    EXPECT_EQ(result.samples[0].value, i);
  }
}

}  // namespace
}  // namespace cd4ml::e2e
