#pragma once
// Defensive reading of a stored object's fields: a member of the wrong JSON
// type, or a number its C++ type cannot hold, reads as the fallback. A stored
// object can predate the CRD's validation (or come from a newer CRD), and the
// readers are fuzzed (tests/fuzz/spec_readers_fuzz), so nothing here throws
// or casts out of range.

#include <cstdint>
#include <limits>
#include <nlohmann/json.hpp>
#include <optional>
#include <type_traits>

namespace cd4ml::api::json_read {

using Json = nlohmann::json;

// object[key], or null when object is no object or lacks key.
inline const Json& member(const Json& object, const char* key) {
  static const Json kNull;
  if (!object.is_object()) return kNull;
  auto it = object.find(key);
  return it == object.end() ? kNull : *it;
}

template <typename T>
T get_or(const Json& object, const char* key, T fallback) {
  const Json& value = member(object, key);
  if (value.is_null()) return fallback;
  if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>) {
    // A whole number that fits, as the CRD's integer fields hold: nlohmann
    // would cast a float or a larger number (undefined behaviour; found by
    // tests/fuzz/spec_readers_fuzz).
    if (value.is_number_unsigned()) {
      const auto v = value.get<std::uint64_t>();
      return v <= static_cast<std::uint64_t>(std::numeric_limits<T>::max()) ? static_cast<T>(v)
                                                                            : fallback;
    }
    if (value.is_number_integer()) {
      const auto v = value.get<std::int64_t>();
      return v >= std::numeric_limits<T>::min() && v <= std::numeric_limits<T>::max()
                 ? static_cast<T>(v)
                 : fallback;
    }
    return fallback;
  } else if constexpr (std::is_floating_point_v<T>) {
    // nlohmann would read true as 1.
    return value.is_number() ? value.get<T>() : fallback;
  } else {
    try {
      return value.get<T>();
    } catch (const Json::exception&) {
      return fallback;
    }
  }
}

// object[key] when it is a number; nullopt otherwise (an optional bound).
inline std::optional<double> number(const Json& object, const char* key) {
  const Json& value = member(object, key);
  if (!value.is_number()) return std::nullopt;
  return value.get<double>();
}

}  // namespace cd4ml::api::json_read
