#pragma once
// Objects a controller deleted that its cache still shows.
//
// The DELETE is answered at once; the watch event that removes the object
// from the cache comes a few milliseconds later. A reconcile in between
// (woken by another object) would plan from a cache that still holds the
// object: the ModelRelease planner, for one, rebuilds a revision record for
// every Deployment it owns, prunes it again and sends a second DELETE. So
// each owner keeps the UIDs it deleted, the controller plans without them,
// and an entry is dropped once the cache no longer shows that object.
// One memo per kind of object: hide_deleted() takes all of an owner's
// objects of that kind, and what it does not see counts as caught up.

#include <cstddef>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

namespace cd4ml::runtime {

using Json = nlohmann::json;

class DeleteMemo {
 public:
  // `object` (as cached) was deleted on behalf of `owner` (a key of the
  // controller's primary object): the DELETE succeeded or found it gone.
  void sent(const std::string& owner, const Json& object);
  // Removes from `cached` (the owner's objects as its cache shows them) those
  // deleted through sent(); forgets deletions the cache has caught up with.
  void hide_deleted(const std::string& owner, std::vector<Json>& cached);
  // The owner is gone: its entries with it.
  void forget(const std::string& owner);
  std::size_t size() const;

 private:
  mutable std::mutex mutex_;
  std::unordered_map<std::string, std::set<std::string>> deleted_uids_;
};

}  // namespace cd4ml::runtime
