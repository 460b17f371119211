#pragma once
// What a controller calls for each key: level-based, it reads the current
// state (from caches) and converges; it never depends on which event woke it.

#include <chrono>
#include <string>

namespace cd4ml::runtime {

struct Request {
  std::string ns;
  std::string name;
  std::string key() const { return ns.empty() ? name : ns + "/" + name; }
  static Request from_key(const std::string& key);
};

struct Result {
  // Deferred: nothing was decided because the reconciler knows an event that
  // brings the key back is on its way (the cache is behind the reconciler's
  // own write); `after` is when to come back if it does not. The key's
  // failure count and earlier planned wake-ups stay as they were.
  enum class Kind { Done, RequeueAfter, Error, Deferred };
  Kind kind = Kind::Done;
  // RequeueAfter, Deferred; Error: when to retry at the latest (0: the
  // backoff alone decides), for a deadline that falls before the next retry.
  std::chrono::milliseconds after{0};
  std::string error;  // Error: logged and counted, then retried with backoff; Deferred: why

  static Result done() { return {}; }
  static Result requeue_after(std::chrono::milliseconds d) { return {Kind::RequeueAfter, d, {}}; }
  static Result failed(std::string message, std::chrono::milliseconds retry_by = {}) {
    return {Kind::Error, retry_by, std::move(message)};
  }
  static Result deferred(std::string why, std::chrono::milliseconds come_back_after) {
    return {Kind::Deferred, come_back_after, std::move(why)};
  }
};

class Reconciler {
 public:
  virtual ~Reconciler() = default;
  // May throw: an exception counts as Result::failed with its message.
  virtual Result reconcile(const Request& request) = 0;
};

}  // namespace cd4ml::runtime
