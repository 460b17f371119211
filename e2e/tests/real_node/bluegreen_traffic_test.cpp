// Blue/green with real requests: real pods of the echo-server image on the
// local cluster's real node, a prober sending 50 requests/s through the
// Services' ClusterIPs (kube-proxy's iptables rules), and the operator moving
// a release from revision to revision. What a user of the release would see
// is asserted: no failed request, and only the revision that should answer
// answering.

#include <gtest/gtest.h>

#include <thread>

#include "modelrelease_fixture.hpp"
#include "operator/api/conditions.hpp"
#include "real_node.hpp"
#include "samples.hpp"
#include "traffic_prober.hpp"

namespace cd4ml::e2e {
namespace {

using std::chrono::system_clock;
constexpr int kReplicas = 2;
constexpr int kScaleDownDelay = 3;

class RealTraffic : public EchoReleaseFixture {
 protected:
  static Json model(const std::string& version) {
    return {{"uri", "file:///models/echo/" + version}, {"version", version}};
  }

  // A release of the echo server at `version`, on the real node.
  Json echo_release(const std::string& version, const Json& spec_patch = Json::object()) const {
    Json mr = sample_release(ns_.name(), "echo", model(version), kReplicas);
    mr["spec"]["template"] = echo_pod_template();
    mr["spec"]["strategy"] = {{"blueGreen", {{"scaleDownDelaySeconds", kScaleDownDelay}}}};
    mr["spec"].merge_patch(spec_patch);
    return mr;
  }

  Json wait_active(const std::string& version) {
    return wait_until_release(
        "echo", "model " + version + " active and Healthy",
        [&](const Json& mr) {
          return mr.value("/status/activeModelVersion"_json_pointer, "") == version &&
                 mr.value("/status/phase"_json_pointer, "") == "Healthy";
        },
        120s);
  }

  // Waits until no pod of `revision` is left (scaled down after the delay).
  void wait_pods_gone(const std::string& revision) {
    wait_until("pods of revision " + revision + " gone", 60s, [&] {
      return list_json("pods", ns_.name(), "cd4ml.io/revision=" + revision).empty();
    });
  }

  // When each failed request was sent, against the switches the watcher saw.
  std::string describe_failures(const TrafficProber& prober) const {
    std::string out;
    const auto seen =
        watcher_ ? watcher_->active_seen_at() : decltype(watcher_->active_seen_at()){};
    const auto history = watcher_ ? watcher_->active_history() : std::vector<std::string>{};
    for (const auto& s : prober.samples()) {
      if (s.ok()) continue;
      out += "\n  failed: " + s.error + ", sent";
      for (std::size_t i = 0; i < seen.size(); ++i) {
        const auto ms =
            std::chrono::duration_cast<std::chrono::milliseconds>(s.sent - seen[i]).count();
        out += " " + std::to_string(ms) + " ms after " + history[i] + " was seen active;";
      }
    }
    return out;
  }

