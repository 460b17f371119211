#include "operator/runtime/informer_cache.hpp"

#include <gtest/gtest.h>

#include <map>

namespace cd4ml::runtime {
namespace {

Json config_map(const std::string& name, const std::string& rv, bool managed_fields = false) {
  Json object = {{"apiVersion", "v1"},
                 {"kind", "ConfigMap"},
                 {"metadata", {{"namespace", "ml"}, {"name", name}, {"resourceVersion", rv}}}};
  if (managed_fields) object["metadata"]["managedFields"] = Json::array({{{"manager", "kubectl"}}});
  return object;
}

std::string line(const std::string& type, const Json& object) {
  return Json{{"type", type}, {"object", object}}.dump();
}

// Records what handlers saw as "add:ml/a@1", "update:ml/a@1->2", "delete:ml/a@2".
struct Recorder {
  std::vector<std::string> seen;
  static std::string describe(const ObjectPtr& object) {
    return object_key(*object) + "@" + (*object)["metadata"].value("resourceVersion", "");
  }
  EventHandlers handlers() {
    return {[this](const ObjectPtr& o) { seen.push_back("add:" + describe(o)); },
            [this](const ObjectPtr& old_object, const ObjectPtr& o) {
              seen.push_back("update:" + describe(old_object) + "->" +
                             (*o)["metadata"].value("resourceVersion", ""));
            },
            [this](const ObjectPtr& o) { seen.push_back("delete:" + describe(o)); }};
  }
};

class CountingObserver : public InformerObserver {
 public:
  void on_relist(const std::string&) override {}
  void on_watch_restart(const std::string&) override {}
  void on_event(const std::string& resource, std::string_view type) override {
    ++events[resource + ":" + std::string(type)];
  }
  std::map<std::string, int> events;
};

TEST(InformerCache, FirstListIsDispatchedAsAddsAndMarksSynced) {
  InformerCache cache("configmaps", nullptr, nullptr);
  Recorder recorder;
  cache.add_handlers(recorder.handlers());
  cache.add_list_page({config_map("a", "1"), config_map("b", "1")}, true);
  EXPECT_FALSE(cache.synced());  // more pages may follow
  EXPECT_TRUE(recorder.seen.empty());
  cache.add_list_page({config_map("c", "1")}, false);
  cache.finish_list();
  EXPECT_TRUE(cache.synced());
  std::sort(recorder.seen.begin(), recorder.seen.end());
  EXPECT_EQ(recorder.seen, (std::vector<std::string>{"add:ml/a@1", "add:ml/b@1", "add:ml/c@1"}));
  EXPECT_EQ(cache.store().size(), 3u);
}

TEST(InformerCache, AListStartedOverForgetsTheEarlierPages) {
  InformerCache cache("configmaps", nullptr, nullptr);
  cache.add_list_page({config_map("stale", "1")}, true);
  cache.abandon_list();  // e.g. 410 on the continue token
  cache.add_list_page({config_map("a", "2")}, true);
  cache.finish_list();
  EXPECT_EQ(cache.store().size(), 1u);
  EXPECT_NE(cache.store().get("ml/a"), nullptr);
}

TEST(InformerCache, RelistDispatchesOnlyTheDifferencesIncludingMissedDeletes) {
  InformerCache cache("configmaps", nullptr, nullptr);
  Recorder recorder;
  cache.add_handlers(recorder.handlers());
  cache.add_list_page(
      {config_map("same", "1"), config_map("changed", "1"), config_map("gone", "1")}, true);
  cache.finish_list();
  recorder.seen.clear();

  cache.add_list_page({config_map("same", "1"), config_map("changed", "5"), config_map("new", "5")},
                      true);
  const auto delta = cache.finish_list();
  std::sort(recorder.seen.begin(), recorder.seen.end());
  EXPECT_EQ(recorder.seen, (std::vector<std::string>{"add:ml/new@5", "delete:ml/gone@1",
                                                     "update:ml/changed@1->5"}));
  EXPECT_EQ(delta.added.size(), 1u);
}

TEST(InformerCache, WatchLinesUpdateTheStoreAndCallHandlers) {
  CountingObserver observer;
  InformerCache cache("configmaps", nullptr, &observer);
  Recorder recorder;
  cache.add_handlers(recorder.handlers());
  cache.add_list_page({config_map("a", "1")}, true);
  cache.finish_list();
  recorder.seen.clear();

  auto outcome = cache.apply_line(line("ADDED", config_map("b", "2")));
  EXPECT_FALSE(outcome.error);
  EXPECT_EQ(outcome.resource_version, "2");
  outcome = cache.apply_line(line("MODIFIED", config_map("a", "3")));
  EXPECT_EQ(outcome.resource_version, "3");
  // ADDED for an object already held (a watch replaying) is an update.
  cache.apply_line(line("ADDED", config_map("a", "4")));
  outcome = cache.apply_line(line("DELETED", config_map("b", "5")));
  EXPECT_EQ(outcome.resource_version, "5");

  EXPECT_EQ(recorder.seen, (std::vector<std::string>{"add:ml/b@2", "update:ml/a@1->3",
                                                     "update:ml/a@3->4", "delete:ml/b@5"}));
  EXPECT_EQ(cache.store().size(), 1u);
  EXPECT_EQ((*cache.store().get("ml/a"))["metadata"]["resourceVersion"], "4");
  EXPECT_EQ(observer.events["configmaps:ADDED"], 2);
  EXPECT_EQ(observer.events["configmaps:MODIFIED"], 1);
  EXPECT_EQ(observer.events["configmaps:DELETED"], 1);
}

TEST(InformerCache, BookmarkMovesTheResourceVersionWithoutTouchingTheStore) {
  InformerCache cache("configmaps", nullptr, nullptr);
  Recorder recorder;
  cache.add_handlers(recorder.handlers());
  const auto outcome = cache.apply_line(
      R"({"type":"BOOKMARK","object":{"kind":"ConfigMap","metadata":{"resourceVersion":"99"}}})");
  EXPECT_FALSE(outcome.error);
  EXPECT_EQ(outcome.resource_version, "99");
  EXPECT_TRUE(recorder.seen.empty());
  EXPECT_EQ(cache.store().size(), 0u);
}

TEST(InformerCache, ErrorEventAndMalformedLinesEndTheWatch) {
  InformerCache cache("configmaps", nullptr, nullptr);
  const auto gone = cache.apply_line(
      R"json({"type":"ERROR","object":{"kind":"Status","code":410,"reason":"Expired","message":"too old resource version: 5 (10)"
}
})json");
  ASSERT_TRUE(gone.error);
  EXPECT_EQ(gone.error->kind(), kube::ErrorKind::Gone);
  EXPECT_EQ(gone.error->status_message(), "too old resource version: 5 (10)");
  EXPECT_FALSE(gone.resource_version);

