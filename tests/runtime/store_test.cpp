#include "operator/runtime/store.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <thread>

namespace cd4ml::runtime {
namespace {

ObjectPtr make(const std::string& ns, const std::string& name, const std::string& rv,
               Json labels = Json::object(), Json owners = Json::array()) {
  Json object = {{"apiVersion", "v1"},
                 {"kind", "ConfigMap"},
                 {"metadata", {{"name", name}, {"resourceVersion", rv}, {"labels", labels}}}};
  if (!ns.empty()) object["metadata"]["namespace"] = ns;
  if (!owners.empty()) object["metadata"]["ownerReferences"] = owners;
  return std::make_shared<const Json>(std::move(object));
}

std::vector<std::string> names(std::vector<ObjectPtr> objects) {
  std::vector<std::string> out;
  for (const auto& object : objects) out.push_back(object_key(*object));
  std::sort(out.begin(), out.end());
  return out;
}

TEST(ObjectKey, NamespacedAndClusterScoped) {
  EXPECT_EQ(object_key(*make("ml", "a", "1")), "ml/a");
  EXPECT_EQ(object_key(*make("", "node-1", "1")), "node-1");
  EXPECT_EQ(object_key("ns", "n"), "ns/n");
  EXPECT_EQ(object_key("", "n"), "n");
}

TEST(Store, UpsertGetEraseReturnPreviousObject) {
  Store store;
  EXPECT_EQ(store.upsert(make("ml", "a", "1")), nullptr);
  const auto previous = store.upsert(make("ml", "a", "2"));
  ASSERT_NE(previous, nullptr);
  EXPECT_EQ((*previous)["metadata"]["resourceVersion"], "1");
  EXPECT_EQ((*store.get("ml", "a"))["metadata"]["resourceVersion"], "2");
  EXPECT_EQ(store.get("ml/a"), store.get("ml", "a"));
  EXPECT_EQ(store.get("other", "a"), nullptr);
  EXPECT_EQ(store.size(), 1u);

  const auto erased = store.erase("ml/a");
  ASSERT_NE(erased, nullptr);
  EXPECT_EQ((*erased)["metadata"]["resourceVersion"], "2");
  EXPECT_EQ(store.erase("ml/a"), nullptr);
  EXPECT_EQ(store.size(), 0u);
}

TEST(Store, ReadersKeepTheirSnapshotWhenTheObjectIsReplaced) {
  Store store;
  store.upsert(make("ml", "a", "1"));
  const ObjectPtr held = store.get("ml/a");
  store.upsert(make("ml", "a", "2"));
  EXPECT_EQ((*held)["metadata"]["resourceVersion"], "1");
}

TEST(Store, ListsByNamespace) {
  Store store;
  store.upsert(make("ml", "a", "1"));
  store.upsert(make("ml", "b", "1"));
  store.upsert(make("prod", "a", "1"));
  EXPECT_EQ(names(store.list()), (std::vector<std::string>{"ml/a", "ml/b", "prod/a"}));
  EXPECT_EQ(names(store.list("ml")), (std::vector<std::string>{"ml/a", "ml/b"}));
  EXPECT_EQ(names(store.list("none")), std::vector<std::string>{});
}

TEST(Store, LabelIndexFollowsLabelChanges) {
  Store store;
  store.upsert(make("ml", "a", "1", {{"app", "web"}, {"tier", "front"}}));
  store.upsert(make("prod", "b", "1", {{"app", "web"}}));
  store.upsert(make("ml", "c", "1", {{"app", "db"}}));
  EXPECT_EQ(names(store.by_label("app", "web")), (std::vector<std::string>{"ml/a", "prod/b"}));
  EXPECT_EQ(names(store.by_label("app", "web", "ml")), (std::vector<std::string>{"ml/a"}));
  EXPECT_EQ(names(store.by_index(indexes::kLabel, "tier=front")),
            (std::vector<std::string>{"ml/a"}));

  // Relabel a: it leaves app=web and joins app=db.
  store.upsert(make("ml", "a", "2", {{"app", "db"}}));
  EXPECT_EQ(names(store.by_label("app", "web")), (std::vector<std::string>{"prod/b"}));
  EXPECT_EQ(names(store.by_label("app", "db")), (std::vector<std::string>{"ml/a", "ml/c"}));
  EXPECT_TRUE(store.by_label("tier", "front").empty());

  store.erase("ml/c");
  EXPECT_EQ(names(store.by_label("app", "db")), (std::vector<std::string>{"ml/a"}));
}

TEST(Store, ControllerOwnerIndexUsesOnlyTheControllerReference) {
  Store store;
  const Json owners = Json::array({
      {{"kind", "Other"}, {"name", "x"}, {"uid", "uid-other"}},
      {{"kind", "TrainingRun"}, {"name", "r1"}, {"uid", "uid-r1"}, {"controller", true}},
  });
  store.upsert(make("ml", "job-1", "1", Json::object(), owners));
  store.upsert(make("ml", "job-2", "1"));
  EXPECT_EQ(names(store.by_controller_owner("uid-r1")), (std::vector<std::string>{"ml/job-1"}));
  EXPECT_TRUE(store.by_controller_owner("uid-other").empty());

  // Orphaned: the owner reference is gone.
  store.upsert(make("ml", "job-1", "2"));
  EXPECT_TRUE(store.by_controller_owner("uid-r1").empty());
}

TEST(Store, CustomIndexIncludingObjectsStoredBeforeItWasAdded) {
  Store store;
  store.upsert(make("ml", "a", "1", {{"model", "m1"}}));
  store.add_index("model", [](const Json& object) -> std::vector<std::string> {
    const auto& labels = object["metadata"]["labels"];
    if (!labels.contains("model")) return {};
    return {labels["model"].get<std::string>()};
  });
  store.upsert(make("ml", "b", "1", {{"model", "m1"}}));
  store.upsert(make("ml", "c", "1", {{"model", "m2"}}));
  EXPECT_EQ(names(store.by_index("model", "m1")), (std::vector<std::string>{"ml/a", "ml/b"}));
  EXPECT_EQ(names(store.by_index("model", "m2")), (std::vector<std::string>{"ml/c"}));
  EXPECT_THROW(store.by_index("no-such-index", "x"), std::invalid_argument);
  EXPECT_THROW(store.add_index("model", [](const Json&) { return std::vector<std::string>{}; }),
               std::invalid_argument);
}

TEST(Store, ReplaceReportsAddedUpdatedAndDeletedByResourceVersion) {
  Store store;
  store.upsert(make("ml", "same", "5"));
  store.upsert(make("ml", "changed", "5"));
  store.upsert(make("ml", "gone", "5", {{"app", "web"}}));

  const auto delta = store.replace({make("ml", "same", "5"), make("ml", "changed", "9"),
                                    make("ml", "new", "9", {{"app", "web"}})});
  EXPECT_EQ(names(delta.added), (std::vector<std::string>{"ml/new"}));
  ASSERT_EQ(delta.updated.size(), 1u);
  EXPECT_EQ((*delta.updated[0].first)["metadata"]["resourceVersion"], "5");
  EXPECT_EQ((*delta.updated[0].second)["metadata"]["resourceVersion"], "9");
  EXPECT_EQ(names(delta.deleted), (std::vector<std::string>{"ml/gone"}));

  EXPECT_EQ(names(store.list()), (std::vector<std::string>{"ml/changed", "ml/new", "ml/same"}));
  // Indexes are rebuilt: the deleted object no longer shows up under its label.
  EXPECT_EQ(names(store.by_label("app", "web")), (std::vector<std::string>{"ml/new"}));
}

TEST(Store, ReplaceWithNothingDeletesEverything) {
  Store store;
  store.upsert(make("ml", "a", "1"));
  store.upsert(make("ml", "b", "1"));
  const auto delta = store.replace({});
  EXPECT_TRUE(delta.added.empty());
  EXPECT_TRUE(delta.updated.empty());
  EXPECT_EQ(names(delta.deleted), (std::vector<std::string>{"ml/a", "ml/b"}));
  EXPECT_EQ(store.size(), 0u);
  EXPECT_TRUE(store.list("ml").empty());
}

TEST(Store, ConcurrentReadersAndWriterSeeConsistentIndexes) {
  Store store;
  std::atomic<bool> done{false};
  std::atomic<long> inconsistencies{0};
  std::thread reader([&] {
    while (!done) {
      // Every object found under a label must carry that label.
      for (const auto& object : store.by_label("app", "web")) {
        if ((*object)["metadata"]["labels"].value("app", "") != "web") ++inconsistencies;
      }
      store.list("ml");
    }
  });
  for (int i = 0; i < 2000; ++i) {
    const std::string rv = std::to_string(i);
    store.upsert(
        make("ml", "obj-" + std::to_string(i % 50), rv, {{"app", i % 2 == 0 ? "web" : "db"}}));
    if (i % 7 == 0) store.erase("ml/obj-" + std::to_string(i % 50));
  }
  done = true;
  reader.join();
  EXPECT_EQ(inconsistencies.load(), 0);
}

}  // namespace
}  // namespace cd4ml::runtime
