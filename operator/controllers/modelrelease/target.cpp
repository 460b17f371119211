#include "operator/controllers/modelrelease/target.hpp"

#include "operator/controllers/modelrelease/workloads.hpp"

namespace cd4ml::controllers::modelrelease {

namespace {

using api::RevisionState;

// The model of a revision the release recorded: from its record, and its
// lineage from its Deployment while that exists.
ModelSource recorded_source(const api::RevisionRecord& record, const RevisionSet& revisions) {
  ModelSource source;
  source.state = ModelSource::State::Ready;
  source.version = record.model_version;
  source.uri = record.model_uri;
  source.training_run = record.training_run;
  source.metrics = record.numeric_metrics();
  const Json* deployment = revisions.deployment(record.revision);
  source.lineage = deployment != nullptr ? lineage_of(*deployment) : Json::object();
  if (source.lineage.empty()) {
    source.lineage = {{"trainingRun", record.training_run},
                      {"modelVersion", source.version},
                      {"modelURI", source.uri}};
  }
  return source;
}

// The TrainingRun is gone (deleted after it was released): what the release
// recorded about its model is enough to keep serving and to compute the
// revision of a changed template. Prefers the active record, then the newest.
void recover_deleted_training_run(ModelSource& source, const std::string& training_run,
                                  const RevisionSet& revisions) {
  const api::RevisionRecord* found = nullptr;
  for (const auto& record : revisions.records) {
    if (record.training_run != training_run) continue;
    if (found == nullptr || record.revision == revisions.live ||
        (found->revision != revisions.live && record.created_at > found->created_at)) {
      found = &record;
    }
  }
  if (found == nullptr) return;
  source = recorded_source(*found, revisions);
}

api::RevisionRecord new_record(const Target& target, const std::string& release,
                               std::chrono::system_clock::time_point now) {
  api::RevisionRecord record;
  record.revision = target.revision;
  record.model_version = target.source.version;
  record.model_uri = target.source.uri;
  record.training_run = target.source.training_run;
  record.deployment = deployment_name(release, target.revision);
  record.state = RevisionState::Preview;
  record.created_at = std::chrono::floor<std::chrono::seconds>(now);
  record.progressing_since = record.created_at;
  record.metrics = Json::object();
  for (const auto& [name, value] : target.source.metrics) record.metrics[name] = value;
  return record;
}

}  // namespace

Target resolve_target(const api::ReleaseSpec& spec, const std::optional<Json>& training_run,
                      const RevisionSet& revisions) {
  Target target{resolve_model(spec, training_run), ""};
  ModelSource& source = target.source;
  if (source.state == ModelSource::State::Waiting && source.reason == "TrainingRunNotFound") {
    recover_deleted_training_run(source, spec.training_run, revisions);
  }
  if (source.state == ModelSource::State::Ready) {
    target.revision = api::revision_id(source.version, source.uri, spec.pod_template);
  }
  return target;
}

Target recorded_target(const RevisionSet& revisions, const std::string& revision) {
  const api::RevisionRecord* record = revisions.find(revision);
  if (record == nullptr) return {};
  return {recorded_source(*record, revisions), revision};
}

std::vector<EventSpec> enter_target(RevisionSet& revisions, const Target& target,
                                    const std::string& release,
                                    std::chrono::system_clock::time_point now) {
  if (!target.revision.empty()) {
    api::RevisionRecord* record = revisions.find(target.revision);
    if (record == nullptr) {
      revisions.records.push_back(new_record(target, release, now));
    } else if (target.revision != revisions.live && record->state == RevisionState::Inactive) {
      // Back to a kept revision: a fast rollback reuses its Deployment.
      record->state = RevisionState::Preview;
      record->progressing_since = std::chrono::floor<std::chrono::seconds>(now);
      record->scale_down_at.reset();
      record->reason.clear();
      record->message.clear();
    }
  }
  std::vector<EventSpec> events;
  for (auto& record : revisions.records) {
    if (record.state != RevisionState::Preview || record.revision == target.revision) continue;
    record.state = RevisionState::Inactive;
    record.reason = "Superseded";
    record.message = target.revision.empty() ? "spec.model changed"
                                             : "superseded by revision " + target.revision;
    events.push_back({"Normal", "Superseded",
                      "candidate " + record.revision + " (model " + record.model_version + ") " +
                          record.message + " before it was promoted"});
  }
  return events;
}

}  // namespace cd4ml::controllers::modelrelease
