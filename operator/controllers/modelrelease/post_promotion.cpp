#include "operator/controllers/modelrelease/post_promotion.hpp"

#include <algorithm>

#include "operator/api/conditions.hpp"

namespace cd4ml::controllers::modelrelease {

namespace {

using Phase = AnalysisPhase;
using std::chrono::system_clock;

// Every metric has a count of its own: reaching all of them ends the run
// before its window does.
bool counts_end_it(const api::AnalysisSpec& spec) {
  return std::all_of(spec.metrics.begin(), spec.metrics.end(),
                     [](const api::AnalysisMetric& m) { return m.count.has_value(); });
}

std::string model_of(const RevisionSet& revisions, const std::string& revision) {
  const api::RevisionRecord* record = revisions.find(revision);
  return record != nullptr ? record->model_version : std::string();
}

// subject(), also for a revision whose record is gone.
std::string named(const RevisionSet& revisions, const std::string& revision) {
  const api::RevisionRecord* record = revisions.find(revision);
  return record != nullptr ? subject(*record) : "revision " + revision + " (model )";
}

void tell_change(const RevisionSet& revisions, const PostPromotionRun& run, Plan& plan) {
  if (run.ended_before) return;
  const AnalysisRecord& record = run.record;
  const Phase now = record.phase;
  const Phase before = run.before.value_or(Phase::Running);
  const std::string live = named(revisions, record.revision);
  const std::string previous = named(revisions, record.active_revision);
  const bool held = now == Phase::Inconclusive || now == Phase::Error;
  const std::string reason = now == Phase::Error ? "AnalysisError" : "AnalysisInconclusive";
  if (now == Phase::Failed) {
    tell(plan, {"Warning", "AnalysisFailed",
                live + " failed its post-promotion analysis: " + record.message +
                    "; traffic goes back to " + previous + ", still running"});
  } else if (now == Phase::Successful) {
    tell(plan, {"Normal", "AnalysisPassed",
                live + " passed its post-promotion analysis: " + passed_values(record) + "; " +
                    previous + " is no longer kept for a rollback"});
  } else if (run.ended) {
    tell(plan, {"Warning", reason,
                live + " ended its post-promotion window without a verdict: " + record.message +
                    "; it stays live (missing evidence rolls nothing back) and " + previous +
                    " is no longer kept"});
  } else if (held && now != before) {
    tell(plan, {"Warning", reason,
                live + " post-promotion analysis " +
                    (now == Phase::Error ? "cannot measure: " : "inconclusive: ") + record.message +
                    "; " + previous + " keeps running until the window ends"});
  } else if (!held && (before == Phase::Inconclusive || before == Phase::Error)) {
    tell(plan, {"Normal", "AnalysisResumed",
                live + " post-promotion analysis resumed: its measurements are conclusive again"});
  }
}

}  // namespace

std::string PostPromotionRun::hold_reason() const {
  if (ended) return "";
  if (record.phase == Phase::Error) return "AnalysisError";
  if (record.phase == Phase::Inconclusive) return "AnalysisInconclusive";
  return "";
}

std::optional<std::string> rollback_revision(const Release& r, const RevisionSet& revisions,
                                             const std::string& target) {
  const auto recorded = analysis_record_from_json(r.old_status);
  if (!recorded || recorded->stage != AnalysisStage::PostPromotion ||
      recorded->phase != Phase::Failed || target.empty() || recorded->revision != target) {
    return std::nullopt;
  }
  const std::string& previous = recorded->active_revision;
  if (previous.empty() || previous == target || revisions.find(previous) == nullptr ||
      revisions.deployment(previous) == nullptr) {
    return std::nullopt;
  }
  return previous;
}

std::optional<PostPromotionRun> judge_post_promotion(const Release& r, const RevisionSet& revisions,
                                                     const Json& status) {
  if (!r.spec.analysis || !r.spec.analysis->post_promotion || revisions.live.empty()) {
    return std::nullopt;
  }
  const api::AnalysisSpec& spec = *r.spec.analysis;
  const std::string& live = revisions.live;
  const auto previous = analysis_record_from_json(status);
  if (!previous || previous->revision != live) return std::nullopt;
  const std::string& replaced = previous->active_revision;
  if (replaced.empty() || replaced == live || revisions.find(replaced) == nullptr ||
      revisions.deployment(replaced) == nullptr) {
    return std::nullopt;
  }
  const system_clock::time_point now = r.observed.now;
  const bool resumed = previous->stage == AnalysisStage::PostPromotion;
  const api::RevisionRecord* record = revisions.find(live);
  const system_clock::time_point switched = record != nullptr && record->promoted_at
                                                ? system_clock::time_point(*record->promoted_at)
                                                : now;
  const auto window = *spec.post_promotion;
  // A window added to the spec long after this revision went live does not
  // open one now.
  if (!resumed && now >= switched + window) return std::nullopt;

  PostPromotionRun out;
  if (resumed) out.before = previous->phase;
  if (resumed && previous->ended_at) {
    out.record = *previous;
    out.ended = true;
    out.ended_before = true;
    return out;
  }
  out.record =
      resume_analysis(previous, spec, {AnalysisStage::PostPromotion, live, replaced, 0}, switched);
  out.record.ends_at = std::chrono::ceil<std::chrono::seconds>(*out.record.started_at + window);
  if (r.observed.measured_revision == live &&
      r.observed.measured_stage == AnalysisStage::PostPromotion) {
    add_measurements(out.record, r.observed.measurements);
  }
  assess(out.record, spec);
  const bool window_over = now >= *out.record.ends_at;
  if (out.record.phase == Phase::Successful && !window_over && !counts_end_it(spec)) {
    // Enough for now; a later measurement in the window may still fail it.
    out.record.phase = Phase::Running;
  }
  if (window_over && out.record.phase == Phase::Running) {
    out.record.phase = Phase::Inconclusive;
    out.record.message =
        "the window ended before every metric had its count of successful "
        "measurements";
  }
  out.ended = window_over || out.record.phase == Phase::Successful || out.failed();
  if (out.ended) out.record.ended_at = std::chrono::floor<std::chrono::seconds>(now);
  return out;
}

void record_post_promotion(const Release& r, const RevisionSet& revisions,
                           const PostPromotionRun& run, Json& status, Plan& plan) {
  const api::AnalysisSpec& spec = *r.spec.analysis;
  const AnalysisRecord& record = run.record;
  status["analysis"] = to_json(record);
  tell_change(revisions, run, plan);
  const system_clock::time_point now = r.observed.now;
  if (run.failed() && run.before != Phase::Failed) {
    // The rollback follows from this status once it is written; the status
    // write's own watch event usually comes first.
    requeue_at(plan, now, now);
    return;
  }
  if (run.ended) return;
  requeue_at(plan, *record.ends_at, now);
  // The first measurement an interval after the switch, so its window
  // holds traffic the revision served live.
  const auto last = record.last_measured();
  const system_clock::time_point due =
      last ? *last + spec.interval : system_clock::time_point(*record.started_at) + spec.interval;
  if (now < due) {
    requeue_at(plan, due, now);
    return;
  }
  plan.analysis_due = AnalysisRequest{record.revision,
                                      model_of(revisions, record.revision),
                                      record.active_revision,
                                      model_of(revisions, record.active_revision),
                                      AnalysisStage::PostPromotion,
                                      system_clock::time_point(*record.started_at)};
  requeue_at(plan, now + spec.interval, now);
}

void mark_rolled_back(api::RevisionRecord& record, const AnalysisRecord& failed) {
  record.state = api::RevisionState::Aborted;
  record.reason = "AnalysisFailed";
  record.message = "failed its post-promotion analysis (" + failed.message +
                   "); rolled back to revision " + failed.active_revision;
}

std::string post_promotion_note(const PostPromotionRun& run) {
  const AnalysisRecord& record = run.record;
  if (run.failed()) return "post-promotion analysis failed: " + record.message;
  std::string counts;
  for (const auto& m : record.metrics) {
    counts += (counts.empty() ? "" : ", ") + m.name + " " + std::to_string(m.successful);
  }
  std::string note = "post-promotion analysis until " + api::rfc3339(*record.ends_at) + ": " +
                     counts + " successful";
  if (record.phase == Phase::Inconclusive || record.phase == Phase::Error) {
    note += "; " + record.message;
  }
  return note + "; revision " + record.active_revision + " kept running for a rollback";
}

}  // namespace cd4ml::controllers::modelrelease
