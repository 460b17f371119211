#pragma once
// One decoded watch event: {"type": "...", "object": {...}}.

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "operator/kube/errors.hpp"

namespace cd4ml::kube {

struct WatchEvent {
  enum class Type { Added, Modified, Deleted, Bookmark, Error };
  Type type = Type::Added;
  nlohmann::json object;  // for Error: the metav1.Status

  // object.metadata.resourceVersion ("" for Error).
  std::string resource_version() const;
  // For Error events: Status.code (410 = Expired/Gone), else 0.
  int error_code() const;
};

// Throws std::invalid_argument with a short reason on malformed input: not
// JSON, not an object, no "type" string, an unknown type, no "object" object.
WatchEvent parse_watch_event(std::string_view line);

// The error an ERROR event carries (its metav1.Status), typed like a response
// error: code 410 / reason Expired gives ErrorKind::Gone. Only for Error events.
ApiError watch_error(const WatchEvent& event);

std::string_view to_string(WatchEvent::Type type);

}  // namespace cd4ml::kube
