// Candidates whose pods cannot start on the real node: the release's status
// and Events give the kubelet's own reason (not just "not available"), the
// abort at the progress deadline carries it, and the active revision keeps
// serving. The kubelet, containerd and runc produce these reasons; nothing
// here is simulated.

#include <gtest/gtest.h>

#include <iostream>
#include <string>
#include <vector>

#include "modelrelease_fixture.hpp"
#include "operator/api/conditions.hpp"
#include "real_node.hpp"
#include "samples.hpp"

namespace cd4ml::e2e {
namespace {

constexpr int kDeadlineSeconds = 25;

class PodFailures : public EchoReleaseFixture {
 protected:
  static Json model(const std::string& version) {
    return {{"uri", "file:///models/echo/" + version}, {"version", version}};
  }

  std::string release_v1() {
    Json mr = sample_release(ns_.name(), "echo", model("v1"), 1);
    mr["spec"]["template"] = echo_pod_template();
    mr["spec"]["progressDeadlineSeconds"] = kDeadlineSeconds;
    apply_json(mr);
    const Json healthy = wait_until_release(
        "echo", "v1 Healthy",
        [](const Json& r) { return r.value("/status/phase"_json_pointer, "") == "Healthy"; }, 120s);
    return healthy["status"]["activeRevision"];
  }

  // Rolls out v2 with `container` merged into the echo server's container,
  // then checks what a user reading the release sees: first the kubelet's
  // reason (one of `reasons`) and `detail` while the candidate waits, then
  // the abort that names them.
  void expect_reason_then_abort(const Json& container, const std::vector<std::string>& reasons,
                                const std::string& detail) {
    const std::string active = release_v1();
    Json t = echo_pod_template();
    t["spec"]["containers"][0].merge_patch(container);
    patch_release("echo", {{"spec", {{"model", model("v2")}, {"template", t}}}});

    const Json waiting = wait_until_release(
        "echo", "status naming " + detail,
        [&](const Json& r) {
          const std::string m = r.value("/status/message"_json_pointer, "");
          return m.find("is not starting") != std::string::npos &&
                 m.find(detail) != std::string::npos;
        },
        60s);
    const std::string message = waiting["status"]["message"];
    EXPECT_EQ(waiting["status"]["phase"], "Progressing") << message;
    EXPECT_NE(message.find("is not starting: pod echo-"), std::string::npos) << message;
    EXPECT_NE(message.find("serving revision " + active), std::string::npos) << message;
    bool named = false;
    for (const auto& reason : reasons) named |= message.find(reason) != std::string::npos;
    EXPECT_TRUE(named) << message;
    const Json* c = api::find_condition(waiting["status"]["conditions"], "Reconciling");
    ASSERT_NE(c, nullptr);
    EXPECT_EQ(c->value("reason", ""), "CandidatePodFailing");
    EXPECT_TRUE(has_event_saying("CandidatePodFailing", detail));

    const Json aborted = wait_until_release(
        "echo", "Degraded by the progress deadline",
        [](const Json& r) { return r.value("/status/phase"_json_pointer, "") == "Degraded"; },
        std::chrono::seconds(kDeadlineSeconds + 60));
    EXPECT_EQ(aborted["status"]["activeRevision"], active);
    const Json& record = aborted["status"]["revisions"].back();
    EXPECT_EQ(record["state"], "Aborted");
    EXPECT_EQ(record["reason"], "ProgressDeadlineExceeded");
    EXPECT_NE(record.value("message", "").find(detail), std::string::npos) << record;
    EXPECT_TRUE(has_event_saying("ProgressDeadlineExceeded", detail));
    std::cout << "[figures] aborted: " << record.value("message", "") << "\n";
  }

  bool has_event_saying(const std::string& event_reason, const std::string& words) {
    bool found = false;
    wait_until("Event " + event_reason + " saying " + words, 30s, [&] {
      for (const auto& e : list_json("events", ns_.name())) {
        if (e["involvedObject"].value("name", "") == "echo" &&
            e.value("reason", "") == event_reason &&
            e.value("message", "").find(words) != std::string::npos) {
          found = true;
        }
      }
      return found;
    });
    return found;
  }
};

TEST_F(PodFailures, MissingImageIsNamedByTheKubeletsReasonAndAborted) {
  expect_reason_then_abort({{"image", "cd4ml.local/no-such-image:0"}, {"imagePullPolicy", "Never"}},
                           {"ErrImageNeverPull"}, "cd4ml.local/no-such-image:0");
}

TEST_F(PodFailures, CommandThatCannotRunIsNamedWithItsLastExitAndAborted) {
  // runc cannot exec it: the container ends with StartError (exit 128) and
  // the kubelet backs off restarting it.
  expect_reason_then_abort({{"command", Json::array({"/no/such/server"})}},
                           {"CrashLoopBackOff", "RunContainerError", "StartError"},
                           "/no/such/server");
}

}  // namespace
}  // namespace cd4ml::e2e
