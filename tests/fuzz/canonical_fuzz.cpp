// Canonical JSON and the fingerprint (model versions, revision ids) on any
// JSON text. Properties: the same document with its keys in any order gives
// the same canonical text and digest; the canonical text read back gives
// itself (escaping and numbers survive the round trip).

#include <cstdint>
#include <cstdlib>

#include "operator/api/canonical.hpp"

using Json = nlohmann::json;
using Ordered = nlohmann::ordered_json;

namespace {

// The same document with every object's keys in reverse order.
Ordered reversed(const Ordered& value) {
  if (value.is_array()) {
    Ordered out = Ordered::array();
    for (const auto& item : value) out.push_back(reversed(item));
    return out;
  }
  if (!value.is_object()) return value;
  Ordered out = Ordered::object();
  for (auto it = value.rbegin(); it != value.rend(); ++it) out[it.key()] = reversed(it.value());
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const Json doc = Json::parse(data, data + size, nullptr, false);
  if (doc.is_discarded()) return 0;
  const Ordered ordered = Ordered::parse(data, data + size, nullptr, false);
  const Json other = Json::parse(reversed(ordered).dump());
  // Duplicate keys: which one wins depends on the order; not the same document.
  if (other != doc) return 0;

  const std::string canonical = cd4ml::api::canonical_json(doc);
  if (cd4ml::api::canonical_json(other) != canonical) std::abort();
  if (cd4ml::api::sha256_hex(cd4ml::api::canonical_json(other)) !=
      cd4ml::api::sha256_hex(canonical)) {
    std::abort();
  }
  const Json again = Json::parse(canonical, nullptr, false);
  if (again.is_discarded() || cd4ml::api::canonical_json(again) != canonical) std::abort();
  return 0;
}
