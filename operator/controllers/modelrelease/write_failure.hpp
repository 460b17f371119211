#pragma once
// What a release's status says when a Service write the plan needs was
// refused (quota, admission webhook, exhausted Service IP range, API errors):
// the reason is reported, nothing else in status moves. The plan's own status
// is not written then: it describes the world after writes that did not
// happen (it could claim a preview switch that never took place).

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>

namespace cd4ml::controllers::modelrelease {

inline constexpr const char* kServiceWriteFailed = "ServiceWriteFailed";

// `old_status` with phase, message and the kstatus conditions saying that
// writing Service `service` failed with `error` and is being retried. A
// Healthy release becomes Progressing; the other phases stay.
nlohmann::json service_write_failed_status(const nlohmann::json& old_status, long generation,
                                           const std::string& service, const std::string& error,
                                           std::chrono::system_clock::time_point now);

}  // namespace cd4ml::controllers::modelrelease
