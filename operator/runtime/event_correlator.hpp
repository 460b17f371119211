#pragma once
// The decisions behind the event recorder, free of I/O so they are tested
// alone (client-go's EventCorrelator, reduced to what this operator needs):
//   - spam filter: a token bucket per involved object (burst 25, one more every
//     5 minutes); an event without a token is dropped;
//   - dedupe: the same (object uid, type, reason, message) seen again within
//     the window patches the existing Event (count + 1, lastTimestamp) instead
//     of creating another.
// Not thread-safe: the recorder calls it under its own lock.

#include <chrono>
#include <list>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <unordered_map>

#include "operator/util/clock.hpp"
#include "operator/util/token_bucket.hpp"

namespace cd4ml::runtime {

struct EventCorrelatorOptions {
  int burst = 25;
  std::chrono::seconds refill_interval{300};
  std::chrono::seconds dedupe_window{600};
  // Objects and distinct events remembered; the least recently seen go first.
  std::size_t max_tracked = 4096;
};

struct EventKey {
  std::string uid;
  std::string type;
  std::string reason;
  std::string message;
};

struct EventDecision {
  enum class Action { Create, Patch, Drop };
  Action action = Action::Drop;
  std::string name;  // the Event's metadata.name
  int count = 0;
  std::chrono::system_clock::time_point first_timestamp{};
  std::chrono::system_clock::time_point last_timestamp{};
};

class EventCorrelator {
 public:
  EventCorrelator(EventCorrelatorOptions options, const util::Clock& clock);
  ~EventCorrelator();

  // What to do with one more occurrence of `key` on the object named `object_name`.
  EventDecision correlate(const EventKey& key, std::string_view object_name);

  std::size_t tracked_objects() const;
  std::size_t tracked_events() const;

 private:
  struct Bucket;
  struct Seen;
  template <typename V>
  struct Lru;

  std::string next_name(std::string_view object_name);

  EventCorrelatorOptions options_;
  const util::Clock& clock_;
  std::unique_ptr<Lru<std::unique_ptr<util::TokenBucket>>> buckets_;
  std::unique_ptr<Lru<Seen>> seen_;
  long long last_name_nanos_ = 0;
};

// Longest message the API server accepts in an Event is 1 KiB; longer ones
// are cut on a UTF-8 character boundary.
std::string truncate_event_message(std::string_view message, std::size_t max_bytes = 1024);

struct EventReporter {
  std::string component;  // source.component, reportingComponent
  std::string host;       // source.host, reportingInstance
};

// The core/v1 Event to POST for a Create decision (or a Patch that found the
// Event gone). `object` needs apiVersion, kind, metadata.{namespace,name,uid,resourceVersion}.
nlohmann::json make_event(const nlohmann::json& object, std::string_view type,
                          std::string_view reason, std::string_view message,
                          const EventDecision& decision, const EventReporter& reporter);
// The merge patch for a Patch decision.
nlohmann::json make_event_patch(const EventDecision& decision, std::string_view message);
// Namespace the Event lives in: the object's, or "default" for cluster-scoped objects.
std::string event_namespace(const nlohmann::json& object);

}  // namespace cd4ml::runtime
