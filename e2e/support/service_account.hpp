#pragma once
// Acting as a ServiceAccount from outside the cluster: a kubeconfig holding a
// token from `kubectl create token` (TokenRequest) with the cluster's server
// and CA, and `kubectl auth can-i --as` questions about its rights.

#include <filesystem>
#include <string>

namespace cd4ml::e2e {

// Writes a kubeconfig for <ns>/<name> to `path` and returns it. The token
// lives for an hour, longer than any test.
std::filesystem::path service_account_kubeconfig(const std::string& ns, const std::string& name,
                                                 const std::filesystem::path& path);

// `kubectl auth can-i <verb> <resource> --as=system:serviceaccount:<sa_ns>:<sa>`,
// in namespace `ns` ("" with all_namespaces: across all of them).
// `resource` may be TYPE, TYPE/NAME or TYPE with subresource "status" etc.
struct Access {
  std::string verb;
  std::string resource;
  std::string ns;  // "*" = --all-namespaces
  std::string subresource = {};
};
bool service_account_can(const std::string& sa_ns, const std::string& sa, const Access& access);
std::string describe(const Access& access);

}  // namespace cd4ml::e2e
