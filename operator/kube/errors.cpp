#include "operator/kube/errors.hpp"

#include <nlohmann/json.hpp>

namespace cd4ml::kube {

std::string_view to_string(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::BadRequest: return "BadRequest";
    case ErrorKind::Unauthorized: return "Unauthorized";
    case ErrorKind::Forbidden: return "Forbidden";
    case ErrorKind::NotFound: return "NotFound";
    case ErrorKind::Conflict: return "Conflict";
    case ErrorKind::AlreadyExists: return "AlreadyExists";
    case ErrorKind::Gone: return "Gone";
    case ErrorKind::Invalid: return "Invalid";
    case ErrorKind::TooManyRequests: return "TooManyRequests";
    case ErrorKind::ServerError: return "ServerError";
    case ErrorKind::Timeout: return "Timeout";
    case ErrorKind::Transport: return "Transport";
    case ErrorKind::Other: return "Other";
  }
  return "Other";
}

namespace {
std::string describe(ErrorKind kind, int http_status, const std::string& message) {
  std::string text(to_string(kind));
  if (http_status != 0) {
    text += " (HTTP " + std::to_string(http_status) + ")";
  }
  if (!message.empty()) {
    text += ": " + message;
  }
  return text;
}
}  // namespace

ApiError::ApiError(ErrorKind kind, int http_status, std::string reason, std::string message,
                   std::optional<std::chrono::seconds> retry_after)
    : std::runtime_error(describe(kind, http_status, message)),
      kind_(kind),
      http_status_(http_status),
      reason_(std::move(reason)),
      message_(std::move(message)),
      retry_after_(retry_after) {}

ErrorKind kind_from_status(int http_status, std::string_view reason) {
  if (reason == "AlreadyExists") return ErrorKind::AlreadyExists;
  if (reason == "Expired" || reason == "Gone") return ErrorKind::Gone;
  switch (http_status) {
    case 400: return ErrorKind::BadRequest;
    case 401: return ErrorKind::Unauthorized;
    case 403: return ErrorKind::Forbidden;
    case 404: return ErrorKind::NotFound;
    case 409: return ErrorKind::Conflict;
    case 410: return ErrorKind::Gone;
    case 422: return ErrorKind::Invalid;
    case 429: return ErrorKind::TooManyRequests;
    case 504: return ErrorKind::Timeout;
    default: break;
  }
  if (http_status >= 500 && http_status <= 599) return ErrorKind::ServerError;
  return ErrorKind::Other;
}

ApiError error_from_response(int http_status, std::string_view body,
                             std::optional<std::chrono::seconds> retry_after) {
  // Fields of another type than expected are ignored: the body comes from the
  // network and json::value() would throw a type_error on them.
  const auto string_field = [](const nlohmann::json& object, const char* key) {
    const auto it = object.find(key);
    return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  std::string reason;
  std::string message;
  const auto status = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (status.is_object() && string_field(status, "kind") == "Status") {
    reason = string_field(status, "reason");
    message = string_field(status, "message");
  } else {
    constexpr std::size_t kMaxQuoted = 512;
    message = std::string(body.substr(0, kMaxQuoted));
  }
  // Computed before `reason` is moved: argument evaluation order is unspecified.
  const ErrorKind kind = kind_from_status(http_status, reason);
  return ApiError(kind, http_status, std::move(reason), std::move(message), retry_after);
}

}  // namespace cd4ml::kube
