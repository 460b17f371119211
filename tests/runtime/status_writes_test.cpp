#include "operator/runtime/status_writes.hpp"

#include <gtest/gtest.h>

namespace cd4ml::runtime {
namespace {

Json object(const std::string& rv, const std::string& uid = "u1") {
  return {
      {"metadata", {{"namespace", "ns"}, {"name", "r"}, {"uid", uid}, {"resourceVersion", rv}}}};
}

TEST(StatusWriteMemo, FirstWriteGoesAhead) {
  StatusWriteMemo memo;
  EXPECT_TRUE(memo.may_write(object("10")));
}

TEST(StatusWriteMemo, NothingIsWrittenFromACacheBehindOurOwnWrite) {
  StatusWriteMemo memo;
  memo.written(object("10"), object("11"));
  // Planned from the status our write replaced: stale memory, whatever it says.
  EXPECT_FALSE(memo.may_write(object("10")));
  EXPECT_FALSE(memo.may_write(object("10")));
}

TEST(StatusWriteMemo, CacheThatCaughtUpIsTheTruthAgain) {
  StatusWriteMemo memo;
  memo.written(object("10"), object("11"));
  EXPECT_TRUE(memo.may_write(object("11")));
  EXPECT_EQ(memo.size(), 0u);
}

TEST(StatusWriteMemo, RecreatedObjectOfTheSameNameStartsAfresh) {
  StatusWriteMemo memo;
  memo.written(object("10", "u1"), object("11", "u1"));
  EXPECT_TRUE(memo.may_write(object("10", "u2")));
}

TEST(StatusWriteMemo, ForgetDropsTheEntry) {
  StatusWriteMemo memo;
  memo.written(object("10"), object("11"));
  memo.forget("ns/r");
  EXPECT_EQ(memo.size(), 0u);
  EXPECT_TRUE(memo.may_write(object("10")));
}

// The server answers a write that changed nothing with the same
// resourceVersion and sends no watch event: waiting for one would wait forever.
TEST(StatusWriteMemo, WriteThatChangedNothingHoldsNothingBack) {
  StatusWriteMemo memo;
  memo.written(object("10"), object("10"));
  EXPECT_TRUE(memo.may_write(object("10")));
  memo.written(object("10"), Json::object());
  EXPECT_TRUE(memo.may_write(object("10")));
}

TEST(StatusWriteMemo, OtherObjectsAreNotHeldBack) {
  StatusWriteMemo memo;
  memo.written(object("10"), object("11"));
  Json other = object("10");
  other["metadata"]["name"] = "s";
  EXPECT_TRUE(memo.may_write(other));
}

}  // namespace
}  // namespace cd4ml::runtime
