#pragma once
// Our own patches that the cache has not shown yet. Used for Service
// selectors here, and by StatusWriter (runtime/status_writes.hpp), which
// writes no status while the cache is behind its previous one.
//
// A controller that patches an object (a Service's selector) learns of it
// from its watch a few milliseconds later. A reconcile woken in between by
// another object would plan from the old copy: it would take the old
// selector for the truth, undo in status what the switch recorded and send
// the same patch again. So for each object we keep the patches sent and the
// resourceVersion they were sent on; while the cache still shows that
// resourceVersion, the controller plans from the cached copy with them
// applied, which is what the server holds. The entry is dropped as soon as
// the cache shows the object past it (ours or anyone's change).

#include <chrono>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <unordered_map>

#include "operator/util/clock.hpp"

namespace cd4ml::runtime {

using Json = nlohmann::json;

class PatchMemo {
 public:
  explicit PatchMemo(const util::Clock& clock) : clock_(clock) {}

  // The merge patch (all we sent, combined) that `cached` does not show
  // yet; nullopt if it shows everything (the entry, if any, is dropped).
  std::optional<Json> unseen(const Json& cached);
  // How long `cached` has been behind our patches (since the first of them
  // was sent); nullopt if it shows everything.
  std::optional<std::chrono::steady_clock::duration> behind_for(const Json& cached);
  // After the merge patch `patch` was applied on top of `cached` (as the
  // controller saw it, unseen patches included); `response` is the server's
  // object. A patch that changed nothing on an up-to-date copy keeps the
  // resourceVersion: no event follows, nothing is remembered.
  void sent(const Json& cached, const Json& patch, const Json& response);
  // The object is gone: its entry (if any) with it.
  void forget(const std::string& key);
  std::size_t size() const;

 private:
  struct Entry {
    std::string uid;
    std::string base;
    Json patch;
    std::chrono::steady_clock::time_point since;
  };
  // The entry `cached` is behind, or null (a stale entry is dropped). Locked.
  Entry* behind_locked(const Json& cached);

  const util::Clock& clock_;
  mutable std::mutex mutex_;
  std::unordered_map<std::string, Entry> entries_;
};

}  // namespace cd4ml::runtime
