#pragma once
// metav1.Condition handling with kstatus semantics: Ready, Reconciling and
// Stalled, plus kind-specific types. lastTransitionTime only moves when the
// status flips, so tools can tell how long something has been true.

#include <chrono>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace cd4ml::api {

using Json = nlohmann::json;

namespace condition {
inline constexpr const char* kReady = "Ready";
inline constexpr const char* kReconciling = "Reconciling";
inline constexpr const char* kStalled = "Stalled";
}  // namespace condition

struct Condition {
  std::string type;
  bool status = false;
  std::string reason;
  std::string message;
};

// RFC 3339 UTC with second precision, as metav1.Time serialises.
std::string rfc3339(std::chrono::system_clock::time_point time);
// Parses RFC 3339 ("2026-11-27T10:00:00Z", optional fraction); nullopt if malformed.
std::optional<std::chrono::system_clock::time_point> parse_rfc3339(std::string_view text);

// Sets `c` in a conditions array (creating the array if null), keeping
// lastTransitionTime when the status did not change.
void set_condition(Json& conditions, const Condition& c, long observed_generation,
                   std::chrono::system_clock::time_point now);
// The condition of that type, or null.
const Json* find_condition(const Json& conditions, std::string_view type);
bool condition_is_true(const Json& conditions, std::string_view type);

// Kubernetes limits Event and condition messages; longer text is cut with a marker.
std::string truncate_message(std::string_view message, std::size_t max_bytes = 1024);

}  // namespace cd4ml::api
