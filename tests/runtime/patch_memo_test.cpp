#include "operator/runtime/patch_memo.hpp"

#include <gtest/gtest.h>

namespace cd4ml::runtime {
namespace {

using namespace std::chrono_literals;

Json service(const std::string& rv, const std::string& uid = "u1") {
  return {{"metadata",
           {{"namespace", "ns"}, {"name", "churn"}, {"uid", uid}, {"resourceVersion", rv}}}};
}

Json select(const std::string& revision) {
  return {{"spec", {{"selector", {{"cd4ml.io/revision", revision}}}}}};
}

TEST(PatchMemo, NothingSentNothingUnseen) {
  util::ManualClock clock;
  PatchMemo memo(clock);
  EXPECT_FALSE(memo.unseen(service("10")));
}

TEST(PatchMemo, CacheBehindOurPatchIsShownWithIt) {
  util::ManualClock clock;
  PatchMemo memo(clock);
  memo.sent(service("10"), select("b"), service("11"));
  EXPECT_EQ(memo.unseen(service("10")), select("b"));
  EXPECT_EQ(memo.unseen(service("10")), select("b")) << "until the cache catches up";
}

TEST(PatchMemo, CacheThatCaughtUpIsTheTruthAgain) {
  util::ManualClock clock;
  PatchMemo memo(clock);
  memo.sent(service("10"), select("b"), service("11"));
  // Someone may have changed the selector since: the cache decides.
  EXPECT_FALSE(memo.unseen(service("11")));
  EXPECT_EQ(memo.size(), 0u);
  EXPECT_FALSE(memo.unseen(service("10"))) << "an old copy again (relist) has nothing to add";
}

TEST(PatchMemo, PatchesOnTheSameOldCopyCombine) {
  util::ManualClock clock;
  PatchMemo memo(clock);
  memo.sent(service("10"), select("b"), service("11"));
  Json ports = {{"spec", {{"ports", Json::array({{{"port", 80}}})}}}};
  memo.sent(service("10"), ports, service("12"));
  Json both = select("b");
  both["spec"]["ports"] = ports["spec"]["ports"];
  EXPECT_EQ(memo.unseen(service("10")), both);
  memo.sent(service("10"), select("c"), service("13"));
  EXPECT_EQ(memo.unseen(service("10")).value()["spec"]["selector"]["cd4ml.io/revision"], "c");
}

TEST(PatchMemo, BehindForCountsFromTheFirstUnseenPatch) {
  util::ManualClock clock;
  PatchMemo memo(clock);
  EXPECT_FALSE(memo.behind_for(service("10")));
  memo.sent(service("10"), select("b"), service("11"));
  clock.advance(300ms);
  memo.sent(service("10"), select("c"), service("12"));  // on the same old copy
  clock.advance(200ms);
  EXPECT_EQ(memo.behind_for(service("10")), 500ms);
  EXPECT_FALSE(memo.behind_for(service("12"))) << "caught up";
  EXPECT_FALSE(memo.behind_for(service("10"))) << "and the entry is gone";
}

TEST(PatchMemo, PatchThatChangedNothingIsNotRemembered) {
  util::ManualClock clock;
  PatchMemo memo(clock);
  memo.sent(service("10"), select("b"), service("10"));
  EXPECT_EQ(memo.size(), 0u);
  EXPECT_FALSE(memo.unseen(service("10")));
}

TEST(PatchMemo, ResponseWithoutAResourceVersionIsNotRemembered) {
  util::ManualClock clock;
  PatchMemo memo(clock);
  memo.sent(service("10"), select("b"), Json::object());
  EXPECT_EQ(memo.size(), 0u);
  EXPECT_FALSE(memo.unseen(service("10")));
}

TEST(PatchMemo, ForgetDropsTheEntry) {
  util::ManualClock clock;
  PatchMemo memo(clock);
  memo.sent(service("10"), select("b"), service("11"));
  memo.forget("ns/churn");
  EXPECT_EQ(memo.size(), 0u);
  EXPECT_FALSE(memo.unseen(service("10")));
}

TEST(PatchMemo, OtherObjectsAreNotHeldBack) {
  util::ManualClock clock;
  PatchMemo memo(clock);
  memo.sent(service("10"), select("b"), service("11"));
  Json other = service("10");
  other["metadata"]["name"] = "churn-preview";
  EXPECT_FALSE(memo.unseen(other));
}

TEST(PatchMemo, RecreatedObjectOfTheSameNameStartsAfresh) {
  util::ManualClock clock;
  PatchMemo memo(clock);
  memo.sent(service("10", "u1"), select("b"), service("11", "u1"));
  EXPECT_FALSE(memo.unseen(service("10", "u2")));
  EXPECT_EQ(memo.size(), 0u);
}

}  // namespace
}  // namespace cd4ml::runtime
