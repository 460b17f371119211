#include "operator/controllers/modelrelease/analysis_plan.hpp"

#include "operator/api/labels.hpp"
#include "operator/controllers/modelrelease/canary.hpp"

namespace cd4ml::controllers::modelrelease {

namespace {

using Phase = AnalysisPhase;

// The canary step the candidate is in, as status.canary recorded it (0 for
// blue/green, and for a canary before its first record).
std::size_t recorded_step(const Release& r, const std::string& revision) {
  const auto canary = canary_status_from_json(r.old_status);
  return canary && canary->revision == revision ? canary->step : 0;
}

// Measured while available and rolling out: a canary stepping or paused, a
// blue/green preview waiting for promotion. A canary only once it carries
// traffic (a share recorded before this reconcile) or in an analysis step:
// before its first request its counters read 0, which a rule would judge
// as a (bad) value.
bool measuring(const Release& r, const std::string& revision, std::size_t step,
               const CandidateVerdict& verdict) {
  if (verdict.kind != CandidateVerdict::Kind::Stepping &&
      verdict.kind != CandidateVerdict::Kind::AwaitPromotion) {
    return false;
  }
  if (!r.spec.canary) return true;
  const auto canary = canary_status_from_json(r.old_status);
  const bool carries = canary && canary->revision == revision && canary->weight > 0;
  const auto& steps = r.spec.canary->steps;
  return carries || (step < steps.size() && steps[step].analysis);
}

// A canary's analysis passes for its analysis steps; between them it runs
// in the background, where "passed" only means "not failed yet".
bool passes_a_step(const Release& r, std::size_t step) {
  if (!r.spec.canary) return true;
  const auto& steps = r.spec.canary->steps;
  return step < steps.size() && steps[step].analysis;
}

void tell_change(const Release& r, const api::RevisionRecord& candidate, const LiveAnalysis& live,
                 Plan& plan) {
  const Phase now = live.record.phase;
  const Phase before = live.before.value_or(Phase::Running);
  if (now == before) return;
  const std::string who = subject(candidate);
  const std::string go_on = "; annotate " + std::string(api::annotation::kPromote) + "=" +
                            candidate.revision + " to go on without it";
  const bool was_held = before == Phase::Inconclusive || before == Phase::Error;
  if (now == Phase::Successful && passes_a_step(r, live.record.step)) {
    const std::string at =
        r.spec.canary ? " at canary step " + std::to_string(live.record.step + 1) : "";
    tell(plan, {"Normal", "AnalysisPassed",
                who + " passed analysis" + at + ": " + passed_values(live.record)});
  } else if (now == Phase::Inconclusive) {
    tell(plan, {"Warning", "AnalysisInconclusive",
                who + " paused, analysis inconclusive: " + live.record.message + go_on});
  } else if (now == Phase::Error) {
    tell(plan, {"Warning", "AnalysisError",
                who + " paused, analysis cannot measure: " + live.record.message + go_on});
  } else if (was_held && now != Phase::Failed) {
    // A failure is told by the candidate's abort.
    tell(plan, {"Normal", "AnalysisResumed",
                who + " analysis resumed: its measurements are conclusive again"});
  }
}

}  // namespace

std::string LiveAnalysis::hold_reason() const {
  return record.phase == AnalysisPhase::Error ? "AnalysisError" : "AnalysisInconclusive";
}

std::optional<LiveAnalysis> judge_live(const Release& r, const RevisionSet& revisions,
                                       const api::RevisionRecord& candidate) {
  if (!r.spec.analysis || revisions.live.empty() || candidate.ever_active) return std::nullopt;
  const api::AnalysisSpec& spec = *r.spec.analysis;
  const auto previous = analysis_record_from_json(r.old_status);
  LiveAnalysis out;
  const RunKey key{AnalysisStage::PrePromotion, candidate.revision, revisions.live,
                   recorded_step(r, candidate.revision)};
  out.record = resume_analysis(previous, spec, key, r.observed.now);
  if (previous && previous->stage == key.stage && previous->revision == key.revision &&
      previous->active_revision == key.active) {
    out.before = previous->phase;
  }
  if (r.observed.measured_revision == candidate.revision &&
      r.observed.measured_stage == AnalysisStage::PrePromotion) {
    add_measurements(out.record, r.observed.measurements);
  }
  assess(out.record, spec);
  return out;
}

void record_analysis(const Release& r, const RevisionSet& revisions,
                     const api::RevisionRecord& candidate, const LiveAnalysis& live,
                     const CandidateVerdict& verdict, Json& status, Plan& plan) {
  const api::AnalysisSpec& spec = *r.spec.analysis;
  status["analysis"] = to_json(live.record);
  tell_change(r, candidate, live, plan);
  if (!measuring(r, candidate.revision, live.record.step, verdict) || live.failed()) return;
  const auto due = next_measurement(live.record, spec);
  if (r.observed.now < due) {
    requeue_at(plan, due, r.observed.now);
    return;
  }
  const api::RevisionRecord* active = revisions.find(revisions.live);
  plan.analysis_due = AnalysisRequest{candidate.revision,
                                      candidate.model_version,
                                      revisions.live,
                                      active != nullptr ? active->model_version : "",
                                      AnalysisStage::PrePromotion,
                                      std::nullopt};
  // Measured in this reconcile: the next one is an interval away.
  requeue_at(plan, r.observed.now + spec.interval, r.observed.now);
}

std::string analysis_note(const LiveAnalysis& live, const api::AnalysisSpec& spec) {
  std::string out;
  for (const auto& m : live.record.metrics) {
    int needed = 1;
    for (const auto& s : spec.metrics) {
      if (s.name == m.name) needed = s.count.value_or(1);
    }
    out += (out.empty() ? "" : ", ") + m.name + " " + std::to_string(m.step_successful) + "/" +
           std::to_string(needed);
  }
  return "analysis: " + out + " successful";
}

}  // namespace cd4ml::controllers::modelrelease
