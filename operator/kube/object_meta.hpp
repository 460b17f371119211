#pragma once
// Reading an object's fields that may be missing or malformed: objects come
// from the network or from users, and must not throw nlohmann type errors
// deep inside a reconcile.

#include <nlohmann/json.hpp>
#include <string>

namespace cd4ml::kube {

// object[field] if it is a string, else "" (also for a non-object).
const std::string& string_field(const nlohmann::json& object, const char* field);
// object.metadata[field] if it is a string, else "".
const std::string& meta_string(const nlohmann::json& object, const char* field);

}  // namespace cd4ml::kube
