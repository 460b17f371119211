#include "operator/runtime/status_writes.hpp"

#include "operator/kube/object_meta.hpp"
#include "operator/runtime/store.hpp"

namespace cd4ml::runtime {

bool StatusWriteMemo::may_write(const Json& cached) {
  const std::string key = object_key(cached);
  std::lock_guard lock(mutex_);
  const auto it = entries_.find(key);
  if (it == entries_.end()) return true;
  if (it->second.uid == kube::meta_string(cached, "uid") &&
      it->second.base == kube::meta_string(cached, "resourceVersion")) {
    return false;
  }
  // The cache has caught up (or the object was recreated): it is the truth again.
  entries_.erase(it);
  return true;
}

void StatusWriteMemo::written(const Json& cached, const Json& response) {
  const std::string base = kube::meta_string(cached, "resourceVersion");
  const std::string now = kube::meta_string(response, "resourceVersion");
  std::lock_guard lock(mutex_);
  if (now.empty() || now == base) {
    entries_.erase(object_key(cached));
    return;
  }
  entries_[object_key(cached)] = Entry{kube::meta_string(cached, "uid"), base};
}

void StatusWriteMemo::forget(const std::string& key) {
  std::lock_guard lock(mutex_);
  entries_.erase(key);
}

std::size_t StatusWriteMemo::size() const {
  std::lock_guard lock(mutex_);
  return entries_.size();
}

StatusWriter::StatusWriter(kube::Client& client, const kube::ResourceType& type)
    : client_(client), type_(type) {}

bool StatusWriter::write(const Json& cached, const Json& status) {
  if (!memo_.may_write(cached)) return false;
  Json updated = cached;
  updated["status"] = status;
  memo_.written(cached, client_.update_status(type_, updated));
  return true;
}

}  // namespace cd4ml::runtime
