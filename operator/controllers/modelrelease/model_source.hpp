#pragma once
// Where a release's model comes from: a TrainingRun (once Succeeded) or a
// uri + version given in spec. Produces the model identity, its metrics for
// gates, and its lineage (the code, data and parameters behind it).

#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "operator/api/modelrelease.hpp"

namespace cd4ml::controllers::modelrelease {

using Json = nlohmann::json;

struct ModelSource {
  enum class State { Ready, Waiting, Failed };
  State state = State::Waiting;
  std::string
      reason;  // Waiting/Failed: TrainingRunNotFound, TrainingRunNotReady, TrainingRunFailed
  std::string message;  // for status and Events

  std::string version;
  std::string uri;
  std::map<std::string, double> metrics;
  std::string training_run;  // "" for uri + version
  Json lineage;              // {trainingRun, modelVersion, modelURI, code, data, params, metrics,
                             // artifactDigest}
};

ModelSource resolve_model(const api::ReleaseSpec& spec, const std::optional<Json>& training_run);

}  // namespace cd4ml::controllers::modelrelease
