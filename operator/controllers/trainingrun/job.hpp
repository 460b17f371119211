#pragma once
// The batch/v1 Job that runs one TrainingRun: named after the run, controlled
// by it (ownerReference), one trainer container with the CD4ML_* environment
// followed by the user's own env, restartPolicy Never (retries are new pods,
// counted by backoffLimit).

#include <nlohmann/json.hpp>

#include "operator/api/trainingrun.hpp"

namespace cd4ml::controllers::trainingrun {

using Json = nlohmann::json;

inline constexpr const char* kTrainerContainer = "trainer";

Json build_job(const Json& run, const api::ModelIdentity& identity);

}  // namespace cd4ml::controllers::trainingrun
