#pragma once
// The requests a reconciler makes of the API server besides reading its
// caches: create, merge-patch and delete of namespaced objects, the status
// write, and the one live read a create that met an unknown name needs. An
// interface, so executors are tested without a server: ClientWriter
// (client_writer.hpp) sends them; tests/support/fake_writer.hpp records them
// and fails on demand. Errors are ApiError, as kube::Client throws them.

#include <nlohmann/json.hpp>
#include <optional>
#include <string_view>

#include "operator/kube/resource.hpp"

namespace cd4ml::kube {

class Writer {
 public:
  virtual ~Writer() = default;

  // The object as created (with uid and resourceVersion).
  virtual nlohmann::json create(const ResourceType& type, std::string_view ns,
                                const nlohmann::json& object) = 0;
  // JSON merge patch (RFC 7386); the object as patched.
  virtual nlohmann::json merge_patch(const ResourceType& type, std::string_view ns,
                                     std::string_view name, const nlohmann::json& patch) = 0;
  // Background propagation: what the object owns is deleted after it.
  virtual void remove(const ResourceType& type, std::string_view ns, std::string_view name) = 0;
  // PUT of the status subresource on the resourceVersion `object` carries
  // (Conflict when the object has moved on).
  virtual nlohmann::json update_status(const ResourceType& type, const nlohmann::json& object) = 0;
  // The object as the server holds it; nullopt when there is none.
  virtual std::optional<nlohmann::json> try_get(const ResourceType& type, std::string_view ns,
                                                std::string_view name) = 0;
};

}  // namespace cd4ml::kube
