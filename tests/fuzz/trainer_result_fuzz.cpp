// The trainer's termination message: written by any container, so any bytes.
// Besides crashes and sanitizer findings, what the operator promises about an
// accepted result: only finite metrics with valid names, a digest that is
// empty or sha256:<64 hex>, and nothing over Kubernetes' 4096 bytes.

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <regex>
#include <string_view>

#include "operator/controllers/trainingrun/result.hpp"

namespace tr = cd4ml::controllers::trainingrun;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view message(reinterpret_cast<const char*>(data), size);
  const auto parsed = tr::parse_trainer_result(message);
  const auto* result = std::get_if<tr::TrainerResult>(&parsed);
  if (result == nullptr) return 0;
  if (size > tr::kMaxResultBytes) std::abort();
  for (const auto& [name, value] : result->metrics) {
    if (!std::isfinite(value) || !tr::valid_result_name(name)) std::abort();
  }
  static const std::regex digest("sha256:[0-9a-f]{64}");
  if (!result->artifact_digest.empty() && !std::regex_match(result->artifact_digest, digest)) {
    std::abort();
  }
  return 0;
}
