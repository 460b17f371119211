#include "operator/kube/resource.hpp"

#include <gtest/gtest.h>

#include "operator/kube/http.hpp"

namespace cd4ml::kube {
namespace {

TEST(UrlEncode, KeepsUnreservedAndEscapesEverythingElse) {
  EXPECT_EQ(url_encode("AZaz09-._~"), "AZaz09-._~");
  EXPECT_EQ(url_encode("app in (a,b)"), "app%20in%20%28a%2Cb%29");
  EXPECT_EQ(url_encode("a=b&c=d"), "a%3Db%26c%3Dd");
  EXPECT_EQ(url_encode("x/y?z#w+%"), "x%2Fy%3Fz%23w%2B%25");
  EXPECT_EQ(url_encode("\xc3\xa9\x01"), "%C3%A9%01");
  EXPECT_EQ(url_encode(""), "");
}

TEST(ResourceType, CorePathsLiveUnderApi) {
  const auto& cm = resources::kConfigMaps;
  EXPECT_EQ(cm.api_version(), "v1");
  EXPECT_EQ(cm.name(), "configmaps");
  EXPECT_EQ(cm.collection_path("ml"), "/api/v1/namespaces/ml/configmaps");
  EXPECT_EQ(cm.collection_path(""), "/api/v1/configmaps");
  EXPECT_EQ(cm.object_path("ml", "settings"), "/api/v1/namespaces/ml/configmaps/settings");
}

TEST(ResourceType, GroupPathsLiveUnderApis) {
  const auto& d = resources::kDeployments;
  EXPECT_EQ(d.api_version(), "apps/v1");
  EXPECT_EQ(d.name(), "deployments.apps");
  EXPECT_EQ(d.collection_path(""), "/apis/apps/v1/deployments");
  EXPECT_EQ(d.object_path("ml", "web", "status"),
            "/apis/apps/v1/namespaces/ml/deployments/web/status");
  EXPECT_EQ(d.object_path("ml", "web", "scale"),
            "/apis/apps/v1/namespaces/ml/deployments/web/scale");
}

TEST(ResourceType, ClusterScopedIgnoresTheNamespace) {
  const auto& crd = resources::kCustomResourceDefinitions;
  EXPECT_FALSE(crd.namespaced);
  EXPECT_EQ(crd.object_path("ignored", "trainingruns.cd4ml.io"),
            "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/trainingruns.cd4ml.io");
  EXPECT_EQ(resources::kNamespaces.object_path("", "ml"), "/api/v1/namespaces/ml");
}

TEST(ResourceType, NamesAreEscapedSoTheyCannotChangeThePath) {
  EXPECT_EQ(resources::kPods.object_path("ml", "a/../b?x"),
            "/api/v1/namespaces/ml/pods/a%2F..%2Fb%3Fx");
}

TEST(ResourceType, ObjectPathWithoutNameOrNamespaceIsABug) {
  EXPECT_THROW(resources::kPods.object_path("ml", ""), std::invalid_argument);
  EXPECT_THROW(resources::kPods.object_path("", "p"), std::invalid_argument);
}

TEST(ResourceType, TheOperatorsTypes) {
  struct Expected {
    const ResourceType& type;
    const char* api_version;
    const char* resource;
    const char* kind;
    bool namespaced;
  };
  const Expected all[] = {
      {resources::kConfigMaps, "v1", "configmaps", "ConfigMap", true},
      {resources::kPods, "v1", "pods", "Pod", true},
      {resources::kServices, "v1", "services", "Service", true},
      {resources::kEvents, "v1", "events", "Event", true},
      {resources::kNamespaces, "v1", "namespaces", "Namespace", false},
      {resources::kServiceAccounts, "v1", "serviceaccounts", "ServiceAccount", true},
      {resources::kJobs, "batch/v1", "jobs", "Job", true},
      {resources::kDeployments, "apps/v1", "deployments", "Deployment", true},
      {resources::kLeases, "coordination.k8s.io/v1", "leases", "Lease", true},
      {resources::kCustomResourceDefinitions, "apiextensions.k8s.io/v1",
       "customresourcedefinitions", "CustomResourceDefinition", false},
      {resources::kTrainingRuns, "cd4ml.io/v1alpha1", "trainingruns", "TrainingRun", true},
      {resources::kModelReleases, "cd4ml.io/v1alpha1", "modelreleases", "ModelRelease", true},
  };
  for (const auto& e : all) {
    EXPECT_EQ(e.type.api_version(), e.api_version) << e.resource;
    EXPECT_EQ(e.type.resource, e.resource);
    EXPECT_EQ(e.type.kind, e.kind);
    EXPECT_EQ(e.type.namespaced, e.namespaced) << e.resource;
  }
  EXPECT_EQ(resources::kTrainingRuns.collection_path("ml"),
            "/apis/cd4ml.io/v1alpha1/namespaces/ml/trainingruns");
  EXPECT_EQ(resources::kLeases.object_path("kube-system", "cd4ml"),
            "/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/cd4ml");
}

}  // namespace
}  // namespace cd4ml::kube
