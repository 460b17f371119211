#include "operator/kube/requests.hpp"

#include <gtest/gtest.h>

namespace cd4ml::kube {
namespace {

using resources::kConfigMaps;
using resources::kDeployments;

Json config_map() {
  return Json{{"apiVersion", "v1"},
              {"kind", "ConfigMap"},
              {"metadata", {{"name", "settings"}, {"namespace", "ml"}, {"resourceVersion", "7"}}},
              {"data", {{"k", "v"}}}};
}

TEST(Requests, GetAndSubresource) {
  const auto req = requests::get(kDeployments, "ml", "web");
  EXPECT_EQ(req.method, "GET");
  EXPECT_EQ(req.target, "/apis/apps/v1/namespaces/ml/deployments/web");
  EXPECT_EQ(req.verb, "get");
  EXPECT_TRUE(req.body.empty());
  EXPECT_TRUE(req.content_type.empty());
  EXPECT_EQ(requests::get(kDeployments, "ml", "web", "status").target,
            "/apis/apps/v1/namespaces/ml/deployments/web/status");
}

TEST(Requests, ListWithoutOptionsHasNoQuery) {
  const auto req = requests::list(kConfigMaps, "", {});
  EXPECT_EQ(req.method, "GET");
  EXPECT_EQ(req.target, "/api/v1/configmaps");
  EXPECT_EQ(req.verb, "list");
}

TEST(Requests, ListEscapesEveryParameter) {
  ListOptions options;
  options.label_selector = "app in (a,b),tier!=db";
  options.field_selector = "metadata.name=x";
  options.limit = 500;
  options.continue_token = "eyJ2IjoibWV0YS5rOHMuaW8vdjEiLCJydiI6MTIzfQ==";
  options.resource_version = "123";
  options.resource_version_match = "NotOlderThan";
  const auto req = requests::list(kConfigMaps, "ml", options);
  EXPECT_EQ(req.target,
            "/api/v1/namespaces/ml/configmaps"
            "?labelSelector=app%20in%20%28a%2Cb%29%2Ctier%21%3Ddb"
            "&fieldSelector=metadata.name%3Dx"
            "&limit=500"
            "&continue=eyJ2IjoibWV0YS5rOHMuaW8vdjEiLCJydiI6MTIzfQ%3D%3D"
            "&resourceVersion=123"
            "&resourceVersionMatch=NotOlderThan");
}

TEST(Requests, WatchAsksForBookmarksAndTimeoutAndSetsTheIdleTimeout) {
  WatchOptions options;
  options.resource_version = "4711";
  options.timeout_seconds = 417;
  options.idle_timeout = std::chrono::seconds(447);
  options.label_selector = "a=b";
  const auto req = requests::watch(kConfigMaps, "ml", options);
  EXPECT_EQ(req.method, "GET");
  EXPECT_EQ(req.target,
            "/api/v1/namespaces/ml/configmaps?watch=true&allowWatchBookmarks=true"
            "&labelSelector=a%3Db&resourceVersion=4711&timeoutSeconds=417");
  EXPECT_EQ(req.timeout, std::chrono::seconds(447));
  EXPECT_EQ(req.verb, "watch");

  options.allow_bookmarks = false;
  options.label_selector.clear();
  EXPECT_EQ(requests::watch(kConfigMaps, "", options).target,
            "/api/v1/configmaps?watch=true&resourceVersion=4711&timeoutSeconds=417");
}

TEST(Requests, CreatePostsJsonToTheCollection) {
  const auto object = config_map();
  const auto req = requests::create(kConfigMaps, "ml", object, {"cd4ml-operator", false});
  EXPECT_EQ(req.method, "POST");
  EXPECT_EQ(req.target, "/api/v1/namespaces/ml/configmaps?fieldManager=cd4ml-operator");
  EXPECT_EQ(req.content_type, "application/json");
  EXPECT_EQ(Json::parse(req.body), object);
  EXPECT_EQ(req.verb, "create");
}

TEST(Requests, CreateTakesTheNamespaceFromTheObjectAndCanDryRun) {
  const auto req = requests::create(kConfigMaps, "", config_map(), {"", true});
  EXPECT_EQ(req.target, "/api/v1/namespaces/ml/configmaps?dryRun=All");
}

TEST(Requests, CreateCanAskForStrictFieldValidation) {
  const auto req = requests::create(kConfigMaps, "ml", config_map(), {"op", false, "Strict"});
  EXPECT_EQ(req.target, "/api/v1/namespaces/ml/configmaps?fieldManager=op&fieldValidation=Strict");
}

TEST(Requests, WritingANamespacedObjectWithoutNamespaceIsABug) {
  Json object = config_map();
  object["metadata"].erase("namespace");
  EXPECT_THROW(requests::create(kConfigMaps, "", object), std::invalid_argument);
  EXPECT_THROW(requests::update(kConfigMaps, object), std::invalid_argument);
}

TEST(Requests, UpdatePutsToTheObjectOrItsStatus) {
  const auto object = config_map();
  const auto req = requests::update(kConfigMaps, object);
  EXPECT_EQ(req.method, "PUT");
  EXPECT_EQ(req.target, "/api/v1/namespaces/ml/configmaps/settings");
  EXPECT_EQ(req.content_type, "application/json");
  // The body carries metadata.resourceVersion: the server's optimistic lock.
  EXPECT_EQ(Json::parse(req.body)["metadata"]["resourceVersion"], "7");
  EXPECT_EQ(req.verb, "update");

  const auto status = requests::update(resources::kTrainingRuns,
                                       Json{{"metadata", {{"name", "r1"}, {"namespace", "ml"}}}},
                                       "status", {"mgr", false});
  EXPECT_EQ(status.target,
            "/apis/cd4ml.io/v1alpha1/namespaces/ml/trainingruns/r1/status?fieldManager=mgr");
}

TEST(Requests, UpdateWithoutNameIsABug) {
  EXPECT_THROW(requests::update(kConfigMaps, Json{{"metadata", {{"namespace", "ml"}}}}),
               std::invalid_argument);
}

TEST(Requests, EachPatchTypeHasItsContentType) {
  struct Case {
    PatchType type;
    const char* content_type;
    const char* verb;
  };
  const Case cases[] = {
      {PatchType::Merge, "application/merge-patch+json", "patch"},
      {PatchType::JsonPatch, "application/json-patch+json", "patch"},
      {PatchType::Strategic, "application/strategic-merge-patch+json", "patch"},
      {PatchType::Apply, "application/apply-patch+yaml", "apply"},
  };
  for (const auto& c : cases) {
    PatchOptions options;
    options.field_manager = "mgr";
    const auto req = requests::patch(kDeployments, "ml", "web", c.type, "{\"x\":1}", options);
    EXPECT_EQ(req.method, "PATCH");
    EXPECT_EQ(req.content_type, c.content_type);
    EXPECT_EQ(req.verb, c.verb);
    EXPECT_EQ(req.body, "{\"x\":1}");
    EXPECT_EQ(req.target, "/apis/apps/v1/namespaces/ml/deployments/web?fieldManager=mgr");
  }
}

TEST(Requests, ServerSideApplyWithForceOnStatus) {
  PatchOptions options;
  options.field_manager = "cd4ml-operator";
  options.force = true;
  options.subresource = "status";
  const auto req = requests::patch(kDeployments, "ml", "web", PatchType::Apply, "{}", options);
  EXPECT_EQ(req.target,
            "/apis/apps/v1/namespaces/ml/deployments/web/status"
            "?fieldManager=cd4ml-operator&force=true");
}

TEST(Requests, ApplyNeedsAFieldManagerAndForceNeedsApply) {
  EXPECT_THROW(requests::patch(kDeployments, "ml", "web", PatchType::Apply, "{}", {}),
               std::invalid_argument);
  PatchOptions force;
  force.field_manager = "m";
  force.force = true;
  EXPECT_THROW(requests::patch(kDeployments, "ml", "web", PatchType::Merge, "{}", force),
               std::invalid_argument);
}

TEST(Requests, DeleteSendsDeleteOptionsInTheBody) {
  DeleteOptions options;
  options.propagation_policy = "Foreground";
  options.precondition_uid = "uid-1";
  options.precondition_resource_version = "42";
  const auto req = requests::remove(resources::kJobs, "ml", "train-1", options);
  EXPECT_EQ(req.method, "DELETE");
  EXPECT_EQ(req.target, "/apis/batch/v1/namespaces/ml/jobs/train-1");
  EXPECT_EQ(req.content_type, "application/json");
  EXPECT_EQ(req.verb, "delete");
  EXPECT_EQ(Json::parse(req.body),
            (Json{{"kind", "DeleteOptions"},
                  {"apiVersion", "v1"},
                  {"propagationPolicy", "Foreground"},
                  {"preconditions", {{"uid", "uid-1"}, {"resourceVersion", "42"}}}}));
}

TEST(Requests, DeleteWithoutOptionsHasNoBody) {
  const auto req = requests::remove(kConfigMaps, "ml", "settings", {});
  EXPECT_TRUE(req.body.empty());
  EXPECT_TRUE(req.content_type.empty());
}

}  // namespace
}  // namespace cd4ml::kube
