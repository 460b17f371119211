#include "operator/kube/client.hpp"

#include <stdexcept>

#include "operator/kube/errors.hpp"
#include "operator/kube/object_meta.hpp"

namespace cd4ml::kube {

Client::Client(Transport& transport, std::string default_field_manager)
    : transport_(transport), field_manager_(std::move(default_field_manager)) {}

Json Client::get(const ResourceType& type, std::string_view ns, std::string_view name) {
  return decode(transport_.request_sync(requests::get(type, ns, name)));
}

std::optional<Json> Client::try_get(const ResourceType& type, std::string_view ns,
                                    std::string_view name) {
  try {
    return get(type, ns, name);
  } catch (const ApiError& e) {
    if (is_not_found(e)) {
      return std::nullopt;
    }
    throw;
  }
}

ListResult Client::list(const ResourceType& type, std::string_view ns, const ListOptions& options) {
  return decode_list(transport_.request_sync(requests::list(type, ns, options)));
}

ListResult Client::list_all(const ResourceType& type, std::string_view ns, ListOptions options,
                            long page_size) {
  options.limit = page_size;
  options.continue_token.clear();
  ListResult all;
  while (true) {
    ListResult page;
    try {
      page = list(type, ns, options);
    } catch (const ApiError& e) {
      if (!is_gone(e) || options.continue_token.empty()) {
        throw;
      }
      // The continue token expired (etcd compacted past the list's snapshot):
      // like client-go's pager, fall back to one unpaged list of everything.
      options.limit = 0;
      options.continue_token.clear();
      return list(type, ns, options);
    }
    for (auto& item : page.items) {
      all.items.push_back(std::move(item));
    }
    all.resource_version = page.resource_version;
    if (page.continue_token.empty()) {
      return all;
    }
    options.continue_token = page.continue_token;
  }
}

Json Client::create(const ResourceType& type, std::string_view ns, const Json& object) {
  // Strict: a typo in a field users wrote (a Job's volumes, a Deployment's
  // template) is refused with the server's words instead of silently dropped.
  return decode(transport_.request_sync(
      requests::create(type, ns, object, WriteOptions{field_manager_, false, "Strict"})));
}

Json Client::update(const ResourceType& type, const Json& object) {
  return decode(
      transport_.request_sync(requests::update(type, object, {}, WriteOptions{field_manager_})));
}

Json Client::update_status(const ResourceType& type, const Json& object) {
  return decode(transport_.request_sync(
      requests::update(type, object, "status", WriteOptions{field_manager_})));
}

Json Client::patch(const ResourceType& type, std::string_view ns, std::string_view name,
                   PatchType patch_type, const Json& body, PatchOptions options) {
  if (options.field_manager.empty()) {
    options.field_manager = field_manager_;
  }
  return decode(
      transport_.request_sync(requests::patch(type, ns, name, patch_type, body.dump(), options)));
}

Json Client::apply(const ResourceType& type, const Json& object, bool force,
                   std::string_view subresource) {
  const std::string name = meta_string(object, "name");
  if (name.empty()) {
    throw std::invalid_argument("server-side apply of a " + type.name() + " needs metadata.name");
  }
  PatchOptions options;
  options.field_manager = field_manager_;
  options.force = force;
  options.subresource = std::string(subresource);
  return patch(type, meta_string(object, "namespace"), name, PatchType::Apply, object, options);
}

void Client::remove(const ResourceType& type, std::string_view ns, std::string_view name,
                    const DeleteOptions& options) {
  decode(transport_.request_sync(requests::remove(type, ns, name, options)));
}

}  // namespace cd4ml::kube
