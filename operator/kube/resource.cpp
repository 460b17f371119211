#include "operator/kube/resource.hpp"

#include <stdexcept>

#include "operator/kube/http.hpp"

namespace cd4ml::kube {

std::string ResourceType::api_version() const {
  return group.empty() ? version : group + "/" + version;
}

std::string ResourceType::name() const {
  return group.empty() ? resource : resource + "." + group;
}

std::string ResourceType::collection_path(std::string_view ns) const {
  // The core group lives under /api, every named group under /apis.
  std::string path = group.empty() ? "/api/" + version : "/apis/" + group + "/" + version;
  if (namespaced && !ns.empty()) {
    // Namespace and object names are DNS labels/subdomains, but they may come
    // from user input; escaping keeps a stray '/' or '?' from changing the URL.
    path += "/namespaces/" + url_encode(ns);
  }
  path += "/" + resource;
  return path;
}

std::string ResourceType::object_path(std::string_view ns, std::string_view name,
                                      std::string_view subresource) const {
  if (name.empty()) {
    throw std::invalid_argument("object path for " + this->name() + " needs a name");
  }
  if (namespaced && ns.empty()) {
    throw std::invalid_argument("object path for namespaced " + this->name() + " \"" +
                                std::string(name) + "\" needs a namespace");
  }
  std::string path = collection_path(ns) + "/" + url_encode(name);
  if (!subresource.empty()) {
    path += "/" + url_encode(subresource);
  }
  return path;
}

namespace resources {
const ResourceType kConfigMaps{"", "v1", "configmaps", "ConfigMap", true};
const ResourceType kPods{"", "v1", "pods", "Pod", true};
const ResourceType kServices{"", "v1", "services", "Service", true};
const ResourceType kSecrets{"", "v1", "secrets", "Secret", true};
const ResourceType kEvents{"", "v1", "events", "Event", true};
const ResourceType kNamespaces{"", "v1", "namespaces", "Namespace", false};
const ResourceType kServiceAccounts{"", "v1", "serviceaccounts", "ServiceAccount", true};
const ResourceType kJobs{"batch", "v1", "jobs", "Job", true};
const ResourceType kDeployments{"apps", "v1", "deployments", "Deployment", true};
const ResourceType kLeases{"coordination.k8s.io", "v1", "leases", "Lease", true};
const ResourceType kCustomResourceDefinitions{
    "apiextensions.k8s.io", "v1", "customresourcedefinitions", "CustomResourceDefinition", false};
const ResourceType kTrainingRuns{"cd4ml.io", "v1alpha1", "trainingruns", "TrainingRun", true};
const ResourceType kModelReleases{"cd4ml.io", "v1alpha1", "modelreleases", "ModelRelease", true};
const ResourceType kHTTPRoutes{"gateway.networking.k8s.io", "v1", "httproutes", "HTTPRoute", true};
}  // namespace resources

}  // namespace cd4ml::kube
