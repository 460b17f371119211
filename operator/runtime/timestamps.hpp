#pragma once
// UTC timestamps in the forms the API server and log readers expect.

#include <chrono>
#include <string>

namespace cd4ml::runtime {

// "2026-11-27T10:00:00Z" (metav1.Time: Event first/lastTimestamp).
std::string format_rfc3339(std::chrono::system_clock::time_point time);
// "2026-11-27T10:00:00.123456Z" (metav1.MicroTime: Lease acquire/renewTime).
std::string format_rfc3339_micro(std::chrono::system_clock::time_point time);
// "2026-11-27T10:00:00.123Z" (log lines).
std::string format_rfc3339_milli(std::chrono::system_clock::time_point time);

}  // namespace cd4ml::runtime
