#include "operator/controllers/modelrelease/revision_set.hpp"

#include "operator/api/conditions.hpp"
#include "operator/api/labels.hpp"
#include "operator/controllers/modelrelease/workloads.hpp"
#include "operator/kube/object_meta.hpp"

namespace cd4ml::controllers::modelrelease {

namespace {

using api::RevisionState;

// The record of a Deployment created before a restart, before its status
// write: rebuilt from what the Deployment carries.
api::RevisionRecord rebuilt_record(const Json& deployment, const std::string& revision,
                                   std::chrono::system_clock::time_point now) {
  const Json annotations = deployment.value("/metadata/annotations"_json_pointer, Json::object());
  const Json lineage = lineage_of(deployment);
  const std::string created =
      deployment.value("/metadata/creationTimestamp"_json_pointer, api::rfc3339(now));
  Json record = {{"revision", revision},
                 {"modelVersion", deployment.value("/metadata/labels"_json_pointer, Json::object())
                                      .value(api::label::kModelVersion, "")},
                 {"modelURI", annotations.value(kModelUriAnnotation, "")},
                 {"deployment", kube::meta_string(deployment, "name")},
                 {"state", api::revision_state::kInactive},
                 {"createdAt", created},
                 {"progressingSince", created},
                 {"metrics", lineage.value("metrics", Json::object())}};
  if (lineage.contains("trainingRun")) record["trainingRun"] = lineage["trainingRun"];
  // Through JSON, so a creationTimestamp of an unexpected form is kept as it is.
  return api::revision_record_from_json(record);
}

// Records what a switch of the active Service to `live` records, for a
// switch whose status write was lost; its ScaledDown Event reads it.
void repair_lost_switch(std::vector<api::RevisionRecord>& records, const std::string& live,
                        std::chrono::seconds scale_down_delay,
                        std::chrono::system_clock::time_point now) {
  for (auto& record : records) {
    const bool is_live = record.revision == live;
    if (is_live && record.state != RevisionState::Active) {
      record.state = RevisionState::Active;
      record.ever_active = true;
      if (!record.promoted_at) record.promoted_at = std::chrono::floor<std::chrono::seconds>(now);
      record.scale_down_at.reset();
    } else if (!is_live && record.state == RevisionState::Active) {
      record.state = RevisionState::Inactive;
      if (!live.empty()) mark_replaced(record, live);
      if (!record.scale_down_at) record.scale_down_at = scale_down_time(now, scale_down_delay);
    }
  }
}

}  // namespace

template <typename Records>
auto* find_in(Records& records, const std::string& revision) {
  using Pointer = decltype(&records.front());
  for (auto& record : records) {
    if (record.revision == revision) return Pointer{&record};
  }
  return Pointer{nullptr};
}

api::RevisionRecord* RevisionSet::find(const std::string& revision) {
  return find_in(records, revision);
}

const api::RevisionRecord* RevisionSet::find(const std::string& revision) const {
  return find_in(records, revision);
}

const Json* RevisionSet::deployment(const std::string& revision) const {
  auto it = deployments.find(revision);
  return it == deployments.end() ? nullptr : it->second;
}

api::Seconds scale_down_time(std::chrono::system_clock::time_point now,
                             std::chrono::seconds delay) {
  return std::chrono::ceil<std::chrono::seconds>(now + delay);
}

void mark_replaced(api::RevisionRecord& record, const std::string& by) {
  record.state = RevisionState::Inactive;
  record.reason = "Replaced";
  record.message = "replaced by revision " + by;
}

RevisionSet load_revisions(const Json& status, const std::vector<Json>& deployments,
                           const std::string& selected_by_active,
                           std::chrono::seconds scale_down_delay,
                           std::chrono::system_clock::time_point now) {
  RevisionSet set;
  for (const auto& r : status.value("revisions", Json::array())) {
    if (r.is_object() && !kube::string_field(r, "revision").empty()) {
      set.records.push_back(api::revision_record_from_json(r));
    }
  }
  for (const auto& d : deployments) {
    const std::string revision = revision_of(d);
    if (revision.empty()) continue;
    set.deployments[revision] = &d;
    if (set.find(revision) == nullptr) set.records.push_back(rebuilt_record(d, revision, now));
  }
  // The active Service's selector is the truth; status is the fallback.
  set.live = selected_by_active;
  if (set.live.empty()) {
    const std::string& remembered = kube::string_field(status, "activeRevision");
    if (!remembered.empty() && set.deployment(remembered) != nullptr) set.live = remembered;
  }
  repair_lost_switch(set.records, set.live, scale_down_delay, now);
  return set;
}

}  // namespace cd4ml::controllers::modelrelease
