#pragma once
// The Prometheus HTTP API, instant queries only (GET /api/v1/query), for the
// live analysis of a release. Kept beside the Kubernetes client: one more
// HTTP client with the same care (deadline on every request, TLS verified
// against the system trust store or a given CA, bearer token, bounded
// response, strict decoding), but a separate connection per query: queries
// come every interval per release, not hundreds per second.

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cd4ml::kube {

// One element of an instant query's result: a series' labels and value (a
// scalar result is one sample without labels). NaN and +-Inf are kept.
struct PromSample {
  std::map<std::string, std::string> labels;
  double value = 0;
};

struct PromResult {
  bool ok = false;
  std::vector<PromSample> samples;  // ok: the vector (possibly empty) or the scalar
  // !ok: why, for status and Events: Prometheus's own errorType and error
  // for a refused query, or the transport's reason (refused, timeout, TLS).
  std::string error;
};

// Decodes a /api/v1/query answer (HTTP status and body). Strict: "success"
// must carry data.resultType "vector" or "scalar" with well-formed samples
// (value [<time>, "<float>"]); anything else is an error naming what was
// wrong. "error" answers give Prometheus's message.
PromResult parse_prom_response(int http_status, std::string_view body);

struct PromEndpoint {
  std::string address;       // http(s)://host[:port][/prefix]
  std::string bearer_token;  // "" = none (never sent over plain http)
  std::string ca_pem;        // "" = the system trust store (https)
};

struct PromClientOptions {
  std::chrono::milliseconds timeout{std::chrono::seconds(10)};  // whole request
  std::size_t max_body_bytes = std::size_t{4} * 1024 * 1024;
  std::string user_agent;  // default: cd4ml-operator/<version>
};

// What the analysis asks of Prometheus; an interface so the planner's callers
// can be tested without one. Thread-safe: reconcile workers call it at once.
class PromQuerier {
 public:
  virtual ~PromQuerier() = default;
  // Evaluates `promql` at `at` (the same instant for a candidate and the
  // active revision). Never throws: every failure is a !ok result.
  virtual PromResult query(const PromEndpoint& endpoint, const std::string& promql,
                           std::chrono::system_clock::time_point at) = 0;
};

// The real one, over Boost.Beast (blocking on a private io_context per call).
std::unique_ptr<PromQuerier> make_prom_client(PromClientOptions options = {});

}  // namespace cd4ml::kube
