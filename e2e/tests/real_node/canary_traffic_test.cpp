// Canary with real requests: echo-server pods on the real node, a prober
// sending 50 requests/s through the active Service's ClusterIP (each request
// its own connection, so kube-proxy picks an endpoint per request), and a
// release moving through canary steps. Asserted as a user would see it: the
// share of answers from the canary matches the weight status reports, no
// request fails, and an abort puts every request back on the stable
// revision.
//
// The share is checked with a binomial tolerance: kube-proxy's iptables rules
// pick each ready endpoint with equal probability, so over n requests the
// canary's answers are Binomial(n, weight). 400 requests and 4.5 standard
// deviations (about 10 points at 25 %, 11 at 50 %) make a false failure
// rarer than one in 100,000 runs, while a weight off by a whole pod (25 %
// read as 40 % or 50 %) is still far outside.

#include <gtest/gtest.h>

#include <cmath>

#include "modelrelease_fixture.hpp"
#include "real_node.hpp"
#include "samples.hpp"
#include "traffic_prober.hpp"

namespace cd4ml::e2e {
namespace {

using std::chrono::system_clock;
constexpr int kReplicas = 3;
constexpr std::size_t kShareSamples = 400;
constexpr double kSigmas = 4.5;

class CanaryTraffic : public EchoReleaseFixture {
 protected:
  static Json model(const std::string& version) {
    return {{"uri", "file:///models/echo/" + version}, {"version", version}};
  }

  static Json canary(const Json& steps) {
    return {{"canary", {{"steps", steps}, {"scaleDownDelaySeconds", 3}}}};
  }

  Json echo_release(const std::string& version, const Json& steps) const {
    Json mr = sample_release(ns_.name(), "echo", model(version), kReplicas);
    mr["spec"]["template"] = echo_pod_template();
    mr["spec"]["strategy"] = canary(steps);
    return mr;
  }

  // Waits until the canary has `weight` at step `step` and is paused there.
  Json wait_paused_at(std::size_t step, double weight) {
    return wait_until_release(
        "echo",
        "canary paused at step " + std::to_string(step) + " with weight " + std::to_string(weight),
        [&](const Json& mr) {
          return mr.value("/status/phase"_json_pointer, "") == "AwaitingPromotion" &&
                 mr.value("/status/canary/step"_json_pointer, -1) == static_cast<int>(step) &&
                 std::abs(mr.value("/status/canary/weight"_json_pointer, -1.0) - weight) < 0.01;
        },
        120s);
  }

