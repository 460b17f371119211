#pragma once
// TrainingRun identity: fingerprint, model version and model URI, exactly as
// the API contract defines them, so the same inputs give the same version on
// any cluster.

#include <nlohmann/json.hpp>
#include <string>

namespace cd4ml::api {

using Json = nlohmann::json;

namespace phase {
inline constexpr const char* kPending = "Pending";
inline constexpr const char* kRunning = "Running";
inline constexpr const char* kSucceeded = "Succeeded";
inline constexpr const char* kFailed = "Failed";
}  // namespace phase

struct ModelIdentity {
  std::string fingerprint;    // 64 hex
  std::string model_version;  // first 12 hex of the fingerprint
  std::string model_uri;      // <output.uri without trailing '/'>/<model>/<model_version>
};

// spec.trainer fields that do not enter the fingerprint.
inline constexpr const char* kTrainerFieldsOutsideFingerprint[] = {"volumeMounts",
                                                                   "securityContext"};

// The exact text that is hashed: canonical JSON of
// {model, code, data, trainer, params} taken from the spec, without the
// trainer fields above (spec.pod, output and the Job limits are left out too).
std::string fingerprint_input(const Json& spec);
ModelIdentity identify(const Json& spec);

bool is_terminal_phase(const std::string& phase);

}  // namespace cd4ml::api
