#pragma once
// Records core/v1 Events on objects, like client-go's recorder:
//   - the same (object, type, reason, message) within 10 minutes updates the
//     existing Event's count and lastTimestamp instead of creating a new one;
//   - a per-object token bucket (burst 25, one more every 5 minutes) drops
//     events from a hot loop rather than flooding the API;
//   - sending never blocks the caller: events go to the io thread one at a
//     time, and are dropped (and counted) if the API is down or more than
//     max_pending are waiting.
// The decisions are EventCorrelator's (event_correlator.hpp), tested alone.

#include <chrono>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "operator/kube/transport.hpp"
#include "operator/runtime/event_correlator.hpp"
#include "operator/runtime/event_sink.hpp"
#include "operator/util/clock.hpp"

namespace cd4ml::runtime {

struct EventRecorderOptions {
  std::string component = "cd4ml-operator";
  std::string host;  // reportingInstance
  int burst = 25;
  std::chrono::seconds refill_interval{300};
  std::chrono::seconds dedupe_window{600};
  std::size_t max_pending = 1000;
};

class EventRecorder final : public EventSink {
 public:
  EventRecorder(kube::Transport& transport, EventRecorderOptions options, const util::Clock& clock);
  ~EventRecorder() override;
  EventRecorder(const EventRecorder&) = delete;
  EventRecorder& operator=(const EventRecorder&) = delete;

  // Thread-safe.
  void record(const nlohmann::json& object, std::string_view type, std::string_view reason,
              std::string_view message) override;

  // Counts for tests and metrics: Events created, patched (deduplicated), and
  // dropped (spam filter, queue full, or the API refused or was unreachable).
  long created() const;
  long updated() const;
  long dropped() const;
  // Blocks until every event recorded so far has been sent or dropped, or the
  // timeout passes (tests, shutdown). Returns false on timeout.
  bool flush(std::chrono::milliseconds timeout);

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace cd4ml::runtime
