#include "operator/api/canonical.hpp"

#include <openssl/evp.h>

#include <array>
#include <memory>
#include <stdexcept>

namespace cd4ml::api {

namespace {
bool is_empty_value(const Json& value) {
  return value.is_null() || ((value.is_object() || value.is_array()) && value.empty());
}
}  // namespace

Json prune_empty(const Json& value) {
  if (value.is_object()) {
    Json out = Json::object();
    for (const auto& [key, member] : value.items()) {
      Json pruned = prune_empty(member);
      if (!is_empty_value(pruned)) out[key] = std::move(pruned);
    }
    return out;
  }
  if (value.is_array()) {
    Json out = Json::array();
    for (const auto& element : value) out.push_back(prune_empty(element));
    return out;
  }
  return value;
}

std::string canonical_json(const Json& value) {
  // nlohmann's default object type is a std::map: keys come out byte-sorted.
  return prune_empty(value).dump(-1, ' ', /*ensure_ascii=*/false, Json::error_handler_t::strict);
}

std::string sha256_hex(std::string_view data) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int length = 0;
  if (EVP_Digest(data.data(), data.size(), digest.data(), &length, EVP_sha256(), nullptr) != 1) {
    throw std::runtime_error("sha256 failed");
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(std::size_t{length} * 2);
  for (unsigned int i = 0; i < length; ++i) {
    hex.push_back(kHex[digest[i] >> 4]);
    hex.push_back(kHex[digest[i] & 0x0f]);
  }
  return hex;
}

}  // namespace cd4ml::api
