#include "operator/kube/requests.hpp"

#include <stdexcept>

#include "operator/kube/errors.hpp"
#include "operator/kube/object_meta.hpp"

namespace cd4ml::kube {

namespace {

constexpr const char* kJson = "application/json";

// Appends "?k=v&k2=v2" parameters, escaping values; empty values are skipped
// because the API server treats an absent parameter and an empty one alike.
class Query {
 public:
  explicit Query(std::string path) : target_(std::move(path)) {}

  Query& add(std::string_view key, std::string_view value) {
    if (value.empty()) {
      return *this;
    }
    target_ += first_ ? '?' : '&';
    first_ = false;
    target_.append(key);
    target_ += '=';
    target_ += url_encode(value);
    return *this;
  }
  Query& add(std::string_view key, long value) {
    return value > 0 ? add(key, std::to_string(value)) : *this;
  }
  Query& add_flag(std::string_view key, bool on) { return on ? add(key, "true") : *this; }

  std::string str() const { return target_; }

 private:
  std::string target_;
  bool first_ = true;
};

std::string_view patch_content_type(PatchType type) {
  switch (type) {
    case PatchType::Merge: return "application/merge-patch+json";
    case PatchType::JsonPatch: return "application/json-patch+json";
    case PatchType::Strategic: return "application/strategic-merge-patch+json";
    // JSON is valid YAML, so the apply body is sent as JSON.
    case PatchType::Apply: return "application/apply-patch+yaml";
  }
  throw std::logic_error("unknown PatchType");
}

// A namespaced object must be written into a namespace: taken from the
// argument, else from the object itself.
std::string write_namespace(const ResourceType& type, std::string_view ns, const Json& object) {
  if (!type.namespaced) {
    return {};
  }
  std::string result = ns.empty() ? meta_string(object, "namespace") : std::string(ns);
  if (result.empty()) {
    throw std::invalid_argument("writing a namespaced " + type.name() +
                                " needs a namespace (argument or metadata.namespace)");
  }
  return result;
}

Json parse_body(const HttpResponse& response) {
  if (response.body.empty()) {
    return Json::object();
  }
  auto doc = Json::parse(response.body, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) {
    constexpr std::size_t kMaxQuoted = 200;
    throw ApiError(ErrorKind::Other, response.status, "",
                   "response body is not JSON: " + response.body.substr(0, kMaxQuoted));
  }
  return doc;
}

// "jobs", or "trainingruns/status" for a subresource: the metrics label.
std::string resource_label(const ResourceType& type, std::string_view subresource) {
  return subresource.empty() ? type.resource : type.resource + "/" + std::string(subresource);
}

}  // namespace

namespace requests {

HttpRequest get(const ResourceType& type, std::string_view ns, std::string_view name,
                std::string_view subresource) {
  HttpRequest req;
  req.method = "GET";
  req.target = type.object_path(ns, name, subresource);
  req.verb = "get";
  req.resource = resource_label(type, subresource);
  return req;
}

HttpRequest list(const ResourceType& type, std::string_view ns, const ListOptions& options) {
  HttpRequest req;
  req.method = "GET";
  req.target = Query(type.collection_path(ns))
                   .add("labelSelector", options.label_selector)
                   .add("fieldSelector", options.field_selector)
                   .add("limit", options.limit)
                   .add("continue", options.continue_token)
                   .add("resourceVersion", options.resource_version)
                   .add("resourceVersionMatch", options.resource_version_match)
                   .str();
  req.verb = "list";
  req.resource = type.resource;
  return req;
}

HttpRequest watch(const ResourceType& type, std::string_view ns, const WatchOptions& options) {
  HttpRequest req;
  req.method = "GET";
  req.target = Query(type.collection_path(ns))
                   .add_flag("watch", true)
                   .add_flag("allowWatchBookmarks", options.allow_bookmarks)
                   .add("labelSelector", options.label_selector)
                   .add("fieldSelector", options.field_selector)
                   .add("resourceVersion", options.resource_version)
                   .add("timeoutSeconds", static_cast<long>(options.timeout_seconds))
                   .str();
  // For a stream the transport reads this as the longest silence allowed.
  req.timeout = options.idle_timeout;
  req.verb = "watch";
  req.resource = type.resource;
  return req;
}

HttpRequest create(const ResourceType& type, std::string_view ns, const Json& object,
                   const WriteOptions& options) {
  HttpRequest req;
  req.method = "POST";
  req.target = Query(type.collection_path(write_namespace(type, ns, object)))
                   .add("fieldManager", options.field_manager)
                   .add("dryRun", options.dry_run ? "All" : "")
                   .add("fieldValidation", options.field_validation)
                   .str();
  req.body = object.dump();
  req.content_type = kJson;
  req.verb = "create";
  req.resource = type.resource;
  return req;
}

HttpRequest update(const ResourceType& type, const Json& object, std::string_view subresource,
                   const WriteOptions& options) {
  const std::string name = meta_string(object, "name");
  if (name.empty()) {
    throw std::invalid_argument("updating a " + type.name() + " needs metadata.name");
  }
  HttpRequest req;
  req.method = "PUT";
  req.target = Query(type.object_path(write_namespace(type, {}, object), name, subresource))
                   .add("fieldManager", options.field_manager)
                   .add("dryRun", options.dry_run ? "All" : "")
                   .str();
  req.body = object.dump();
  req.content_type = kJson;
  req.verb = "update";
  req.resource = resource_label(type, subresource);
  return req;
}

HttpRequest patch(const ResourceType& type, std::string_view ns, std::string_view name,
                  PatchType patch_type, const std::string& body, const PatchOptions& options) {
  const bool apply = patch_type == PatchType::Apply;
  if (apply && options.field_manager.empty()) {
    throw std::invalid_argument("server-side apply needs a field manager");
  }
  if (!apply && options.force) {
    throw std::invalid_argument("force is only valid for server-side apply");
  }
  HttpRequest req;
  req.method = "PATCH";
  req.target = Query(type.object_path(ns, name, options.subresource))
                   .add("fieldManager", options.field_manager)
                   .add_flag("force", options.force)
                   .str();
  req.body = body;
  req.content_type = std::string(patch_content_type(patch_type));
  req.verb = apply ? "apply" : "patch";
  req.resource = resource_label(type, options.subresource);
  return req;
}

HttpRequest remove(const ResourceType& type, std::string_view ns, std::string_view name,
                   const DeleteOptions& options) {
  HttpRequest req;
  req.method = "DELETE";
  req.target = type.object_path(ns, name);
  req.verb = "delete";
  req.resource = type.resource;
  Json body = Json::object();
  if (!options.propagation_policy.empty()) {
    body["propagationPolicy"] = options.propagation_policy;
  }
  if (options.precondition_uid) {
    body["preconditions"]["uid"] = *options.precondition_uid;
  }
  if (options.precondition_resource_version) {
    body["preconditions"]["resourceVersion"] = *options.precondition_resource_version;
  }
  if (!body.empty()) {
    body["kind"] = "DeleteOptions";
    body["apiVersion"] = "v1";
    req.body = body.dump();
    req.content_type = kJson;
  }
  return req;
}

}  // namespace requests

Json decode(const HttpResponse& response) {
  if (response.status < 200 || response.status > 299) {
    throw error_from_response(response.status, response.body, response.retry_after);
  }
  return parse_body(response);
}

ListResult decode_list(const HttpResponse& response) {
  Json doc = decode(response);
  ListResult result;
  const auto items = doc.find("items");
  // A list of nothing may come back with "items": null.
  if (items == doc.end() || !(items->is_array() || items->is_null())) {
    throw ApiError(ErrorKind::Other, response.status, "", "list response has no items array");
  }
  result.resource_version = meta_string(doc, "resourceVersion");
  result.continue_token = meta_string(doc, "continue");
  // List items come without apiVersion/kind; watch events carry them. Filling
  // them in from the list ("ConfigMapList" -> "ConfigMap") makes every cached
  // object look the same, whichever way it arrived.
  std::string item_kind = string_field(doc, "kind");
  constexpr std::string_view kListSuffix = "List";
  if (item_kind.size() > kListSuffix.size() && item_kind.ends_with(kListSuffix)) {
    item_kind.resize(item_kind.size() - kListSuffix.size());
  } else {
    item_kind.clear();
  }
  const std::string api_version = string_field(doc, "apiVersion");
  if (items->is_array()) {
    result.items.reserve(items->size());
    for (auto& item : *items) {
      if (item.is_object()) {
        if (!item_kind.empty() && !item.contains("kind")) item["kind"] = item_kind;
        if (!api_version.empty() && !item.contains("apiVersion")) item["apiVersion"] = api_version;
      }
      result.items.push_back(std::move(item));
    }
  }
  return result;
}

}  // namespace cd4ml::kube
