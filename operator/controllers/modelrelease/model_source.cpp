#include "operator/controllers/modelrelease/model_source.hpp"

#include "operator/api/trainingrun.hpp"

namespace cd4ml::controllers::modelrelease {

namespace {

Json metrics_json(const std::map<std::string, double>& metrics) {
  Json out = Json::object();
  for (const auto& [name, value] : metrics) out[name] = value;
  return out;
}

ModelSource from_training_run(const std::string& name, const Json& run) {
  ModelSource m;
  m.training_run = name;
  const Json status = run.value("status", Json::object());
  const std::string phase = status.value("phase", "");
  if (phase == api::phase::kFailed) {
    m.state = ModelSource::State::Failed;
    m.reason = "TrainingRunFailed";
    const Json failure = status.value("failure", Json::object());
    m.message = "TrainingRun " + name + " failed (" + failure.value("reason", "") +
                "): point spec.model at another TrainingRun";
    return m;
  }
  if (phase != api::phase::kSucceeded) {
    m.state = ModelSource::State::Waiting;
    m.reason = "TrainingRunNotReady";
    m.message = "waiting for TrainingRun " + name + " to succeed (phase " +
                (phase.empty() ? std::string("unknown") : phase) + ")";
    return m;
  }
  m.state = ModelSource::State::Ready;
  m.version = status.value("modelVersion", "");
  m.uri = status.value("modelURI", "");
  const Json metrics = status.value("metrics", Json::object());
  for (const auto& [metric, value] : metrics.items()) {
    if (value.is_number()) m.metrics[metric] = value.get<double>();
  }
  const Json spec = run.value("spec", Json::object());
  m.lineage = {{"trainingRun", name},
               {"modelVersion", m.version},
               {"modelURI", m.uri},
               {"fingerprint", status.value("fingerprint", "")},
               {"code", spec.value("code", Json::object())},
               {"data", spec.value("data", Json::object())},
               {"params", spec.value("params", Json::object())},
               {"metrics", metrics_json(m.metrics)}};
  if (status.contains("artifactDigest")) m.lineage["artifactDigest"] = status["artifactDigest"];
  if (m.version.empty() || m.uri.empty()) {
    m.state = ModelSource::State::Waiting;
    m.reason = "TrainingRunNotReady";
    m.message = "TrainingRun " + name + " has no model version yet";
  }
  return m;
}

}  // namespace

ModelSource resolve_model(const api::ReleaseSpec& spec, const std::optional<Json>& training_run) {
  if (spec.training_run.empty()) {
    ModelSource m;
    m.state = ModelSource::State::Ready;
    m.version = spec.model_version;
    m.uri = spec.model_uri;
    m.metrics = spec.model_metrics;
    m.lineage = {
        {"modelVersion", m.version}, {"modelURI", m.uri}, {"metrics", metrics_json(m.metrics)}};
    return m;
  }
  if (!training_run) {
    ModelSource m;
    m.training_run = spec.training_run;
    m.state = ModelSource::State::Waiting;
    m.reason = "TrainingRunNotFound";
    m.message = "TrainingRun " + spec.training_run + " does not exist (yet)";
    return m;
  }
  return from_training_run(spec.training_run, *training_run);
}

}  // namespace cd4ml::controllers::modelrelease
