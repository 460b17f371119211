#pragma once
// The window after a switch (spec.analysis.postPromotion.duration): the
// revision that went live keeps being measured with the release's metrics,
// while the revision it replaced keeps running at full size (it is not
// scaled down before the run ends, whatever scaleDownDelaySeconds says).
// A failure switches traffic straight back to it: a rollback without a
// cold start.
//
// A metric with compareToActive is compared with the replaced revision as
// Prometheus measured it at the switch: after the switch it serves nothing.
//
// The rollback takes two reconciles on purpose. The cluster is the truth
// and status is memory, and the active Service moves before status is
// written: a switch back whose status write were lost would read, after a
// restart, as a plain switch, and the failed revision would be promoted
// again. So the reconcile that sees the failure writes only status (the run
// Failed), and the rollback is derived from that status in every reconcile
// after it.
//
// The window ends the run: Successful when every metric has its count
// (default 1) of Successful measurements and none failed beyond its limit;
// otherwise, without a verdict (Inconclusive or Error, kept as the phase):
// the revision stays live, nothing is rolled back on missing evidence, and a
// Warning says so. A metric's `count` reached by all metrics ends it early.

#include <optional>
#include <string>

#include "operator/controllers/modelrelease/analysis.hpp"
#include "operator/controllers/modelrelease/plan_context.hpp"
#include "operator/controllers/modelrelease/revision_set.hpp"

namespace cd4ml::controllers::modelrelease {

struct PostPromotionRun {
  AnalysisRecord record;                // stage PostPromotion
  std::optional<AnalysisPhase> before;  // the run's phase in status; nullopt for a new run
  bool ended = false;                   // its window is over, or it has its verdict
  bool ended_before = false;            // it had ended in an earlier reconcile

  bool failed() const { return record.phase == AnalysisPhase::Failed; }
  // The replaced revision must keep running: the run may still fail.
  bool keeps_previous() const { return !ended || failed(); }
  // Missing evidence while the window lasts (AnalysisInconclusive or
  // AnalysisError); "" otherwise.
  std::string hold_reason() const;
};

// Where a failed post-promotion run of `target` (as status recorded it)
// goes back to: the revision it replaced, while its Deployment exists.
std::optional<std::string> rollback_revision(const Release& r, const RevisionSet& revisions,
                                             const std::string& target);

// The live revision's run with this reconcile's measurements in; nullopt
// when it has none: no postPromotion window in spec, or `status.analysis`
// (as this reconcile leaves it) is neither the live revision's
// pre-promotion run (it was just promoted after an analysed rollout) nor
// its post-promotion run.
std::optional<PostPromotionRun> judge_post_promotion(const Release& r, const RevisionSet& revisions,
                                                     const Json& status);

// status.analysis, the Events of a changed verdict, and the next
// measurement (now: Plan::analysis_due; later: a requeue).
void record_post_promotion(const Release& r, const RevisionSet& revisions,
                           const PostPromotionRun& run, Json& status, Plan& plan);

// The revision rolled back from: Aborted, with the run's reason.
void mark_rolled_back(api::RevisionRecord& record, const AnalysisRecord& failed);

// "post-promotion analysis until 10:05:00Z: live-accuracy 2/1 successful"
// for the status message while the window lasts.
std::string post_promotion_note(const PostPromotionRun& run);

}  // namespace cd4ml::controllers::modelrelease