  const auto garbage = cache.apply_line("{not json");
  ASSERT_TRUE(garbage.error);
  EXPECT_EQ(garbage.error->kind(), kube::ErrorKind::Other);
  EXPECT_TRUE(cache.apply_line(R"({"type":"EXPLODED","object":{}})").error);
}

TEST(InformerCache, DefaultTransformDropsManagedFieldsAndACustomOneReplacesIt) {
  InformerCache plain("configmaps", nullptr, nullptr);
  plain.apply_line(line("ADDED", config_map("a", "1", /*managed_fields=*/true)));
  EXPECT_FALSE((*plain.store().get("ml/a"))["metadata"].contains("managedFields"));

  InformerCache custom(
      "configmaps", [](Json& object) { object["metadata"]["labels"]["seen"] = "yes"; }, nullptr);
  custom.add_list_page({config_map("b", "1", true)}, true);
  custom.finish_list();
  const auto stored = custom.store().get("ml/b");
  EXPECT_EQ((*stored)["metadata"]["labels"]["seen"], "yes");
  EXPECT_TRUE((*stored)["metadata"].contains("managedFields"));
}

TEST(InformerCache, ALateHandlerSeesTheStoredObjectsAsAdds) {
  InformerCache cache("configmaps", nullptr, nullptr);
  cache.add_list_page({config_map("a", "1"), config_map("b", "1")}, true);
  cache.finish_list();
  Recorder late;
  cache.add_handlers(late.handlers());
  std::sort(late.seen.begin(), late.seen.end());
  EXPECT_EQ(late.seen, (std::vector<std::string>{"add:ml/a@1", "add:ml/b@1"}));
  cache.apply_line(line("MODIFIED", config_map("a", "2")));
  EXPECT_EQ(late.seen.back(), "update:ml/a@1->2");
}

TEST(InformerCache, NoHandlerRunsAfterStop) {
  InformerCache cache("configmaps", nullptr, nullptr);
  Recorder recorder;
  cache.add_handlers(recorder.handlers());
  cache.add_list_page({config_map("a", "1")}, true);
  cache.finish_list();
  cache.stop();
  EXPECT_TRUE(cache.stopped());
  cache.apply_line(line("ADDED", config_map("b", "2")));
  cache.add_list_page({}, true);
  cache.finish_list();
  EXPECT_EQ(recorder.seen, (std::vector<std::string>{"add:ml/a@1"}));
}

TEST(InformerCache, AHandlerMayStopTheCache) {
  InformerCache cache("configmaps", nullptr, nullptr);
  int adds = 0;
  cache.add_handlers({[&](const ObjectPtr&) {
                        ++adds;
                        cache.stop();  // must not deadlock
                      },
                      {},
                      {}});
  cache.apply_line(line("ADDED", config_map("a", "1")));
  cache.apply_line(line("ADDED", config_map("b", "1")));
  EXPECT_EQ(adds, 1);
}

}  // namespace
}  // namespace cd4ml::runtime
