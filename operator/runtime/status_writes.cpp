#include "operator/runtime/status_writes.hpp"

#include "operator/runtime/store.hpp"

namespace cd4ml::runtime {

namespace {

std::string meta(const Json& object, const char* field) {
  const auto it = object.find("metadata");
  if (it == object.end() || !it->is_object()) return {};
  return it->value(field, std::string());
}

}  // namespace

StatusWriteMemo::Decision StatusWriteMemo::decide(const Json& cached, const Json& status) {
  const std::string key = object_key(cached);
  std::lock_guard lock(mutex_);
  const auto it = entries_.find(key);
  if (it == entries_.end()) return {};
  const Entry& entry = it->second;
  if (entry.uid != meta(cached, "uid") || entry.base != meta(cached, "resourceVersion")) {
    // The cache has caught up (or the object was recreated): it is the truth again.
    entries_.erase(it);
    return {};
  }
  if (entry.status == status) return {false, {}};
  return {true, entry.written};
}

void StatusWriteMemo::written(const Json& cached, const Json& status, const Json& response) {
  const std::string written = meta(response, "resourceVersion");
  if (written.empty()) return;
  std::lock_guard lock(mutex_);
  entries_[object_key(cached)] =
      Entry{meta(cached, "uid"), meta(cached, "resourceVersion"), written, status};
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
  const StatusWriteMemo::Decision decision = memo_.decide(cached, status);
  if (!decision.send) return false;
  Json updated = cached;
  updated["status"] = status;
  if (!decision.resource_version.empty()) {
    updated["metadata"]["resourceVersion"] = decision.resource_version;
  }
  const Json response = client_.update_status(type_, updated);
  memo_.written(cached, status, response);
  return true;
}

}  // namespace cd4ml::runtime
