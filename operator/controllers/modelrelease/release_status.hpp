#pragma once
// What a release's status says: phase and message with the kstatus
// conditions (Ready, Reconciling, Stalled), and the revision fields.

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "operator/api/revision_record.hpp"
#include "operator/controllers/modelrelease/model_source.hpp"
#include "operator/controllers/pod_trouble.hpp"

namespace cd4ml::controllers::modelrelease {

using Json = nlohmann::json;

inline constexpr const char* kServiceWriteFailed = "ServiceWriteFailed";
// The candidate's pods do not come up, for a reason the kubelet or the
// scheduler gave (its words follow in the message).
inline constexpr const char* kCandidatePodFailing = "CandidatePodFailing";

struct ReleaseCondition {
  std::string phase;
  std::string reason;
  std::string message;
  bool stalled = false;  // cannot progress without a change by a person
};

// Sets phase and message, and the kstatus triple they imply: Ready when
// Healthy; Reconciling unless Healthy or stalled (Degraded but not stalled,
// e.g. the active revision lost pods, is still Reconciling, so kstatus tools
// never read it as current); Stalled as given.
void set_release_condition(Json& status, const ReleaseCondition& condition, long generation,
                           std::chrono::system_clock::time_point now);

// What the planner knows at the end of a reconcile.
struct ReleaseView {
  const std::vector<api::RevisionRecord>& records;
  const std::string& target;   // the revision spec asks for ("" while its model is not ready)
  const std::string& live;     // the active revision
  const std::string& preview;  // what the preview Service selects
  const Json& live_lineage;    // empty when the live revision's Deployment is gone
  const ModelSource& source;
  const Json* live_deployment;
  int replicas;
  const std::string& create_error;  // a refused Deployment create being retried
  bool awaiting_promotion;
  const PodTrouble* candidate_trouble;  // the waiting candidate's pods; null when none shows
  const PodTrouble* live_trouble;       // the active revision's pods; null when none shows
  // Where a canary stands ("canary step 2 of 4, 5% of traffic"); "" for blue/green.
  const std::string& canary_note;
  // Live analysis: its progress or why it holds ("" without one), and the
  // reason it holds the release with (AnalysisInconclusive, AnalysisError;
  // "" while it does not). For the live revision, its post-promotion run
  // while the window lasts.
  const std::string& analysis_note;
  const std::string& analysis_hold;
};

// `status` with the revision fields, phase, message and conditions of `view`.
void set_release_status(Json& status, const ReleaseView& view, long generation,
                        std::chrono::system_clock::time_point now);

// `old_status` saying that writing Service `service` failed with `error` and
// is being retried, nothing else moved: the plan's own status describes the
// world after writes that did not happen (it could claim a preview switch
// that never took place). A Healthy release becomes Progressing.
Json service_write_failed_status(const Json& old_status, long generation,
                                 const std::string& service, const std::string& error,
                                 std::chrono::system_clock::time_point now);

}  // namespace cd4ml::controllers::modelrelease