  std::unique_ptr<TrafficProber> probe(const std::string& service) {
    return probe_service(ns_.name(), service);
  }
};

// Five consecutive switches under steady load: no request fails, and once
// each switch is seen (plus the scale-down delay that covers requests in
// flight) only the new revision answers.
TEST_F(RealTraffic, FiveSwitchesUnderLoadLoseNoRequest) {
  watch("echo", kReplicas);
  apply_json(echo_release("v0"));
  Json mr = wait_active("v0");
  auto prober = probe("echo");

  std::string previous = mr["status"]["activeRevision"];
  for (int i = 1; i <= 5; ++i) {
    const std::string version = "v" + std::to_string(i);
    patch_release("echo", {{"spec", {{"model", model(version)}}}});
    mr = wait_active(version);
    const std::string current = mr["status"]["activeRevision"];
    ASSERT_NE(current, previous);
    wait_pods_gone(previous);

    const auto history = watcher_->active_history();
    const auto seen = watcher_->active_seen_at();
    ASSERT_FALSE(history.empty());
    ASSERT_EQ(history.back(), current);
    const auto settled = seen.back() + std::chrono::seconds(kScaleDownDelay);
    // Requests sent from then on have all been answered by now (2 s timeout).
    prober->wait_for_answer_after(system_clock::now() + 2500ms, 10s);
    std::size_t after = 0;
    for (const auto& s : prober->samples_between(settled)) {
      ++after;
      EXPECT_TRUE(s.ok()) << "switch " << i << ": " << s.error;
      EXPECT_EQ(s.revision, current) << "switch " << i << ": an old revision answered after it";
    }
    EXPECT_GT(after, 0u);
    // How long the old revision kept answering after the switch was seen:
    // the endpoint pipeline's lag (EndpointSlice controller, kube-proxy).
    auto last_old = seen.back();
    for (const auto& s : prober->samples_between(seen.back() - 2s)) {
      if (s.revision == previous) last_old = std::max(last_old, s.sent);
    }
    std::cout
        << "[figures] switch " << i << ": old revision answered until "
        << std::chrono::duration_cast<std::chrono::milliseconds>(last_old - seen.back()).count()
        << " ms after the switch was seen\n";
    previous = current;
  }
  prober->stop();
  const ProbeSummary summary = summarize(prober->samples());
  std::cout << "[figures] 5 switches under 50 req/s: " << summary.describe() << "\n";
  RecordProperty("requests", static_cast<int>(summary.requests));
  RecordProperty("failed", static_cast<int>(summary.failures));
  EXPECT_EQ(summary.failures, 0u) << summary.describe() << describe_failures(*prober);
  EXPECT_GE(watcher_->active_history().size(), 6u);
  expect_no_violations();
}

// A candidate whose real readiness probe never passes is aborted at the
// progress deadline; the old revision answers every request throughout.
TEST_F(RealTraffic, NeverReadyCandidateIsAbortedWhileTheOldRevisionServes) {
  watch("echo", kReplicas);
  apply_json(echo_release("v1", {{"progressDeadlineSeconds", 15}}));
  const std::string old_revision = wait_active("v1")["status"]["activeRevision"];
  auto prober = probe("echo");

  Json never_ready = echo_pod_template({{"ECHO_NEVER_READY", "1"}});
  patch_release("echo", {{"spec", {{"model", model("v2")}, {"template", never_ready}}}});
  const Json mr = wait_until_release(
      "echo", "Degraded by ProgressDeadlineExceeded",
      [](const Json& r) {
        return r.value("/status/phase"_json_pointer, "") == "Degraded" &&
               r.value("/status/message"_json_pointer, "").find("aborted") != std::string::npos;
      },
      90s);
  EXPECT_EQ(mr["status"]["activeRevision"], old_revision);
  EXPECT_TRUE(has_release_event("echo", "ProgressDeadlineExceeded"));
  prober->stop();

  const auto samples = prober->samples();
  const ProbeSummary summary = summarize(samples);
  std::cout << "[figures] never-ready candidate, until aborted: " << summary.describe() << "\n";
  EXPECT_EQ(summary.failures, 0u) << summary.describe();
  for (const auto& [revision, count] : answers_by_revision(samples)) {
    EXPECT_EQ(revision, old_revision) << count << " answers from " << revision;
  }
  expect_no_violations();
}

// A serving pod of the active revision deleted under load: the requests
// kube-proxy still sends it until its endpoint is removed fail (reported,
// not hidden), the active revision never changes, and the release is Healthy
// again once the Deployment has replaced the pod.
TEST_F(RealTraffic, ActivePodDeletedUnderLoadIsReplacedWithoutASwitch) {
  apply_json(echo_release("v1"));
  const std::string active = wait_active("v1")["status"]["activeRevision"];
  auto prober = probe("echo");
  const auto pods = list_json("pods", ns_.name(), "cd4ml.io/revision=" + active);
  ASSERT_EQ(pods.size(), static_cast<std::size_t>(kReplicas));
  const std::string victim = pods[0]["metadata"]["name"];

  const auto deleted_at = system_clock::now();
  kubectl_ok({"delete", "pod", victim, "-n", ns_.name(), "--wait=false"});
  wait_until("a replacement pod Ready", 60s, [&] {
    int ready = 0;
    for (const auto& p : list_json("pods", ns_.name(), "cd4ml.io/revision=" + active)) {
      if (p["metadata"]["name"] == victim || p["metadata"].contains("deletionTimestamp")) continue;
      for (const auto& c : p.value("/status/conditions"_json_pointer, Json::array())) {
        if (c.value("type", "") == "Ready" && c.value("status", "") == "True") ++ready;
      }
    }
    return ready == kReplicas;
  });
  const Json mr = wait_active("v1");
  EXPECT_EQ(mr["status"]["activeRevision"], active) << "a lost pod must not move traffic";
  prober->wait_for_answer_after(system_clock::now() + 2500ms, 10s);
  prober->stop();

  const auto samples = prober->samples_between(deleted_at);
  const ProbeSummary summary = summarize(samples);
  std::cout << "[figures] one of " << kReplicas
            << " active pods deleted (no drain in the server): " << summary.describe() << "\n";
  RecordProperty("failed_after_pod_deletion", static_cast<int>(summary.failures));
  for (const auto& [revision, count] : answers_by_revision(samples)) {
    EXPECT_EQ(revision, active) << count << " answers from " << revision;
  }
  // Everything after the replacement is in place is answered.
  for (const auto& s : prober->samples_between(system_clock::now() - 2s)) {
    EXPECT_TRUE(s.ok()) << s.error;
  }
}

// Preview first: with autoPromotion off, the preview Service answers from
// the candidate as soon as it has a ready pod (and from the active revision
// before that), while the active Service keeps answering from the old one;
// promotion then moves the active Service. No request fails on either.
TEST_F(RealTraffic, PreviewAnswersFromTheCandidateOnceItHasAReadyPod) {
  watch("echo", kReplicas);
  apply_json(echo_release("v1"));
  const std::string old_revision = wait_active("v1")["status"]["activeRevision"];
  auto active = probe("echo");
  auto preview = probe("echo-preview");

  // A candidate that takes 3 s to become ready after its server starts, to
  // be promoted by hand.
  patch_release(
      "echo",
      {{"spec",
        {{"model", model("v2")},
         {"template", echo_pod_template({{"ECHO_READY_DELAY", "3"}})},
         {"strategy", {{"blueGreen", {{"autoPromotion", false}, {"previewReplicas", 1}}}}}}}});
  const Json awaiting = wait_until_release(
      "echo", "AwaitingPromotion",
      [](const Json& r) {
        return r.value("/status/phase"_json_pointer, "") == "AwaitingPromotion";
      },
      90s);
  const std::string candidate = awaiting["status"]["previewRevision"];
  ASSERT_FALSE(candidate.empty());

  // When the candidate's pod became Ready, as the kubelet reported it.
  std::string ready_at;
  for (const auto& p : list_json("pods", ns_.name(), "cd4ml.io/revision=" + candidate)) {
    for (const auto& c : p.value("/status/conditions"_json_pointer, Json::array())) {
      if (c.value("type", "") == "Ready" && c.value("status", "") == "True") {
        ready_at = c.value("lastTransitionTime", "");
      }
    }
  }
  ASSERT_FALSE(ready_at.empty());
  ASSERT_TRUE(preview->wait_for_answer_after(system_clock::now(), 10s));
  wait_until("the preview Service to answer from the candidate", 30s, [&] {
    const auto recent = preview->samples_between(system_clock::now() - 1s);
    return !recent.empty() && recent.back().revision == candidate;
  });
  system_clock::time_point first_candidate_answer = system_clock::time_point::max();
  for (const auto& s : preview->samples()) {
    if (s.revision == candidate) {
      first_candidate_answer = std::min(first_candidate_answer, s.sent);
    }
  }
  const auto ready_time = api::parse_rfc3339(ready_at).value_or(system_clock::time_point{});
  std::cout << "[figures] candidate pod Ready (" << ready_at
            << ", whole seconds) -> first answer through the preview Service: "
            << std::chrono::duration_cast<std::chrono::milliseconds>(first_candidate_answer -
                                                                     ready_time)
                   .count()
            << " ms (+/- 1 s)\n";
  EXPECT_GE(first_candidate_answer + 1s, ready_time) << "an unready candidate answered";
  for (const auto& [revision, count] : answers_by_revision(active->samples())) {
    EXPECT_EQ(revision, old_revision) << "the active Service answered from " << revision
                                      << " before promotion (" << count << " times)";
  }

  kubectl_ok({"annotate", "mr", "echo", "-n", ns_.name(), "cd4ml.io/promote=" + candidate});
  const Json mr = wait_active("v2");
  EXPECT_EQ(mr["status"]["activeRevision"], candidate);
  active->wait_for_answer_after(system_clock::now() + 2500ms, 10s);
  active->stop();
  preview->stop();
  const ProbeSummary a = summarize(active->samples());
  const ProbeSummary p = summarize(preview->samples());
  std::cout << "[figures] active Service: " << a.describe()
            << "\n[figures] preview Service: " << p.describe() << "\n";
  EXPECT_EQ(a.failures, 0u) << a.describe();
  EXPECT_EQ(p.failures, 0u) << p.describe();
  expect_no_violations();
}

}  // namespace
}  // namespace cd4ml::e2e
