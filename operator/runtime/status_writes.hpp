#pragma once
// Status writes that do not fight the controller's own cache.
//
// A reconcile reads the object from the informer cache, and the cache learns
// of our own status write only when its watch event arrives. A reconcile that
// runs in between (another owned object changed) sees the old status, plans
// from it and PUTs with the old resourceVersion: a certain 409 and a retry,
// several per rollout. So for each object we keep the resourceVersion our
// last status write was made on (`base`). While the cache still shows `base`,
// no status is written, and controllers do not even plan (wait_for_own_write):
// a plan from status older than what the server holds would drop what our
// write recorded (status is the controller's memory, e.g. why a revision was
// replaced) and re-decide its transition (its Event told twice). Our write's
// watch event is on its way and reconciles the object again on fresh data.
// Once the cache moves past `base` the entry is dropped.
//
// The wait is bounded (kOwnWriteWait): if that watch is down (a CRD watch
// backing off while the Deployment watch works), a switch to a candidate that
// became ready must not wait for it to come back. Past the bound the
// controller plans anyway; only the status write still waits.

#include <chrono>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "operator/kube/writer.hpp"
#include "operator/runtime/patch_memo.hpp"

namespace cd4ml::runtime {

using Json = nlohmann::json;

// Why a reconcile that waits for its own write was deferred.
inline constexpr const char* kCacheBehind = "the cache has not shown our last status write yet";
// Watch events take milliseconds; a healthy watch is never near this.
inline constexpr std::chrono::milliseconds kOwnWriteWait{2000};

class StatusWriter {
 public:
  StatusWriter(kube::Writer& writer, const kube::ResourceType& type, const util::Clock& clock);
  // Writes `status` onto the cached object through the status subresource,
  // unless the cache is still behind our previous write. True if a request was sent.
  bool write(const Json& cached, const Json& status);
  // While the cache still shows the copy our last status write was made on,
  // and for at most kOwnWriteWait after that write: how much longer to wait.
  // A reconcile on such a copy decides again what the previous one decided
  // (and would record its Events twice); it should wait for our write's
  // watch event, which wakes the object again, and come back after the
  // returned time in case that event does not come.
  std::optional<std::chrono::milliseconds> wait_for_own_write(const Json& cached);
  // The object is gone from the cache.
  void forget(const std::string& key) { memo_.forget(key); }

 private:
  kube::Writer& writer_;
  const kube::ResourceType& type_;
  // Our status writes the cache has not shown yet (the resourceVersion each
  // was made on is what matters here, not its content).
  PatchMemo memo_;
};

}  // namespace cd4ml::runtime
