#pragma once
// Plain request/response values exchanged with the transport, free of Beast
// types so that request building and response decoding are testable alone.

#include <chrono>
#include <optional>
#include <string>

namespace cd4ml::kube {

struct HttpRequest {
  std::string method = "GET";  // GET, POST, PUT, PATCH, DELETE
  std::string target;          // path and query, already escaped
  std::string body;
  std::string content_type;  // empty: no body
  std::string accept = "application/json";
  // Whole-request deadline for ordinary calls; for streams, the longest time
  // without any byte arriving (idle timeout).
  std::chrono::milliseconds timeout{std::chrono::seconds(30)};
  // Short verb for metrics and logs (get, list, watch, create, update, patch, delete, apply).
  std::string verb = "get";
  // Resource for metrics: "jobs", "trainingruns/status", ... ("" when unknown).
  std::string resource;
};

struct HttpResponse {
  int status = 0;
  std::string body;
  std::string content_type;
  std::optional<std::chrono::seconds> retry_after;
};

// Percent-encodes a query parameter value (RFC 3986 unreserved set kept).
std::string url_encode(std::string_view value);

}  // namespace cd4ml::kube
