#pragma once
// Blocking resource client for reconcile workers and tests: every call is one
// REST request through the shared Transport (rate limited, retried where
// client-go retries). Thread-safe. Never call it from the io thread.
//
// Errors: ApiError with kind() NotFound, Conflict, AlreadyExists, Gone,
// Forbidden, Invalid, TooManyRequests, ... carrying the server's message.

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "operator/kube/requests.hpp"
#include "operator/kube/transport.hpp"

namespace cd4ml::kube {

class Client {
 public:
  explicit Client(Transport& transport, std::string default_field_manager = "cd4ml-operator");

  Json get(const ResourceType& type, std::string_view ns, std::string_view name);
  // NotFound becomes nullopt; other errors still throw.
  std::optional<Json> try_get(const ResourceType& type, std::string_view ns, std::string_view name);
  ListResult list(const ResourceType& type, std::string_view ns, const ListOptions& options = {});
  // Follows `continue` until the end; `page_size` items per request.
  ListResult list_all(const ResourceType& type, std::string_view ns, ListOptions options = {},
                      long page_size = 500);

  Json create(const ResourceType& type, std::string_view ns, const Json& object);
  Json update(const ResourceType& type, const Json& object);
  Json update_status(const ResourceType& type, const Json& object);
  Json patch(const ResourceType& type, std::string_view ns, std::string_view name,
             PatchType patch_type, const Json& body, PatchOptions options = {});
  // Server-side apply of a fully specified object (apiVersion, kind, metadata.name).
  Json apply(const ResourceType& type, const Json& object, bool force = false,
             std::string_view subresource = {});
  void remove(const ResourceType& type, std::string_view ns, std::string_view name,
              const DeleteOptions& options = {});

  Transport& transport() { return transport_; }
  const std::string& field_manager() const { return field_manager_; }

 private:
  Transport& transport_;
  std::string field_manager_;
};

}  // namespace cd4ml::kube
