#include "operator/controllers/trainingrun/job.hpp"

#include "operator/api/labels.hpp"
#include "operator/controllers/owner.hpp"

namespace cd4ml::controllers::trainingrun {

Json build_job(const Json& run, const api::ModelIdentity& identity) {
  const Json& meta = run["metadata"];
  const Json& spec = run["spec"];
  const std::string name = meta.value("name", "");

  const auto string_at = [&spec](const char* pointer) {
    return spec.value(Json::json_pointer(pointer), std::string());
  };
  const Json params = spec.value("params", Json::object());
  Json env = Json::array({
      {{"name", "CD4ML_RUN"}, {"value", name}},
      {{"name", "CD4ML_MODEL"}, {"value", string_at("/model")}},
      {{"name", "CD4ML_MODEL_VERSION"}, {"value", identity.model_version}},
      {{"name", "CD4ML_MODEL_URI"}, {"value", identity.model_uri}},
      {{"name", "CD4ML_CODE_REPOSITORY"}, {"value", string_at("/code/repository")}},
      {{"name", "CD4ML_CODE_REVISION"}, {"value", string_at("/code/revision")}},
      {{"name", "CD4ML_DATA_URI"}, {"value", string_at("/data/uri")}},
      {{"name", "CD4ML_DATA_VERSION"}, {"value", string_at("/data/version")}},
      {{"name", "CD4ML_DATA_DIGEST"}, {"value", string_at("/data/digest")}},
      {{"name", "CD4ML_PARAMS"}, {"value", params.dump()}},
  });
  for (const auto& e : spec.value("/trainer/env"_json_pointer, Json::array())) env.push_back(e);

  const Json& trainer = spec["trainer"];
  Json container = {{"name", kTrainerContainer},
                    {"image", trainer.value("image", "")},
                    {"env", env},
                    {"terminationMessagePolicy", "File"}};
  for (const char* field : {"command", "args", "resources", "volumeMounts", "securityContext"}) {
    if (trainer.contains(field)) container[field] = trainer[field];
  }

  const Json labels = {{api::label::kTrainingRun, name},
                       {api::label::kModel, string_at("/model")},
                       {api::label::kModelVersion, identity.model_version},
                       {api::label::kManagedBy, api::label::kManagedByValue}};
  Json pod_spec = {{"restartPolicy", "Never"}, {"containers", Json::array({container})}};
  // spec.pod holds pod-level fields only, each named in the schema, so it is
  // copied as it is; the server checks their insides (the create is Strict).
  const Json pod = spec.value("pod", Json::object());
  for (const auto& [field, value] : pod.items()) pod_spec[field] = value;
  Json job_spec = {{"backoffLimit", spec.value("backoffLimit", 0)},
                   {"template", {{"metadata", {{"labels", labels}}}, {"spec", pod_spec}}}};
  if (spec.contains("activeDeadlineSeconds")) {
    job_spec["activeDeadlineSeconds"] = spec["activeDeadlineSeconds"];
  }
  if (spec.contains("ttlSecondsAfterFinished")) {
    job_spec["ttlSecondsAfterFinished"] = spec["ttlSecondsAfterFinished"];
  }
  return {{"apiVersion", "batch/v1"},
          {"kind", "Job"},
          {"metadata",
           {{"name", name},
            {"namespace", meta.value("namespace", "")},
            {"labels", labels},
            {"ownerReferences", Json::array({controller_reference(run)})}}},
          {"spec", job_spec}};
}

}  // namespace cd4ml::controllers::trainingrun
