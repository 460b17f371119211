#include "operator/controllers/pod_trouble.hpp"

#include <gtest/gtest.h>

namespace cd4ml::controllers {
namespace {

Json pod(const std::string& name, const Json& status) {
  return {{"metadata", {{"name", name}, {"namespace", "ml"}}}, {"status", status}};
}

Json waiting(const std::string& container, const std::string& reason, const std::string& message) {
  return {{"name", container},
          {"state", {{"waiting", {{"reason", reason}, {"message", message}}}}}};
}

std::optional<PodTrouble> trouble(const std::vector<Json>& pods) {
  std::vector<const Json*> ptrs;
  for (const auto& p : pods) ptrs.push_back(&p);
  return find_pod_trouble(ptrs);
}

TEST(PodTrouble, ImageThatCannotBePulledIsNamedWithTheKubeletsWords) {
  const auto t = trouble({pod(
      "p", {{"containerStatuses", Json::array({waiting("server", "ErrImageNeverPull",
                                                       "Container image \"x:1\" is not "
                                                       "present with pull policy of Never")})}})});
  ASSERT_TRUE(t);
  EXPECT_EQ(t->describe(),
            "pod p: container server: ErrImageNeverPull: Container image \"x:1\" is not present "
            "with pull policy of Never");
  EXPECT_EQ(t->key(), "pod p: container server: ErrImageNeverPull");
}

TEST(PodTrouble, StartingNormallyRunningAndDeletedPodsAreNoTrouble) {
  Json deleted = pod("a", {{"containerStatuses",
                            Json::array({waiting("server", "ImagePullBackOff", "back-off")})}});
  deleted["metadata"]["deletionTimestamp"] = "2026-12-04T10:00:00Z";
  const auto t = trouble(
      {deleted,
       pod("b", {{"containerStatuses", Json::array({waiting("server", "ContainerCreating", "")})}}),
       pod("c", {{"initContainerStatuses", Json::array({waiting("init", "PodInitializing", "")})}}),
       pod("d", {{"containerStatuses",
                  Json::array({{{"name", "server"}, {"state", {{"running", Json::object()}}}}})}}),
       pod("e", Json::object())});
  EXPECT_FALSE(t);
}

TEST(PodTrouble, CrashLoopSaysHowTheLastRunEnded) {
  Json status = waiting("server", "CrashLoopBackOff", "back-off 40s restarting failed container");
  status["restartCount"] = 4;
  status["lastState"] = {
      {"terminated", {{"exitCode", 1}, {"reason", "Error"}, {"message", "digest mismatch"}}}};
  const auto t = trouble({pod("p", {{"containerStatuses", Json::array({status})}})});
  ASSERT_TRUE(t);
  EXPECT_EQ(t->describe(),
            "pod p: container server: CrashLoopBackOff: exited with code 1 (Error): digest "
            "mismatch, restarted 4 times");
}

TEST(PodTrouble, ACrashLoopStaysOneBetweenItsBackOffs) {
  Json status = {
      {"name", "server"},
      {"ready", false},
      {"restartCount", 2},
      {"state", {{"running", {{"startedAt", "2026-12-04T10:00:00Z"}}}}},
      {"lastState", {{"terminated", {{"exitCode", 1}, {"message", "digest mismatch"}}}}}};
  auto t = trouble({pod("p", {{"containerStatuses", Json::array({status})}})});
  ASSERT_TRUE(t);
  EXPECT_EQ(t->key(), "pod p: container server: CrashLoopBackOff");
  EXPECT_EQ(t->message, "exited with code 1: digest mismatch, restarted 2 times");

  // Ready again, or a clean exit before: no longer a loop.
  status["ready"] = true;
  EXPECT_FALSE(trouble({pod("p", {{"containerStatuses", Json::array({status})}})}));
  status["ready"] = false;
  status["lastState"]["terminated"]["exitCode"] = 0;
  EXPECT_FALSE(trouble({pod("p", {{"containerStatuses", Json::array({status})}})}));
}

TEST(PodTrouble, UnschedulableAndInitContainersCount) {
  const auto unschedulable = trouble(
      {pod("p", {{"conditions", Json::array({{{"type", "PodScheduled"},
                                              {"status", "False"},
                                              {"reason", "Unschedulable"},
                                              {"message", "0/3 nodes are available"}}})}})});
  ASSERT_TRUE(unschedulable);
  EXPECT_EQ(unschedulable->describe(), "pod p: Unschedulable: 0/3 nodes are available");

  const auto init = trouble({pod(
      "p", {{"initContainerStatuses", Json::array({waiting("fetch", "ErrImagePull", "denied")})},
            {"containerStatuses", Json::array({waiting("server", "PodInitializing", "")})}})});
  ASSERT_TRUE(init);
  EXPECT_EQ(init->describe(), "pod p: container fetch: ErrImagePull: denied");
}

TEST(PodTrouble, TheFirstPodByNameIsChosenAndLongMessagesAreCut) {
  const auto t = trouble(
      {pod("z", {{"containerStatuses", Json::array({waiting("s", "ErrImagePull", "z")})}}),
       pod("a", {{"containerStatuses",
                  Json::array({waiting("s", "CreateContainerError", std::string(1000, 'x'))})}})});
  ASSERT_TRUE(t);
  EXPECT_EQ(t->pod, "a");
  EXPECT_LT(t->describe().size(), 300u);
  EXPECT_EQ(t->message.substr(t->message.size() - 3), "...");
}

}  // namespace
}  // namespace cd4ml::controllers
