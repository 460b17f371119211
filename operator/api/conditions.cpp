#include "operator/api/conditions.hpp"

#include <cstdio>
#include <ctime>

namespace cd4ml::api {

std::string rfc3339(std::chrono::system_clock::time_point time) {
  const std::time_t seconds = std::chrono::system_clock::to_time_t(time);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char buffer[32];
  std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%SZ", &utc);
  return buffer;
}

std::optional<std::chrono::system_clock::time_point> parse_rfc3339(std::string_view text) {
  std::tm utc{};
  int consumed = 0;
  const std::string copy(text);
  if (std::sscanf(copy.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &utc.tm_year, &utc.tm_mon,
                  &utc.tm_mday, &utc.tm_hour, &utc.tm_min, &utc.tm_sec, &consumed) != 6) {
    return std::nullopt;
  }
  std::size_t pos = static_cast<std::size_t>(consumed);
  if (pos < copy.size() && copy[pos] == '.') {
    ++pos;
    while (pos < copy.size() && copy[pos] >= '0' && copy[pos] <= '9') ++pos;
  }
  if (pos >= copy.size() || (copy[pos] != 'Z' && copy[pos] != 'z')) return std::nullopt;
  // timegm would quietly roll month 13 or second 75 over into the next unit:
  // such a text is not a timestamp, and reading it as one would misdate it.
  if (utc.tm_mon < 1 || utc.tm_mon > 12 || utc.tm_mday < 1 || utc.tm_mday > 31 ||
      utc.tm_hour > 23 || utc.tm_min > 59 || utc.tm_sec > 60 || utc.tm_hour < 0 || utc.tm_min < 0 ||
      utc.tm_sec < 0) {
    return std::nullopt;
  }
  utc.tm_year -= 1900;
  utc.tm_mon -= 1;
  const std::time_t seconds = timegm(&utc);
  if (seconds == -1) return std::nullopt;
  // The clock counts nanoseconds in 64 bits, so it ends in 2262 while Kubernetes
  // accepts years up to 9999; a status written with such a year (by hand or by
  // another tool) must read as "no time", not overflow.
  using Clock = std::chrono::system_clock;
  constexpr auto kLast = std::chrono::floor<std::chrono::seconds>(Clock::time_point::max());
  constexpr auto kFirst = std::chrono::ceil<std::chrono::seconds>(Clock::time_point::min());
  if (seconds > kLast.time_since_epoch().count() || seconds < kFirst.time_since_epoch().count()) {
    return std::nullopt;
  }
  return Clock::from_time_t(seconds);
}

const Json* find_condition(const Json& conditions, std::string_view type) {
  if (!conditions.is_array()) return nullptr;
  for (const auto& c : conditions) {
    if (c.is_object() && c.value("type", "") == type) return &c;
  }
  return nullptr;
}

bool condition_is_true(const Json& conditions, std::string_view type) {
  const Json* c = find_condition(conditions, type);
  return c != nullptr && c->value("status", "") == "True";
}

void set_condition(Json& conditions, const Condition& c, long observed_generation,
                   std::chrono::system_clock::time_point now) {
  if (!conditions.is_array()) conditions = Json::array();
  const std::string status = c.status ? "True" : "False";
  for (auto& existing : conditions) {
    if (existing.value("type", "") != c.type) continue;
    if (existing.value("status", "") != status) existing["lastTransitionTime"] = rfc3339(now);
    existing["status"] = status;
    existing["reason"] = c.reason;
    existing["message"] = truncate_message(c.message, 32768);
    existing["observedGeneration"] = observed_generation;
    return;
  }
  conditions.push_back({{"type", c.type},
                        {"status", status},
                        {"reason", c.reason},
                        {"message", truncate_message(c.message, 32768)},
                        {"observedGeneration", observed_generation},
                        {"lastTransitionTime", rfc3339(now)}});
}

std::string truncate_message(std::string_view message, std::size_t max_bytes) {
  if (message.size() <= max_bytes) return std::string(message);
  constexpr std::string_view kMarker = "... (truncated)";
  std::size_t cut = max_bytes > kMarker.size() ? max_bytes - kMarker.size() : 0;
  // Don't split a UTF-8 sequence: back up to a lead byte.
  while (cut > 0 && (static_cast<unsigned char>(message[cut]) & 0xC0) == 0x80) --cut;
  return std::string(message.substr(0, cut)) + std::string(kMarker);
}

}  // namespace cd4ml::api
