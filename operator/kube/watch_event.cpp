#include "operator/kube/watch_event.hpp"

#include <stdexcept>

namespace cd4ml::kube {

namespace {
WatchEvent::Type parse_type(std::string_view type) {
  if (type == "ADDED") return WatchEvent::Type::Added;
  if (type == "MODIFIED") return WatchEvent::Type::Modified;
  if (type == "DELETED") return WatchEvent::Type::Deleted;
  if (type == "BOOKMARK") return WatchEvent::Type::Bookmark;
  if (type == "ERROR") return WatchEvent::Type::Error;
  constexpr std::size_t kMaxQuoted = 64;
  throw std::invalid_argument("unknown watch event type \"" +
                              std::string(type.substr(0, kMaxQuoted)) + "\"");
}
}  // namespace

std::string WatchEvent::resource_version() const {
  if (type == Type::Error || !object.is_object()) {
    return {};
  }
  const auto metadata = object.find("metadata");
  if (metadata == object.end() || !metadata->is_object()) {
    return {};
  }
  const auto rv = metadata->find("resourceVersion");
  if (rv == metadata->end() || !rv->is_string()) {
    return {};
  }
  return rv->get<std::string>();
}

int WatchEvent::error_code() const {
  if (type != Type::Error || !object.is_object()) {
    return 0;
  }
  const auto code = object.find("code");
  if (code == object.end() || !code->is_number_integer()) {
    return 0;
  }
  return code->get<int>();
}

WatchEvent parse_watch_event(std::string_view line) {
  auto doc = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) {
    throw std::invalid_argument("watch event is not JSON");
  }
  if (!doc.is_object()) {
    throw std::invalid_argument("watch event is not a JSON object");
  }
  const auto type = doc.find("type");
  if (type == doc.end() || !type->is_string()) {
    throw std::invalid_argument("watch event has no \"type\" string");
  }
  WatchEvent event;
  event.type = parse_type(type->get_ref<const std::string&>());
  const auto object = doc.find("object");
  if (object == doc.end() || !object->is_object()) {
    throw std::invalid_argument("watch event has no \"object\" object");
  }
  event.object = std::move(*object);
  return event;
}

ApiError watch_error(const WatchEvent& event) {
  if (event.type != WatchEvent::Type::Error) {
    throw std::logic_error("watch_error called on a " + std::string(to_string(event.type)) +
                           " event");
  }
  std::string reason;
  std::string message;
  if (event.object.is_object()) {
    const auto r = event.object.find("reason");
    if (r != event.object.end() && r->is_string()) reason = r->get<std::string>();
    const auto m = event.object.find("message");
    if (m != event.object.end() && m->is_string()) message = m->get<std::string>();
  }
  const int code = event.error_code();
  // Decided before the call: arguments are evaluated in no fixed order, and
  // the moves below would otherwise empty `reason` first (GCC does that).
  const ErrorKind kind = kind_from_status(code, reason);
  return ApiError(kind, code, std::move(reason), std::move(message));
}

std::string_view to_string(WatchEvent::Type type) {
  switch (type) {
    case WatchEvent::Type::Added: return "ADDED";
    case WatchEvent::Type::Modified: return "MODIFIED";
    case WatchEvent::Type::Deleted: return "DELETED";
    case WatchEvent::Type::Bookmark: return "BOOKMARK";
    case WatchEvent::Type::Error: return "ERROR";
  }
  return "UNKNOWN";
}

}  // namespace cd4ml::kube
