#pragma once
// Where reconcilers tell what happened: core/v1 Events in production
// (EventRecorder), a list in tests (tests/support/recording_events.hpp).

#include <nlohmann/json.hpp>
#include <string_view>

namespace cd4ml::runtime {

class EventSink {
 public:
  virtual ~EventSink() = default;
  // `object` needs apiVersion, kind, metadata.{namespace,name,uid,resourceVersion}.
  // type: "Normal" or "Warning". Never blocks on the network.
  virtual void record(const nlohmann::json& object, std::string_view type, std::string_view reason,
                      std::string_view message) = 0;
};

}  // namespace cd4ml::runtime
