#include "operator/runtime/store.hpp"

#include <mutex>
#include <stdexcept>

namespace cd4ml::runtime {

namespace {

const Json& metadata_of(const Json& object) {
  static const Json kEmpty = Json::object();
  if (!object.is_object()) return kEmpty;
  const auto it = object.find("metadata");
  return it != object.end() && it->is_object() ? *it : kEmpty;
}

std::string string_field(const Json& object, const char* field) {
  const auto it = object.find(field);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::string resource_version_of(const Json& object) {
  return string_field(metadata_of(object), "resourceVersion");
}

std::vector<std::string> namespace_values(const Json& object) {
  std::string ns = string_field(metadata_of(object), "namespace");
  if (ns.empty()) return {};
  return {std::move(ns)};
}

std::vector<std::string> label_values(const Json& object) {
  std::vector<std::string> values;
  const Json& metadata = metadata_of(object);
  const auto labels = metadata.find("labels");
  if (labels == metadata.end() || !labels->is_object()) return values;
  for (const auto& [key, value] : labels->items()) {
    if (value.is_string()) values.push_back(key + "=" + value.get<std::string>());
  }
  return values;
}

std::vector<std::string> controller_owner_values(const Json& object) {
  const Json& metadata = metadata_of(object);
  const auto refs = metadata.find("ownerReferences");
  if (refs == metadata.end() || !refs->is_array()) return {};
  for (const auto& ref : *refs) {
    if (ref.is_object() && ref.value("controller", false)) {
      std::string uid = string_field(ref, "uid");
      if (!uid.empty()) return {std::move(uid)};
    }
  }
  return {};
}

}  // namespace

std::string object_key(std::string_view ns, std::string_view name) {
  if (ns.empty()) return std::string(name);
  std::string key;
  key.reserve(ns.size() + 1 + name.size());
  key.append(ns).append("/").append(name);
  return key;
}

std::string object_key(const Json& object) {
  const Json& metadata = metadata_of(object);
  return object_key(string_field(metadata, "namespace"), string_field(metadata, "name"));
}

Store::Store() {
  index_funcs_.emplace(indexes::kNamespace, namespace_values);
  index_funcs_.emplace(indexes::kLabel, label_values);
  index_funcs_.emplace(indexes::kControllerOwner, controller_owner_values);
}

void Store::add_index(const std::string& name, IndexFunc func) {
  if (!func) throw std::invalid_argument("index \"" + name + "\" has no function");
  std::unique_lock lock(mutex_);
  if (!index_funcs_.emplace(name, std::move(func)).second) {
    throw std::invalid_argument("index \"" + name + "\" already exists");
  }
  // Objects already stored are indexed too, so a late index is merely slower.
  auto& index = indexes_[name];
  const auto& index_func = index_funcs_.at(name);
  for (const auto& [key, object] : objects_) {
    for (auto& value : index_func(*object)) index[std::move(value)].insert(key);
  }
}

ObjectPtr Store::get(std::string_view ns, std::string_view name) const {
  return get(object_key(ns, name));
}

ObjectPtr Store::get(const std::string& key) const {
  std::shared_lock lock(mutex_);
  const auto it = objects_.find(key);
  return it == objects_.end() ? nullptr : it->second;
}

std::vector<ObjectPtr> Store::list() const {
  std::shared_lock lock(mutex_);
  std::vector<ObjectPtr> out;
  out.reserve(objects_.size());
  for (const auto& [key, object] : objects_) out.push_back(object);
  return out;
}

std::vector<ObjectPtr> Store::list(std::string_view ns) const {
  if (ns.empty()) return list();
  return by_index(indexes::kNamespace, std::string(ns));
}

std::vector<ObjectPtr> Store::by_index(const std::string& index, const std::string& value) const {
  std::shared_lock lock(mutex_);
  if (!index_funcs_.contains(index)) {
    throw std::invalid_argument("no index named \"" + index + "\"");
  }
  std::vector<ObjectPtr> out;
  const auto values = indexes_.find(index);
  if (values == indexes_.end()) return out;
  const auto keys = values->second.find(value);
  if (keys == values->second.end()) return out;
  out.reserve(keys->second.size());
  for (const auto& key : keys->second) out.push_back(objects_.at(key));
  return out;
}

std::vector<ObjectPtr> Store::by_label(std::string_view label_key, std::string_view label_value,
                                       std::string_view ns) const {
  std::string value;
  value.append(label_key).append("=").append(label_value);
  auto matches = by_index(indexes::kLabel, value);
  if (ns.empty()) return matches;
  std::vector<ObjectPtr> out;
  for (auto& object : matches) {
    if (string_field(metadata_of(*object), "namespace") == ns) out.push_back(std::move(object));
  }
  return out;
}

std::vector<ObjectPtr> Store::by_controller_owner(std::string_view owner_uid) const {
  return by_index(indexes::kControllerOwner, std::string(owner_uid));
}

std::size_t Store::size() const {
  std::shared_lock lock(mutex_);
  return objects_.size();
}

ObjectPtr Store::upsert(ObjectPtr object) {
  if (!object) throw std::invalid_argument("Store::upsert of a null object");
  const std::string key = object_key(*object);
  std::unique_lock lock(mutex_);
  auto& slot = objects_[key];
  ObjectPtr previous = std::move(slot);
  if (previous) unindex_locked(key, *previous);
  slot = std::move(object);
  index_locked(key, *slot);
  return previous;
}

ObjectPtr Store::erase(const std::string& key) {
  std::unique_lock lock(mutex_);
  const auto it = objects_.find(key);
  if (it == objects_.end()) return nullptr;
  ObjectPtr previous = std::move(it->second);
  objects_.erase(it);
  unindex_locked(key, *previous);
  return previous;
}

Store::ReplaceDelta Store::replace(std::vector<ObjectPtr> objects) {
  std::unordered_map<std::string, ObjectPtr> fresh;
  fresh.reserve(objects.size());
  for (auto& object : objects) {
    if (!object) throw std::invalid_argument("Store::replace with a null object");
    // A key listed twice keeps its last copy.
    fresh[object_key(*object)] = std::move(object);
  }

  ReplaceDelta delta;
  std::unique_lock lock(mutex_);
  for (const auto& [key, object] : fresh) {
    const auto old = objects_.find(key);
    if (old == objects_.end()) {
      delta.added.push_back(object);
    } else if (resource_version_of(*old->second) != resource_version_of(*object)) {
      delta.updated.emplace_back(old->second, object);
    }
  }
  for (const auto& [key, object] : objects_) {
    if (!fresh.contains(key)) delta.deleted.push_back(object);
  }
  objects_ = std::move(fresh);
  indexes_.clear();
  for (const auto& [key, object] : objects_) index_locked(key, *object);
  return delta;
}

void Store::index_locked(const std::string& key, const Json& object) {
  for (const auto& [name, func] : index_funcs_) {
    auto& index = indexes_[name];
    for (auto& value : func(object)) index[std::move(value)].insert(key);
  }
}

void Store::unindex_locked(const std::string& key, const Json& object) {
  for (const auto& [name, func] : index_funcs_) {
    auto& index = indexes_[name];
    for (const auto& value : func(object)) {
      const auto keys = index.find(value);
      if (keys == index.end()) continue;
      keys->second.erase(key);
      // Drop empty buckets so a churn of label values cannot grow the index forever.
      if (keys->second.empty()) index.erase(keys);
    }
  }
}

}  // namespace cd4ml::runtime
