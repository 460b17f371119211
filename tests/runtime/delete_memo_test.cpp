#include "operator/runtime/delete_memo.hpp"

#include <gtest/gtest.h>

namespace cd4ml::runtime {
namespace {

Json deployment(const std::string& name, const std::string& uid) {
  return {{"metadata", {{"namespace", "ns"}, {"name", name}, {"uid", uid}}}};
}

using Names = std::vector<std::string>;

// Names of the objects the owner's plan gets to see out of `cached`.
Names visible(DeleteMemo& memo, const std::string& owner, std::vector<Json> cached) {
  memo.hide_deleted(owner, cached);
  Names out;
  for (const auto& o : cached) out.push_back(o["metadata"]["name"]);
  return out;
}

TEST(DeleteMemo, NothingDeletedHidesNothing) {
  DeleteMemo memo;
  EXPECT_EQ(visible(memo, "ns/release", {deployment("a", "u1"), deployment("b", "u2")}),
            (Names{"a", "b"}));
}

TEST(DeleteMemo, DeletedObjectIsHiddenWhileTheCacheStillShowsIt) {
  DeleteMemo memo;
  memo.sent("ns/release", deployment("a", "u1"));
  for (int round = 0; round < 2; ++round) {
    EXPECT_EQ(visible(memo, "ns/release", {deployment("a", "u1"), deployment("b", "u2")}),
              Names{"b"})
        << "round " << round;
  }
  EXPECT_EQ(memo.size(), 1u);
}

TEST(DeleteMemo, CacheThatCaughtUpDropsTheEntry) {
  DeleteMemo memo;
  memo.sent("ns/release", deployment("a", "u1"));
  EXPECT_EQ(visible(memo, "ns/release", {deployment("b", "u2")}), Names{"b"});
  EXPECT_EQ(memo.size(), 0u);
  // Recreated later under the same name (a rollback to a pruned revision): a
  // new object, planned from as usual.
  EXPECT_EQ(visible(memo, "ns/release", {deployment("a", "u3"), deployment("b", "u2")}),
            (Names{"a", "b"}));
}

TEST(DeleteMemo, SameNameWithAnotherUidIsNotHidden) {
  DeleteMemo memo;
  memo.sent("ns/release", deployment("a", "u1"));
  EXPECT_EQ(visible(memo, "ns/release", {deployment("a", "u3")}), Names{"a"});
}

TEST(DeleteMemo, OwnersAreKeptApart) {
  DeleteMemo memo;
  memo.sent("ns/one", deployment("a", "u1"));
  EXPECT_EQ(visible(memo, "ns/two", {deployment("a", "u1")}), Names{"a"});
  EXPECT_EQ(memo.size(), 1u) << "another owner's view says nothing about this one's";
  memo.forget("ns/one");
  EXPECT_EQ(memo.size(), 0u);
}

TEST(DeleteMemo, ObjectWithoutUidIsNotRemembered) {
  DeleteMemo memo;
  memo.sent("ns/release", Json{{"metadata", {{"name", "a"}}}});
  EXPECT_EQ(memo.size(), 0u);
}

}  // namespace
}  // namespace cd4ml::runtime
