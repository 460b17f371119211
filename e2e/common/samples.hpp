#pragma once
// The sample TrainingRun and ModelRelease that e2e tests and cluster
// benchmarks apply, in one place; callers merge-patch what their case changes.

#include <nlohmann/json.hpp>
#include <string>

namespace cd4ml::e2e {

using Json = nlohmann::json;

// A TrainingRun of model "churn" whose fake Job pod ends with `result` as its
// termination message (the trainer's result JSON). The run name is a param,
// so runs with equal results are still distinct model versions.
Json sample_training_run(const std::string& ns, const std::string& name, const std::string& result);

// A ModelRelease serving `model` (a `spec.model`: trainingRunRef or
// uri + version) with `replicas` pods of a one-container template.
Json sample_release(const std::string& ns, const std::string& name, const Json& model,
                    int replicas = 2);

// `spec.model` referring to a TrainingRun.
Json training_run_ref(const std::string& run);

// A minimal Job, Service or Deployment (`kind`) labelled app=someone-else:
// an object of a name the operator needs that belongs to somebody else.
Json someone_elses_object(const std::string& kind, const std::string& ns, const std::string& name);

}  // namespace cd4ml::e2e
