#include "operator/runtime/delete_memo.hpp"

#include "operator/kube/object_meta.hpp"

namespace cd4ml::runtime {

void DeleteMemo::sent(const std::string& owner, const Json& object) {
  const std::string& uid = kube::meta_string(object, "uid");
  if (uid.empty()) return;
  std::lock_guard lock(mutex_);
  deleted_uids_[owner].insert(uid);
}

void DeleteMemo::hide_deleted(const std::string& owner, std::vector<Json>& cached) {
  std::lock_guard lock(mutex_);
  const auto it = deleted_uids_.find(owner);
  if (it == deleted_uids_.end()) return;
  std::set<std::string> still_cached;
  std::erase_if(cached, [&](const Json& object) {
    const std::string& uid = kube::meta_string(object, "uid");
    if (!it->second.contains(uid)) return false;
    still_cached.insert(uid);
    return true;
  });
  // What the cache no longer shows, it has caught up with: a later object of
  // the same name has a new UID and is planned from as usual.
  if (still_cached.empty()) {
    deleted_uids_.erase(it);
  } else {
    it->second = std::move(still_cached);
  }
}

void DeleteMemo::forget(const std::string& owner) {
  std::lock_guard lock(mutex_);
  deleted_uids_.erase(owner);
}

std::size_t DeleteMemo::size() const {
  std::lock_guard lock(mutex_);
  std::size_t n = 0;
  for (const auto& [owner, uids] : deleted_uids_) n += uids.size();
  return n;
}

}  // namespace cd4ml::runtime
