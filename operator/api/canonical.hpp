#pragma once
// Canonical JSON and digests: the basis of model versions and revision ids,
// which must come out the same on any cluster and be recomputable by anyone.
//
// Canonical form (docs/concepts.md shows how to recompute it with jq):
//   - object keys sorted by their UTF-8 bytes;
//   - no whitespace outside strings;
//   - members whose value is null, {} or [] are dropped (recursively), so an
//     absent optional field and an empty one give the same text;
//   - strings escaped as JSON requires (", \, control characters), other
//     characters as raw UTF-8.

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace cd4ml::api {

using Json = nlohmann::json;

// Drops null/empty members recursively (arrays keep their elements' positions).
Json prune_empty(const Json& value);
std::string canonical_json(const Json& value);
// Lower-case hex SHA-256 (OpenSSL EVP).
std::string sha256_hex(std::string_view data);

}  // namespace cd4ml::api
