#pragma once
// The informer's in-memory copy of one resource type: objects by
// namespace/name, plus secondary indexes (namespace, label, controller owner,
// and any custom one). Readers get shared pointers to immutable JSON, so a
// reconcile holds a consistent object even while the watch replaces it.

#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace cd4ml::runtime {

using Json = nlohmann::json;
using ObjectPtr = std::shared_ptr<const Json>;

// "namespace/name", or "name" for cluster-scoped objects.
std::string object_key(const Json& object);
std::string object_key(std::string_view ns, std::string_view name);

// Maps an object to the index values it should be found under.
using IndexFunc = std::function<std::vector<std::string>(const Json&)>;

namespace indexes {
inline constexpr const char* kNamespace = "namespace";
// Values "key=value" for every label.
inline constexpr const char* kLabel = "label";
// Value: uid of the ownerReference with controller=true.
inline constexpr const char* kControllerOwner = "controller-owner";
}  // namespace indexes

class Store {
 public:
  Store();

  // Custom indexes must be added before the first object arrives.
  void add_index(const std::string& name, IndexFunc func);

  ObjectPtr get(std::string_view ns, std::string_view name) const;  // null if absent
  ObjectPtr get(const std::string& key) const;
  std::vector<ObjectPtr> list() const;
  std::vector<ObjectPtr> list(std::string_view ns) const;
  std::vector<ObjectPtr> by_index(const std::string& index, const std::string& value) const;
  std::vector<ObjectPtr> by_label(std::string_view label_key, std::string_view label_value,
                                  std::string_view ns = {}) const;
  std::vector<ObjectPtr> by_controller_owner(std::string_view owner_uid) const;
  std::size_t size() const;

  // Mutations, used by the informer. Each returns the previous object (or null).
  ObjectPtr upsert(ObjectPtr object);
  ObjectPtr erase(const std::string& key);

  struct ReplaceDelta {
    std::vector<ObjectPtr> added;
    std::vector<std::pair<ObjectPtr, ObjectPtr>> updated;  // (old, new), resourceVersion changed
    std::vector<ObjectPtr> deleted;
  };
  // Swaps the whole content for a fresh list and reports the differences, so
  // handlers see deletions that happened while the watch was down.
  ReplaceDelta replace(std::vector<ObjectPtr> objects);

 private:
  void index_locked(const std::string& key, const Json& object);
  void unindex_locked(const std::string& key, const Json& object);

  mutable std::shared_mutex mutex_;
  std::unordered_map<std::string, ObjectPtr> objects_;
  std::map<std::string, IndexFunc> index_funcs_;
  // index name -> value -> keys
  std::unordered_map<std::string, std::unordered_map<std::string, std::unordered_set<std::string>>>
      indexes_;
};

}  // namespace cd4ml::runtime
