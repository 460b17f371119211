// The resource client's verbs against the real API server, beyond the few
// the controllers use: paging, JSON patch, server-side apply with and without
// force, delete propagation and preconditions. The requests' shapes have unit
// tests (tests/kube/requests_test.cpp); these check that the server reads
// them as meant.

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "cluster.hpp"
#include "informer_probe.hpp"
#include "kube_session.hpp"
#include "operator/kube/errors.hpp"

namespace cd4ml::e2e {
namespace {

using kube::resources::kConfigMaps;

class ClientVerbs : public testing::Test {
 protected:
  kube::Client& client() { return session_.client(); }
  Json labelled(const std::string& name, const std::string& value) {
    Json cm = config_map(ns_.name(), name, value);
    cm["metadata"]["labels"] = {{"suite", "client-verbs"}};
    return cm;
  }
  std::optional<kube::ApiError> error_of(const std::function<void()>& call) {
    try {
      call();
    } catch (const kube::ApiError& e) {
      return e;
    }
    return std::nullopt;
  }

  TestNamespace ns_;
  KubeSession session_;
};

TEST_F(ClientVerbs, ListAllFollowsContinueTokensThroughEveryPage) {
  std::vector<std::string> created;
  for (int i = 0; i < 7; ++i) {
    created.push_back("page-" + std::to_string(i));
    client().create(kConfigMaps, ns_.name(), labelled(created.back(), "v"));
  }
  kube::ListOptions options;
  options.label_selector = "suite=client-verbs";
  options.limit = 3;
  const auto first = client().list(kConfigMaps, ns_.name(), options);
  EXPECT_EQ(first.items.size(), 3u);
  EXPECT_FALSE(first.continue_token.empty())
      << "the server must have paged for this to mean anything";

  options.limit = 0;
  const auto all = client().list_all(kConfigMaps, ns_.name(), options, /*page_size=*/3);
  std::vector<std::string> names;
  for (const auto& cm : all.items) names.push_back(cm["metadata"]["name"]);
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, created);
  EXPECT_TRUE(all.continue_token.empty());
  EXPECT_FALSE(all.resource_version.empty());
}

TEST_F(ClientVerbs, JsonPatchAppliesAllOrNothing) {
  client().create(kConfigMaps, ns_.name(), labelled("jp", "1"));
  const Json patched =
      client().patch(kConfigMaps, ns_.name(), "jp", kube::PatchType::JsonPatch,
                     Json::array({{{"op", "test"}, {"path", "/data/value"}, {"value", "1"}},
                                  {{"op", "add"}, {"path", "/data/extra"}, {"value", "x"}}}));
  EXPECT_EQ(patched["data"]["extra"], "x");

  // A failing `test` op: refused, and the other op is not applied either.
  const auto refused = error_of([&] {
    client().patch(kConfigMaps, ns_.name(), "jp", kube::PatchType::JsonPatch,
                   Json::array({{{"op", "replace"}, {"path", "/data/extra"}, {"value", "y"}},
                                {{"op", "test"}, {"path", "/data/value"}, {"value", "2"}}}));
  });
  ASSERT_TRUE(refused.has_value());
  EXPECT_EQ(refused->http_status(), 422) << refused->what();
  EXPECT_EQ(client().get(kConfigMaps, ns_.name(), "jp")["data"]["extra"], "x");
}

TEST_F(ClientVerbs, ServerSideApplyConflictsWithAnotherManagerUnlessForced) {
  Json cm = labelled("ssa", "ours");
  cm["metadata"].erase("labels");
  client().apply(kConfigMaps, cm);
  kube::Client other(session_.transport(), "another-manager");
  Json theirs = cm;
  theirs["data"]["value"] = "theirs";

  const auto conflict = error_of([&] { other.apply(kConfigMaps, theirs); });
  ASSERT_TRUE(conflict.has_value());
  EXPECT_TRUE(kube::is_conflict(*conflict)) << conflict->what();
  EXPECT_NE(std::string(conflict->what()).find("cd4ml-operator"), std::string::npos)
      << "the server names the manager that owns the field: " << conflict->what();
  EXPECT_EQ(client().get(kConfigMaps, ns_.name(), "ssa")["data"]["value"], "ours");

  const Json forced = other.apply(kConfigMaps, theirs, /*force=*/true);
  EXPECT_EQ(forced["data"]["value"], "theirs");
  bool other_owns_it = false;
  for (const auto& entry : forced["metadata"]["managedFields"]) {
    if (entry.value("manager", "") == "another-manager" &&
        entry.value("operation", "") == "Apply") {
      other_owns_it = entry.dump().find("f:value") != std::string::npos;
    }
  }
  EXPECT_TRUE(other_owns_it) << forced["metadata"]["managedFields"].dump(2);
}

TEST_F(ClientVerbs, DeletePropagationAndPreconditionsAreHonoured) {
  const Json owner = client().create(kConfigMaps, ns_.name(), labelled("owner", "o"));
  const auto dependent_of_owner = [&](const std::string& name) {
    Json d = labelled(name, "d");
    d["metadata"]["ownerReferences"] = {{{"apiVersion", "v1"},
                                         {"kind", "ConfigMap"},
                                         {"name", "owner"},
                                         {"uid", owner["metadata"]["uid"]}}};
    client().create(kConfigMaps, ns_.name(), d);
  };
  dependent_of_owner("orphaned");

  // A precondition on another UID: refused, nothing deleted.
  kube::DeleteOptions wrong_uid;
  wrong_uid.precondition_uid = "00000000-0000-0000-0000-000000000000";
  const auto refused =
      error_of([&] { client().remove(kConfigMaps, ns_.name(), "owner", wrong_uid); });
  ASSERT_TRUE(refused.has_value());
  EXPECT_TRUE(kube::is_conflict(*refused)) << refused->what();
  ASSERT_TRUE(client().try_get(kConfigMaps, ns_.name(), "owner"));

  // Orphan: the garbage collector strips the ownerReference, the dependent stays.
  kube::DeleteOptions orphan;
  orphan.propagation_policy = "Orphan";
  orphan.precondition_uid = owner["metadata"]["uid"].get<std::string>();
  client().remove(kConfigMaps, ns_.name(), "owner", orphan);
  ASSERT_TRUE(wait_until("the owner to be gone", 60s,
                         [&] { return !client().try_get(kConfigMaps, ns_.name(), "owner"); }));
  const auto orphaned = client().try_get(kConfigMaps, ns_.name(), "orphaned");
  ASSERT_TRUE(orphaned.has_value()) << "Orphan deleted the dependent";
  EXPECT_FALSE(orphaned->contains("/metadata/ownerReferences"_json_pointer)) << orphaned->dump(2);
}

}  // namespace
}  // namespace cd4ml::e2e
