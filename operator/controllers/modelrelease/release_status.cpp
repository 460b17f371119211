#include "operator/controllers/modelrelease/release_status.hpp"

#include "operator/api/conditions.hpp"
#include "operator/api/labels.hpp"
#include "operator/api/modelrelease.hpp"
#include "operator/controllers/modelrelease/workloads.hpp"

namespace cd4ml::controllers::modelrelease {

namespace {

namespace rphase = api::release_phase;
using api::RevisionState;

const api::RevisionRecord* find(const std::vector<api::RevisionRecord>& records,
                                const std::string& revision) {
  for (const auto& record : records) {
    if (record.revision == revision) return &record;
  }
  return nullptr;
}

std::string version_of(const api::RevisionRecord* record) {
  return record != nullptr ? record->model_version : std::string();
}

// Where the rollout stands, first match wins: the model source, a finished
// target, the target live, a refused create, manual promotion, in progress.
ReleaseCondition release_condition(const ReleaseView& v) {
  const std::string serving = v.live.empty() ? std::string("nothing is serving")
                                             : "serving revision " + v.live + " (model " +
                                                   version_of(find(v.records, v.live)) + ")";
  const std::string waiting_phase = v.live.empty() ? rphase::kPending : rphase::kProgressing;
  if (v.source.state == ModelSource::State::Failed) {
    return {rphase::kDegraded, v.source.reason, v.source.message + "; " + serving, true};
  }
  if (v.source.state == ModelSource::State::Waiting) {
    return {waiting_phase, v.source.reason, v.source.message + "; " + serving, false};
  }
  const api::RevisionRecord* target = find(v.records, v.target);
  const RevisionState target_state = target != nullptr ? target->state : RevisionState::Unknown;
  if (target_state == RevisionState::Rejected || target_state == RevisionState::Aborted) {
    return {rphase::kDegraded, target->reason,
            "revision " + v.target + " (model " + target->model_version + ") " +
                (target_state == RevisionState::Rejected ? "rejected: " : "aborted: ") +
                target->message + "; " + serving,
            true};
  }
  if (v.target == v.live) {
    const Json* dep = v.live_deployment;
    const bool available = dep != nullptr && fully_available(*dep, v.replicas);
    // Its post-promotion window: live, but it may still be rolled back.
    if (available && !v.analysis_note.empty()) {
      const std::string reason =
          v.analysis_hold.empty() ? "PostPromotionAnalysis" : v.analysis_hold;
      return {rphase::kProgressing, reason, v.analysis_note + "; " + serving, false};
    }
    if (available) return {rphase::kHealthy, "Healthy", serving, false};
    if (dep != nullptr && spec_replicas(*dep) != v.replicas) {
      return {rphase::kProgressing, "Scaling",
              "scaling revision " + v.live + " to " + std::to_string(v.replicas) + " replicas",
              false};
    }
    return {rphase::kDegraded, "ActiveUnavailable",
            "active revision " + v.live + " is not fully available" +
                (v.live_trouble ? ": " + v.live_trouble->describe() : std::string()),
            false};
  }
  if (!v.create_error.empty()) {
    return {waiting_phase, "DeploymentCreateFailed", v.create_error + "; retrying; " + serving,
            false};
  }
  if (!v.analysis_hold.empty()) {
    return {rphase::kAwaitingPromotion, v.analysis_hold,
            "revision " + v.target + " is paused (" + v.analysis_note + "); annotate " +
                std::string(api::annotation::kPromote) + "=" + v.target + " to go on without it; " +
                serving,
            false};
  }
  if (v.awaiting_promotion && !v.canary_note.empty()) {
    return {rphase::kAwaitingPromotion, "AwaitingPromotion",
            "revision " + v.target + " is paused (" + v.canary_note + "); annotate " +
                std::string(api::annotation::kPromote) + "=" + v.target + " to go on; " + serving,
            false};
  }
  if (v.awaiting_promotion) {
    return {rphase::kAwaitingPromotion, "AwaitingPromotion",
            "revision " + v.target + " is ready in preview; annotate " +
                std::string(api::annotation::kPromote) + "=" + v.target + " to promote it; " +
                serving,
            false};
  }
  if (v.candidate_trouble != nullptr) {
    const api::RevisionRecord* candidate = find(v.records, v.target);
    return {waiting_phase, kCandidatePodFailing,
            "revision " + v.target + " (model " + version_of(candidate) +
                ") is not starting: " + v.candidate_trouble->describe() + "; " + serving,
            false};
  }
  std::string note = v.canary_note;
  if (!v.analysis_note.empty()) note += (note.empty() ? "" : ", ") + v.analysis_note;
  if (!note.empty()) note = " (" + note + ")";
  return {rphase::kProgressing, "RolloutInProgress",
          "rolling out revision " + v.target + note + "; " + serving, false};
}

}  // namespace

void set_release_condition(Json& status, const ReleaseCondition& condition, long generation,
                           std::chrono::system_clock::time_point now) {
  namespace cond = api::condition;
  status["phase"] = condition.phase;
  status["message"] = condition.message;
  const bool ready = condition.phase == rphase::kHealthy;
  const bool reconciling = !ready && !condition.stalled;
  const std::string& reason = condition.reason;
  const std::string& message = condition.message;
  Json& conditions = status["conditions"];
  api::set_condition(conditions, {cond::kReady, ready, reason, message}, generation, now);
  api::set_condition(conditions, {cond::kReconciling, reconciling, reason, message}, generation,
                     now);
  api::set_condition(conditions, {cond::kStalled, condition.stalled, reason, message}, generation,
                     now);
}

void set_release_status(Json& status, const ReleaseView& v, long generation,
                        std::chrono::system_clock::time_point now) {
  Json revisions = Json::array();
  for (const auto& record : v.records) revisions.push_back(api::to_json(record));
  status["revisions"] = revisions;
  status["observedGeneration"] = generation;
  status["targetRevision"] = v.target;
  status["activeRevision"] = v.live;
  status["activeModelVersion"] = version_of(find(v.records, v.live));
  // The preview Service falling back to the live revision previews nothing.
  const std::string shown_preview = v.preview == v.live ? std::string() : v.preview;
  status["previewRevision"] = shown_preview;
  status["previewModelVersion"] = version_of(find(v.records, shown_preview));
  if (!v.live_lineage.empty()) status["lineage"] = v.live_lineage;
  if (v.live.empty()) status.erase("lineage");
  set_release_condition(status, release_condition(v), generation, now);
}

Json service_write_failed_status(const Json& old_status, long generation,
                                 const std::string& service, const std::string& error,
                                 std::chrono::system_clock::time_point now) {
  Json status = old_status.is_object() ? old_status : Json::object();
  std::string phase = status.value("phase", std::string());
  if (phase.empty()) phase = rphase::kPending;
  if (phase == rphase::kHealthy) phase = rphase::kProgressing;
  set_release_condition(
      status,
      {phase, kServiceWriteFailed,
       api::truncate_message("writing Service " + service + " failed: " + error + "; retrying"),
       false},
      generation, now);
  return status;
}

}  // namespace cd4ml::controllers::modelrelease
