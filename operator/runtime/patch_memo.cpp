#include "operator/runtime/patch_memo.hpp"

#include "operator/kube/object_meta.hpp"
#include "operator/runtime/store.hpp"

namespace cd4ml::runtime {

PatchMemo::Entry* PatchMemo::behind_locked(const Json& cached) {
  const auto it = entries_.find(object_key(cached));
  if (it == entries_.end()) return nullptr;
  if (it->second.uid != kube::meta_string(cached, "uid") ||
      it->second.base != kube::meta_string(cached, "resourceVersion")) {
    // The cache has caught up (or the object was recreated): it is the truth again.
    entries_.erase(it);
    return nullptr;
  }
  return &it->second;
}

std::optional<Json> PatchMemo::unseen(const Json& cached) {
  std::lock_guard lock(mutex_);
  const Entry* entry = behind_locked(cached);
  if (entry == nullptr) return std::nullopt;
  return entry->patch;
}

std::optional<std::chrono::steady_clock::duration> PatchMemo::behind_for(const Json& cached) {
  std::lock_guard lock(mutex_);
  const Entry* entry = behind_locked(cached);
  if (entry == nullptr) return std::nullopt;
  return clock_.now() - entry->since;
}

void PatchMemo::sent(const Json& cached, const Json& patch, const Json& response) {
  const std::string key = object_key(cached);
  const std::string uid = kube::meta_string(cached, "uid");
  const std::string base = kube::meta_string(cached, "resourceVersion");
  const std::string now = kube::meta_string(response, "resourceVersion");
  std::lock_guard lock(mutex_);
  const auto it = entries_.find(key);
  const bool behind = it != entries_.end() && it->second.uid == uid && it->second.base == base;
  if (behind) {
    // Still on the same old copy: the cache will show both patches at once.
    it->second.patch.merge_patch(patch);
  } else if (now.empty() || now == base) {
    entries_.erase(key);
  } else {
    entries_[key] = Entry{uid, base, patch, clock_.now()};
  }
}

void PatchMemo::forget(const std::string& key) {
  std::lock_guard lock(mutex_);
  entries_.erase(key);
}

std::size_t PatchMemo::size() const {
  std::lock_guard lock(mutex_);
  return entries_.size();
}

}  // namespace cd4ml::runtime
