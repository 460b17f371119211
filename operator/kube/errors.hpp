#pragma once
// Typed errors for everything that can go wrong talking to the API server.
// Callers branch on kind() (NotFound, Conflict, ...) the way client-go callers
// use apierrors.IsNotFound; the server's Status message is kept verbatim so it
// can reach a user's condition message or log line.

#include <chrono>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace cd4ml::kube {

enum class ErrorKind {
  BadRequest,       // 400
  Unauthorized,     // 401
  Forbidden,        // 403
  NotFound,         // 404
  Conflict,         // 409 (resourceVersion precondition)
  AlreadyExists,    // 409 with reason AlreadyExists
  Gone,             // 410, also watch ERROR events with code 410 ("Expired")
  Invalid,          // 422
  TooManyRequests,  // 429
  ServerError,      // 5xx
  Timeout,          // client-side deadline or server 504
  Transport,        // connection refused/reset, TLS failure, malformed HTTP
  Other,
};

std::string_view to_string(ErrorKind kind);

class ApiError : public std::runtime_error {
 public:
  ApiError(ErrorKind kind, int http_status, std::string reason, std::string message,
           std::optional<std::chrono::seconds> retry_after = std::nullopt);

  ErrorKind kind() const { return kind_; }
  // HTTP status of the response; 0 when no response arrived (Transport, Timeout).
  int http_status() const { return http_status_; }
  // metav1.Status reason, e.g. "NotFound", "AlreadyExists", "Expired".
  const std::string& reason() const { return reason_; }
  // metav1.Status message as the server wrote it.
  const std::string& status_message() const { return message_; }
  // For users: the server's message, or what() when no Status came back
  // (transport errors, bodies that were not a Status).
  std::string user_message() const { return message_.empty() ? std::string(what()) : message_; }
  std::optional<std::chrono::seconds> retry_after() const { return retry_after_; }

 private:
  ErrorKind kind_;
  int http_status_;
  std::string reason_;
  std::string message_;
  std::optional<std::chrono::seconds> retry_after_;
};

// Builds the error for a non-2xx response. The body is parsed as a metav1.Status
// when it is one; otherwise its first bytes become the message.
ApiError error_from_response(int http_status, std::string_view body,
                             std::optional<std::chrono::seconds> retry_after = std::nullopt);

// Kind of an error status, from the HTTP code and Status.reason together
// (409 means AlreadyExists or Conflict depending on reason).
ErrorKind kind_from_status(int http_status, std::string_view reason);

inline bool is_not_found(const ApiError& e) {
  return e.kind() == ErrorKind::NotFound;
}
inline bool is_conflict(const ApiError& e) {
  return e.kind() == ErrorKind::Conflict;
}
inline bool is_already_exists(const ApiError& e) {
  return e.kind() == ErrorKind::AlreadyExists;
}
inline bool is_gone(const ApiError& e) {
  return e.kind() == ErrorKind::Gone;
}

}  // namespace cd4ml::kube
