#pragma once
// A runtime::EventSink that keeps what it is told, for reconciler tests.

#include <string>
#include <vector>

#include "operator/runtime/event_sink.hpp"

namespace cd4ml::test_support {

class RecordingEvents final : public runtime::EventSink {
 public:
  struct Event {
    std::string type;
    std::string reason;
    std::string message;
  };

  void record(const nlohmann::json& /*object*/, std::string_view type, std::string_view reason,
              std::string_view message) override {
    events_.push_back({std::string(type), std::string(reason), std::string(message)});
  }
  const std::vector<Event>& events() const { return events_; }
  std::vector<std::string> reasons() const {
    std::vector<std::string> out;
    for (const auto& e : events_) out.push_back(e.reason);
    return out;
  }

 private:
  std::vector<Event> events_;
};

}  // namespace cd4ml::test_support
