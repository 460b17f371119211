#pragma once
// Reading one value of a core/v1 Secret as the API server returns it
// (data values are base64; stringData is write-only and never comes back).

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace cd4ml::kube {

struct SecretValue {
  enum class State { Found, NoSuchKey, NotBase64 };
  State state = State::NoSuchKey;
  std::string value;  // decoded bytes when Found
};

SecretValue secret_value(const nlohmann::json& secret, std::string_view key);

}  // namespace cd4ml::kube
