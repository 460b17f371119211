#pragma once
// Builds the HTTP requests of the Kubernetes REST API and decodes their
// responses. Pure functions: the sync Client and the async code on the io
// thread (informers, leader election) share them.

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "operator/kube/http.hpp"
#include "operator/kube/resource.hpp"

namespace cd4ml::kube {

using Json = nlohmann::json;

// Content type of a PATCH: merge patch (RFC 7386), JSON patch (RFC 6902),
// strategic merge patch (built-in types only), server-side apply.
enum class PatchType { Merge, JsonPatch, Strategic, Apply };

struct ListOptions {
  std::string label_selector;
  std::string field_selector;
  long limit = 0;  // 0: no paging
  std::string continue_token;
  std::string resource_version;
  std::string resource_version_match;  // "NotOlderThan" / "Exact"
};

struct ListResult {
  std::vector<Json> items;
  std::string resource_version;
  std::string continue_token;
};

struct WatchOptions {
  std::string label_selector;
  std::string field_selector;
  std::string resource_version;
  bool allow_bookmarks = true;
  int timeout_seconds = 300;  // server closes the watch after this
  // Client gives up when no byte (event or bookmark) arrives for this long.
  std::chrono::milliseconds idle_timeout{std::chrono::seconds(330)};
};

struct PatchOptions {
  std::string field_manager;  // required for Apply
  bool force = false;         // Apply only
  std::string subresource;    // "" or "status"
};

struct DeleteOptions {
  std::string propagation_policy;  // "", "Foreground", "Background", "Orphan"
  std::optional<std::string> precondition_uid;
  std::optional<std::string> precondition_resource_version;
};

struct WriteOptions {
  std::string field_manager;  // recorded in managedFields; default "cd4ml-operator"
  bool dry_run = false;
  // "Strict" makes the server refuse unknown or duplicate fields instead of
  // dropping them; "" leaves its default (Warn on recent servers).
  std::string field_validation{};
};

namespace requests {
HttpRequest get(const ResourceType& type, std::string_view ns, std::string_view name,
                std::string_view subresource = {});
HttpRequest list(const ResourceType& type, std::string_view ns, const ListOptions& options);
HttpRequest watch(const ResourceType& type, std::string_view ns, const WatchOptions& options);
HttpRequest create(const ResourceType& type, std::string_view ns, const Json& object,
                   const WriteOptions& options = {});
// Name and namespace are taken from object.metadata.
HttpRequest update(const ResourceType& type, const Json& object, std::string_view subresource = {},
                   const WriteOptions& options = {});
HttpRequest patch(const ResourceType& type, std::string_view ns, std::string_view name,
                  PatchType patch_type, const std::string& body, const PatchOptions& options);
HttpRequest remove(const ResourceType& type, std::string_view ns, std::string_view name,
                   const DeleteOptions& options);
}  // namespace requests

// Throws ApiError for a non-2xx response; otherwise parses the body (an empty
// body gives an empty object).
Json decode(const HttpResponse& response);
ListResult decode_list(const HttpResponse& response);

}  // namespace cd4ml::kube
