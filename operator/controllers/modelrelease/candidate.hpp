#pragma once
// The verdict on a release's candidate (the revision spec asks for, while it
// is not the active one): what to do with its Deployment and what becomes of
// it in this reconcile, as a value. Pure: the planner records it and turns
// it into writes and Events.
//
// The candidate's own rules live here: gates before any pod starts (rule 3),
// the progress deadline (rule 4), the promote and abort annotations. Which
// revision the Services select is decided in traffic.hpp, from this verdict.

#include <chrono>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "operator/api/modelrelease.hpp"
#include "operator/api/revision_record.hpp"
#include "operator/controllers/create_failure.hpp"
#include "operator/controllers/event_spec.hpp"
#include "operator/controllers/pod_trouble.hpp"

namespace cd4ml::controllers::modelrelease {

using Json = nlohmann::json;

// A canary candidate's size and pace, from its steps (canary.hpp).
struct CanarySizing {
  int replicas = 0;         // its pods for the current step (replicas once steps are done)
  bool steps_done = false;  // ready to take over once at full size
  bool paused = false;      // its step waits for cd4ml.io/promote
  std::optional<std::chrono::system_clock::time_point> pause_ends;  // a timed pause's end
};

struct CandidateInput {
  const api::RevisionRecord& record;    // in state Preview
  const Json* deployment;               // its Deployment; null when there is none
  const api::RevisionRecord* active;    // the active revision's record; null when none
  const CreateFailure* create_failure;  // its Deployment create refused in this reconcile
  const api::ReleaseSpec& spec;
  const std::string& release;  // the release's name
  const Json& annotations;     // the release's, for cd4ml.io/promote and cd4ml.io/abort
  std::chrono::system_clock::time_point now;
  const PodTrouble* pod_trouble = nullptr;  // why its pods do not come up; null when none shows
  const CanarySizing* canary = nullptr;     // set for a canary strategy
  // Its live analysis failed: why (analysis_plan.hpp); null otherwise.
  const std::string* analysis_failure = nullptr;
  // Blue/green: its live analysis has not passed yet, so it is not promoted
  // automatically (the promote annotation still promotes it).
  bool analysis_pending = false;
};

struct CandidateVerdict {
  enum class Kind {
    Reject,          // its gates failed (rule 3)
    Abort,           // abort annotation, refused for good, or past its deadline (rule 4)
    RetryCreate,     // its Deployment was refused for now: retried until the deadline
    Wait,            // not available yet: look again by the deadline
    AwaitPromotion,  // available at previewReplicas (a canary: paused); waits for cd4ml.io/promote
    Stepping,        // a canary available for its step: its steps go on
    Promote,         // available at full size and promotion allowed: ready to go live
  };
  // What its Deployment needs first, whatever the outcome.
  enum class Workload { Keep, Create, Scale };

  Kind kind = Kind::Wait;
  Workload workload = Workload::Keep;
  int replicas = 0;                // Create, Scale: the size
  bool restart_progress = false;   // a scale-up for promotion opens a new progress window
  bool rollback = false;           // Promote: back to a revision that served before
  Json gates;                      // results to record; null when gates were not reached
  std::string reason;              // Reject, Abort, RetryCreate
  std::string message;             // for the record and status
  std::optional<EventSpec> event;  // what to tell
  std::optional<std::chrono::system_clock::time_point> look_again_at;  // Wait, RetryCreate
  std::optional<PodTrouble> pod_trouble;  // Wait: what keeps its pods from running

  // It ends the rollout of this revision: recorded as Rejected or Aborted.
  bool finished() const { return kind == Kind::Reject || kind == Kind::Abort; }
  // Its rollout goes on (coming up, stepping, or waiting to be promoted):
  // it may be shown, and a canary may keep its share.
  bool rolling_out() const {
    return kind == Kind::Wait || kind == Kind::Stepping || kind == Kind::AwaitPromotion;
  }
};

CandidateVerdict evaluate_candidate(const CandidateInput& in);

// What the verdict changes in the candidate's record: its gate results, a
// new progress window, or its end (Rejected, Aborted) and why.
void mark_verdict(api::RevisionRecord& record, const CandidateVerdict& verdict,
                  std::chrono::system_clock::time_point now);

}  // namespace cd4ml::controllers::modelrelease
