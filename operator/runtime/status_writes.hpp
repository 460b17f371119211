#pragma once
// Status writes that do not fight the controller's own cache.
//
// A reconcile reads the object from the informer cache, and the cache learns
// of our own status write only when its watch event arrives. A reconcile that
// runs in between (another owned object changed) sees the old status, plans
// the status it just wrote again and PUTs it with the old resourceVersion:
// a certain 409 and a retry, several per rollout. So for each object we keep
// the last status we wrote, the resourceVersion it was written on top of
// (`base`) and the one the server answered (`written`). While the cache still
// shows `base`:
// - the same status again is skipped (the server has it; its watch event will
//   wake us once more);
// - a different status is written on `written`: the object at `written` is the
//   cached one plus our status, so optimistic concurrency still holds (any
//   other change since then makes the server answer 409 as before).
// Once the cache moves past `base` the entry is dropped.

#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <unordered_map>

#include "operator/kube/client.hpp"

namespace cd4ml::runtime {

using Json = nlohmann::json;

class StatusWriteMemo {
 public:
  struct Decision {
    bool send = true;
    std::string resource_version;  // to send with; empty = the cached object's
  };
  Decision decide(const Json& cached, const Json& status);
  // After a successful write of `status` on `cached`; `response` is the server's object.
  void written(const Json& cached, const Json& status, const Json& response);
  void forget(const std::string& key);
  std::size_t size() const;

 private:
  struct Entry {
    std::string uid;
    std::string base;
    std::string written;
    Json status;
  };
  mutable std::mutex mutex_;
  std::unordered_map<std::string, Entry> entries_;
};

class StatusWriter {
 public:
  StatusWriter(kube::Client& client, const kube::ResourceType& type);
  // Writes `status` onto the cached object through the status subresource,
  // unless the memo shows the server has it already. True if a request was sent.
  bool write(const Json& cached, const Json& status);
  // The object is gone from the cache.
  void forget(const std::string& key) { memo_.forget(key); }

 private:
  kube::Client& client_;
  const kube::ResourceType& type_;
  StatusWriteMemo memo_;
};

}  // namespace cd4ml::runtime
