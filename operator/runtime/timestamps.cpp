#include "operator/runtime/timestamps.hpp"

#include <cstdio>
#include <ctime>

namespace cd4ml::runtime {

namespace {

// digits: how many fraction-of-second digits to print (0, 3 or 6).
std::string format_utc(std::chrono::system_clock::time_point time, int digits) {
  using namespace std::chrono;
  // Floor, not truncate, so times before 1970 still get a fraction in [0, 1).
  const auto seconds = floor<std::chrono::seconds>(time);
  const auto micros = duration_cast<microseconds>(time - seconds).count();
  const std::time_t t = system_clock::to_time_t(seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char date[32];
  std::strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%S", &tm);
  char text[96];
  if (digits == 6) {
    std::snprintf(text, sizeof text, "%s.%06lldZ", date, static_cast<long long>(micros));
  } else if (digits == 3) {
    std::snprintf(text, sizeof text, "%s.%03lldZ", date, static_cast<long long>(micros / 1000));
  } else {
    std::snprintf(text, sizeof text, "%sZ", date);
  }
  return text;
}

}  // namespace

std::string format_rfc3339(std::chrono::system_clock::time_point time) {
  return format_utc(time, 0);
}

std::string format_rfc3339_micro(std::chrono::system_clock::time_point time) {
  return format_utc(time, 6);
}

std::string format_rfc3339_milli(std::chrono::system_clock::time_point time) {
  return format_utc(time, 3);
}

}  // namespace cd4ml::runtime
