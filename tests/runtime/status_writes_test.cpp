#include "operator/runtime/status_writes.hpp"

#include <gtest/gtest.h>

namespace cd4ml::runtime {
namespace {

Json object(const std::string& rv, const std::string& uid = "u1", Json status = Json::object()) {
  return {{"metadata", {{"namespace", "ns"}, {"name", "r"}, {"uid", uid}, {"resourceVersion", rv}}},
          {"status", std::move(status)}};
}

const Json kRunning = {{"phase", "Running"}};
const Json kSucceeded = {{"phase", "Succeeded"}};

TEST(StatusWriteMemo, FirstWriteUsesTheCachedResourceVersion) {
  StatusWriteMemo memo;
  const auto d = memo.decide(object("10"), kRunning);
  EXPECT_TRUE(d.send);
  EXPECT_EQ(d.resource_version, "");
}

TEST(StatusWriteMemo, SameStatusOnAStaleCacheIsNotSentAgain) {
  StatusWriteMemo memo;
  memo.written(object("10"), kRunning, object("11"));
  const auto d = memo.decide(object("10"), kRunning);
  EXPECT_FALSE(d.send);
}

TEST(StatusWriteMemo, NewStatusOnAStaleCacheGoesOnTopOfOurOwnWrite) {
  StatusWriteMemo memo;
  memo.written(object("10"), kRunning, object("11"));
  const auto d = memo.decide(object("10"), kSucceeded);
  EXPECT_TRUE(d.send);
  EXPECT_EQ(d.resource_version, "11");
}

TEST(StatusWriteMemo, CacheThatCaughtUpIsTheTruthAgain) {
  StatusWriteMemo memo;
  memo.written(object("10"), kRunning, object("11"));
  // The cache shows our write: the same status is already there, the plan
  // would not ask for a write; a different one is sent on the cached version.
  const auto d = memo.decide(object("11", "u1", kRunning), kSucceeded);
  EXPECT_TRUE(d.send);
  EXPECT_EQ(d.resource_version, "");
  EXPECT_EQ(memo.size(), 0u);
}

TEST(StatusWriteMemo, SomeoneElsesChangeMakesTheMemoStale) {
  StatusWriteMemo memo;
  memo.written(object("10"), kRunning, object("11"));
  // Someone changed the spec after our write: the cache is past our base.
  const auto d = memo.decide(object("12"), kRunning);
  EXPECT_TRUE(d.send);
  EXPECT_EQ(d.resource_version, "");
}

TEST(StatusWriteMemo, RecreatedObjectOfTheSameNameStartsAfresh) {
  StatusWriteMemo memo;
  memo.written(object("10", "u1"), kRunning, object("11", "u1"));
  const auto d = memo.decide(object("10", "u2"), kRunning);
  EXPECT_TRUE(d.send);
  EXPECT_EQ(d.resource_version, "");
}

TEST(StatusWriteMemo, ForgetDropsTheEntry) {
  StatusWriteMemo memo;
  memo.written(object("10"), kRunning, object("11"));
  memo.forget("ns/r");
  EXPECT_EQ(memo.size(), 0u);
  EXPECT_TRUE(memo.decide(object("10"), kRunning).send);
}

TEST(StatusWriteMemo, ResponseWithoutResourceVersionIsNotRemembered) {
  StatusWriteMemo memo;
  memo.written(object("10"), kRunning, Json::object());
  EXPECT_EQ(memo.size(), 0u);
}

}  // namespace
}  // namespace cd4ml::runtime
