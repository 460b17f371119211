// A Prometheus /api/v1/query answer: whatever answers at the address a
// ModelRelease names (Prometheus, a proxy, something else), so any bytes.
// Besides crashes and sanitizer findings, what parse_prom_response promises:
// a result is either ok with no error, or not ok with a reason and no samples,
// and a scalar or vector sample never comes from a non-2xx answer.
//
// Input: byte 0 chooses the HTTP status, the rest is the body.

#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "operator/kube/prometheus.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  // The statuses Prometheus and the proxies before it answer with.
  static constexpr int kStatuses[] = {200, 200, 200, 200, 204, 400, 404, 422, 500, 502, 503, 301};
  const int status = kStatuses[data[0] % (sizeof kStatuses / sizeof kStatuses[0])];
  const std::string_view body(reinterpret_cast<const char*>(data) + 1, size - 1);

  const auto result = cd4ml::kube::parse_prom_response(status, body);
  if (result.ok != result.error.empty()) std::abort();
  if (!result.ok && !result.samples.empty()) std::abort();
  if (result.ok && (status < 200 || status > 299)) std::abort();
  return 0;
}