  // The canary's share of kShareSamples answers sent from a second after it
  // first answered (kube-proxy has all endpoints by then), checked against
  // the weight.
  void expect_share(TrafficProber& prober, const std::string& canary_revision, double weight) {
    wait_until("the canary answering", 30s, [&] {
      for (const auto& s : prober.samples_between(system_clock::now() - 2s)) {
        if (s.revision == canary_revision) return true;
      }
      return false;
    });
    const auto from = system_clock::now() + 1s;
    wait_until(std::to_string(kShareSamples) + " answers", 60s,
               [&] { return prober.samples_between(from).size() >= kShareSamples; });
    const auto samples = prober.samples_between(from);
    std::size_t from_canary = 0;
    for (const auto& s : samples) {
      EXPECT_TRUE(s.ok()) << s.error;
      if (s.revision == canary_revision) ++from_canary;
    }
    const double n = static_cast<double>(samples.size());
    const double p = weight / 100;
    const double tolerance = kSigmas * std::sqrt(n * p * (1 - p));
    std::cout << "[figures] weight " << weight << "%: canary answered " << from_canary << " of "
              << samples.size() << " (" << 100.0 * static_cast<double>(from_canary) / n
              << "%, expected " << n * p << " +- " << tolerance << ")\n";
    EXPECT_NEAR(static_cast<double>(from_canary), n * p, tolerance)
        << "the canary's share of answers is not its weight";
  }
};

// A canary at 25 % (1 pod beside 3), promoted; then one at 50 % (3 beside
// 3), aborted. Every request through the active Service is answered
// throughout; after the abort only the stable revision answers.
TEST_F(CanaryTraffic, SharesMatchTheWeightsAndAnAbortReturnsEveryRequestToStable) {
  watch("echo", kReplicas);
  apply_json(echo_release("v1", Json::parse(R"([{"setWeight": 25}, {"pause": {}}])")));
  const Json first = wait_for_phase("echo", "Healthy", 120s);
  EXPECT_FALSE(first["status"].contains("canary")) << "a first release has no canary steps";
  const std::string v1 = first["status"]["activeRevision"];
  auto prober = probe_service(ns_.name(), "echo");

  patch_release("echo", {{"spec", {{"model", model("v2")}}}});
  const std::string v2 = wait_paused_at(1, 25)["status"]["canary"]["revision"];
  expect_share(*prober, v2, 25);
  EXPECT_TRUE(has_release_event("echo", "WeightSet"));
  EXPECT_TRUE(has_release_event("echo", "StepCompleted"));
  EXPECT_TRUE(has_release_event("echo", "Paused"));

  kubectl_ok({"annotate", "modelrelease", "echo", "-n", ns_.name(), "cd4ml.io/promote=" + v2});
  const Json promoted = wait_until_release(
      "echo", "v2 active and Healthy",
      [&](const Json& mr) {
        return mr.value("/status/activeRevision"_json_pointer, "") == v2 &&
               mr.value("/status/phase"_json_pointer, "") == "Healthy";
      },
      120s);
  EXPECT_FALSE(promoted["status"].contains("canary"));
  wait_until("pods of v1 gone", 60s,
             [&] { return list_json("pods", ns_.name(), "cd4ml.io/revision=" + v1).empty(); });

  patch_release("echo",
                {{"spec",
                  {{"model", model("v3")},
                   {"strategy", canary(Json::parse(R"([{"setWeight": 50}, {"pause": {}}])"))}}}});
  const std::string v3 = wait_paused_at(1, 50)["status"]["canary"]["revision"];
  expect_share(*prober, v3, 50);

  const auto abort_sent = system_clock::now();
  kubectl_ok({"annotate", "modelrelease", "echo", "-n", ns_.name(), "cd4ml.io/abort=" + v3});
  const Json aborted = wait_until_release(
      "echo", "Degraded by the abort",
      [](const Json& mr) {
        return mr.value("/status/phase"_json_pointer, "") == "Degraded" &&
               mr.value("/status/canary/weight"_json_pointer, -1.0) == 0.0;
      },
      30s);
  EXPECT_EQ(aborted["status"]["activeRevision"], v2);
  // When the watcher saw the Service narrow to the stable revision, and the
  // last request the canary answered.
  wait_until("the watcher to see the Service narrowed to " + v2, 10s, [&] {
    const auto history = watcher_->active_history();
    return !history.empty() && history.back() == v2;
  });
  const auto seen = watcher_->active_seen_at();
  prober->wait_for_answer_after(system_clock::now() + 2500ms, 10s);
  auto last_canary = abort_sent;
  for (const auto& s : prober->samples_between(abort_sent)) {
    if (s.revision == v3) last_canary = std::max(last_canary, s.sent);
  }
  const auto ms = [](auto d) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
  };
  std::cout << "[figures] abort: Service back on stable " << ms(seen.back() - abort_sent)
            << " ms after the annotation was written (as the watcher saw it); last canary answer "
            << ms(last_canary - abort_sent) << " ms after it\n";
  for (const auto& s : prober->samples_between(seen.back() + 2s)) {
    EXPECT_EQ(s.revision, v2) << "the aborted canary answered after the Service narrowed";
  }
  prober->stop();
  const ProbeSummary summary = summarize(prober->samples());
  std::cout << "[figures] two canaries under 50 req/s: " << summary.describe() << "\n";
  EXPECT_EQ(summary.failures, 0u) << summary.describe();
  expect_no_violations();
}

}  // namespace
}  // namespace cd4ml::e2e
