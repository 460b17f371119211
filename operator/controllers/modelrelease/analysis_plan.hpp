#pragma once
// The live analysis' part of planning a release: the candidate's run
// resumed from status.analysis with this reconcile's measurements, its
// verdict for the canary's steps and the candidate's judgement, and after
// that verdict, the next measurement (now: Plan::analysis_due; later: a
// requeue), status.analysis and the Events of a changed verdict.
//
// A candidate is analysed while it is available and rolling out: a canary
// through its steps (background analysis, and its analysis steps), a
// blue/green preview until it is promoted (an automatic promotion waits for
// the analysis to pass). Not for a first release (nothing to compare with
// or go back to) nor for a revision that served before (a rollback).

#include <optional>
#include <string>

#include "operator/controllers/modelrelease/analysis.hpp"
#include "operator/controllers/modelrelease/candidate.hpp"
#include "operator/controllers/modelrelease/plan_context.hpp"
#include "operator/controllers/modelrelease/revision_set.hpp"

namespace cd4ml::controllers::modelrelease {

struct LiveAnalysis {
  AnalysisRecord record;
  std::optional<AnalysisPhase> before;  // the run's phase in status; nullopt for a new run

  bool failed() const { return record.phase == AnalysisPhase::Failed; }
  bool passed() const { return record.phase == AnalysisPhase::Successful; }
  // Missing evidence: the release waits (it neither goes on nor goes back).
  bool holds() const {
    return record.phase == AnalysisPhase::Inconclusive || record.phase == AnalysisPhase::Error;
  }
  // The reason a holding analysis gives: AnalysisInconclusive or AnalysisError.
  std::string hold_reason() const;
};

// The candidate's run with the measurements taken in this reconcile (for
// it); nullopt when it is not analysed (see above).
std::optional<LiveAnalysis> judge_live(const Release& r, const RevisionSet& revisions,
                                       const api::RevisionRecord& candidate);

// After the verdict: schedules the next measurement while the candidate is
// analysed, records status.analysis and tells a changed verdict (a failed
// one is told by the candidate's abort).
void record_analysis(const Release& r, const RevisionSet& revisions,
                     const api::RevisionRecord& candidate, const LiveAnalysis& live,
                     const CandidateVerdict& verdict, Json& status, Plan& plan);

// "analysis: live-accuracy 2/5, error-rate 3/5 successful" for the status
// message while it runs.
std::string analysis_note(const LiveAnalysis& live, const api::AnalysisSpec& spec);

}  // namespace cd4ml::controllers::modelrelease
