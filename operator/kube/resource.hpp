#pragma once
// Identifies a kind of object on the API server (group/version/resource) and
// builds its REST paths. Works for any resource, built-in or custom.

#include <string>
#include <string_view>

namespace cd4ml::kube {

struct ResourceType {
  std::string group;     // "" for the core group
  std::string version;   // "v1"
  std::string resource;  // plural, lower case: "deployments"
  std::string kind;      // "Deployment"
  bool namespaced = true;

  // "v1" or "apps/v1", as in an object's apiVersion.
  std::string api_version() const;
  // "deployments.apps" style name for logs and metrics labels.
  std::string name() const;

  // Collection path: /api/v1/namespaces/<ns>/pods, /apis/apps/v1/deployments (all namespaces
  // when ns is empty for a namespaced type).
  std::string collection_path(std::string_view ns) const;
  // Object path, with an optional subresource ("status").
  std::string object_path(std::string_view ns, std::string_view name,
                          std::string_view subresource = {}) const;

  bool operator==(const ResourceType& other) const {
    return group == other.group && version == other.version && resource == other.resource;
  }
};

// The types this operator touches.
namespace resources {
extern const ResourceType kConfigMaps;
extern const ResourceType kPods;
extern const ResourceType kServices;
extern const ResourceType kSecrets;
extern const ResourceType kEvents;
extern const ResourceType kNamespaces;
extern const ResourceType kServiceAccounts;
extern const ResourceType kJobs;
extern const ResourceType kDeployments;
extern const ResourceType kLeases;
extern const ResourceType kCustomResourceDefinitions;
extern const ResourceType kTrainingRuns;
extern const ResourceType kModelReleases;
// Gateway API (standard channel): a canary's traffic routing.
extern const ResourceType kHTTPRoutes;
}  // namespace resources

}  // namespace cd4ml::kube
