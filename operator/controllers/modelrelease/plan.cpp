#include "operator/controllers/modelrelease/plan.hpp"

#include "operator/api/conditions.hpp"
#include "operator/api/labels.hpp"
#include "operator/api/modelrelease.hpp"
#include "operator/controllers/modelrelease/analysis_plan.hpp"
#include "operator/controllers/modelrelease/canary_plan.hpp"
#include "operator/controllers/modelrelease/candidate.hpp"
#include "operator/controllers/modelrelease/history.hpp"
#include "operator/controllers/modelrelease/post_promotion.hpp"
#include "operator/controllers/modelrelease/release_status.hpp"
#include "operator/controllers/modelrelease/revision_set.hpp"
#include "operator/controllers/modelrelease/services.hpp"
#include "operator/controllers/modelrelease/target.hpp"
#include "operator/controllers/modelrelease/traffic.hpp"
#include "operator/controllers/modelrelease/workloads.hpp"
#include "operator/kube/object_meta.hpp"

namespace cd4ml::controllers::modelrelease {

namespace {

using std::chrono::system_clock;

// A foreign Service is not in the operator's (labelled) cache, so nothing
// wakes the release when it goes away: look again this often.
constexpr std::chrono::seconds kConflictRecheck{30};

void scale(Plan& plan, const Json* deployment, int replicas) {
  if (deployment == nullptr || spec_replicas(*deployment) == replicas) return;
  const Scale s{kube::meta_string(*deployment, "name"), replicas};
  (replicas > spec_replicas(*deployment) ? plan.scale_up : plan.scale_down).push_back(s);
}

void plan_conflict(const Release& r, const std::string& message, Json& status, Plan& plan) {
  const Json& old = r.old_status;
  const bool told =
      api::condition_is_true(old.value("conditions", Json()), api::condition::kStalled) &&
      old.value("phase", "") == api::release_phase::kDegraded &&
      old.value("message", "") == message;
  if (!told) tell(plan, {"Warning", "ServiceConflict", message});
  set_release_condition(status, {api::release_phase::kDegraded, "ServiceConflict", message, true},
                        r.generation, r.observed.now);
  status["observedGeneration"] = r.generation;
  plan.requeue_after = kConflictRecheck;
}

// Why the pods of `revision` do not come up, if they show it.
std::optional<PodTrouble> revision_trouble(const Observed& o, const std::string& revision) {
  if (revision.empty()) return std::nullopt;
  std::vector<const Json*> pods;
  for (const auto& pod : o.pods) {
    const Json labels = pod.value("/metadata/labels"_json_pointer, Json::object());
    if (labels.value(api::label::kRevision, "") == revision) pods.push_back(&pod);
  }
  return find_pod_trouble(pods);
}

// The candidate's verdict into its record and the plan's writes.
CandidateVerdict judge_candidate(const Release& r, RevisionSet& revisions, const Target& target,
                                 api::RevisionRecord& record, const CanarySizing* canary,
                                 const LiveAnalysis* live, Plan& plan) {
  const auto failure = r.observed.create_failures.find(target.revision);
  const Json annotations =
      r.observed.release.value("/metadata/annotations"_json_pointer, Json::object());
  const Json* deployment = revisions.deployment(target.revision);
  const std::optional<PodTrouble> trouble = revision_trouble(r.observed, target.revision);
  CandidateInput input{record,
                       deployment,
                       revisions.find(revisions.live),
                       failure != r.observed.create_failures.end() ? &failure->second : nullptr,
                       r.spec,
                       r.name,
                       annotations,
                       r.observed.now,
                       trouble ? &*trouble : nullptr,
                       canary};
  if (live != nullptr) {
    if (live->failed()) input.analysis_failure = &live->record.message;
    input.analysis_pending = !r.spec.canary && !live->passed();
  }
  CandidateVerdict verdict = evaluate_candidate(input);
  mark_verdict(record, verdict, r.observed.now);
  if (verdict.workload == CandidateVerdict::Workload::Create) {
    // The target was derived from target.source, so its lineage fits.
    const RevisionModel model{target.revision, record.model_version, record.model_uri,
                              target.source.lineage};
    plan.create_deployments.push_back(
        build_deployment(r.observed.release, r.spec, model, verdict.replicas));
  } else if (verdict.workload == CandidateVerdict::Workload::Scale) {
    scale(plan, deployment, verdict.replicas);
  }
  if (verdict.event) tell(plan, *verdict.event);
  // Told once per pod, container and reason: the kubelet's retries (and
  // ErrImagePull turning into ImagePullBackOff and back) are not news.
  if (verdict.pod_trouble &&
      r.old_status.value("message", "").find(verdict.pod_trouble->key()) == std::string::npos) {
    tell(plan, {"Warning", kCandidatePodFailing,
                "revision " + record.revision + " (model " + record.model_version +
                    ") is not starting: " + verdict.pod_trouble->describe() +
                    "; traffic stays where it is"});
  }
  if (verdict.look_again_at) requeue_at(plan, *verdict.look_again_at, r.observed.now);
  return verdict;
}

// The active Service moved to the candidate: recorded, and told.
void promote(const Release& r, RevisionSet& revisions, api::RevisionRecord& record, bool rollback,
             Plan& plan) {
  const std::string previous = revisions.live;
  record.state = api::RevisionState::Active;
  record.promoted_at = std::chrono::floor<std::chrono::seconds>(r.observed.now);
  record.ever_active = true;
  record.reason.clear();
  record.message.clear();
  if (api::RevisionRecord* replaced = revisions.find(previous)) {
    mark_replaced(*replaced, record.revision);
    replaced->scale_down_at =
        scale_down_time(r.observed.now, std::chrono::seconds(r.spec.scale_down_delay_seconds));
  }
  revisions.live = record.revision;
  const std::string model = " (model " + record.model_version + ")";
  const std::string from = previous.empty() ? std::string() : " (was " + previous + ")";
  if (rollback) {
    tell(plan,
         {"Normal", "RolledBack", "rolled back to revision " + record.revision + model + from});
  } else {
    tell(plan,
         {"Normal", "Promoted", "revision " + record.revision + model + " is now active" + from});
  }
}

// The live revision runs at full size; a Deployment of it deleted by hand
// comes back (the Service still selects it; its template is the spec's).
void keep_live_running(const Release& r, const RevisionSet& revisions, const Target& target,
                       Plan& plan) {
  const std::string& live = revisions.live;
  if (live.empty()) return;
  if (revisions.deployment(live) == nullptr && live == target.revision &&
      !r.observed.create_failures.contains(live)) {
    const ModelSource& source = target.source;
    const RevisionModel model{live, source.version, source.uri, source.lineage};
    plan.create_deployments.push_back(
        build_deployment(r.observed.release, r.spec, model, r.spec.replicas));
    const api::RevisionRecord* record = revisions.find(live);
    tell(plan, {"Warning", "DeploymentRecreated",
                "Deployment " + deployment_name(r.name, live) +
                    " of the active revision was missing; recreated it" +
                    (record ? " (model " + record->model_version + ")" : std::string())});
  }
  scale(plan, revisions.deployment(live), r.spec.replicas);
}

void plan_rollout(const Release& r, Json& status, Plan& plan) {
  const Observed& o = r.observed;
  const ServiceSelections seen = observed_selections(o);
  RevisionSet revisions =
      load_revisions(r.old_status, o.deployments, seen.active,
                     std::chrono::seconds(r.spec.scale_down_delay_seconds), o.now);
  const Target asked = resolve_target(r.spec, o.training_run, revisions);
  // A revision that failed its post-promotion analysis gives way to the one
  // it replaced, as a rollback to a kept revision would (straight to full
  // traffic once available, no canary steps); spec still names it.
  const std::optional<std::string> back = rollback_revision(r, revisions, asked.revision);
  const Target target = back ? recorded_target(revisions, *back) : asked;
  for (const auto& event : enter_target(revisions, target, r.name, o.now)) tell(plan, event);

  api::RevisionRecord* candidate = nullptr;
  if (!target.revision.empty() && target.revision != revisions.live) {
    api::RevisionRecord* record = revisions.find(target.revision);
    if (record->state == api::RevisionState::Preview) candidate = record;
  }
  std::optional<CandidateVerdict> verdict;
  std::optional<CanaryStepOutcome> steps;
  std::optional<LiveAnalysis> live;
  const Routing routing = routing_of(r);
  if (candidate != nullptr) live = judge_live(r, revisions, *candidate);
  const LiveAnalysis* analysis = live ? &*live : nullptr;
  if (candidate != nullptr && r.spec.canary) {
    steps = step_canary(r, revisions, routing, *candidate, analysis);
  }
  if (candidate != nullptr) {
    verdict = judge_candidate(r, revisions, target, *candidate, steps ? &steps->sizing : nullptr,
                              analysis, plan);
    if (steps && !verdict->finished()) {
      for (const auto& event : steps->events) tell(plan, event);
    }
    // Before a promotion below changes which revision is live.
    if (live) record_analysis(r, revisions, *candidate, *live, *verdict, status, plan);
  }
  const std::string none;
  const std::string& candidate_revision = candidate != nullptr ? candidate->revision : none;

  const TrafficDecision decision = decide_traffic(r, revisions, seen, routing, candidate_revision,
                                                  verdict ? &*verdict : nullptr, steps);
  const BlueGreenTraffic& traffic = decision.services;
  end_share(r, revisions, seen, routing, decision, candidate, plan);
  if (candidate != nullptr && traffic.preview == candidate_revision &&
      seen.preview != candidate_revision) {
    // Also when it is promoted in the same step: it did arrive in preview first.
    tell(plan, {"Normal", "PreviewSwitched",
                "preview Service " + r.spec.preview_service + " now selects revision " +
                    candidate_revision + " (model " + candidate->model_version + ")"});
  }
  if (candidate != nullptr && traffic.active == candidate_revision) {
    promote(r, revisions, *candidate, verdict->rollback, plan);
  }
  std::optional<PostPromotionRun> post;
  api::RevisionRecord* rolled_back = back ? revisions.find(asked.revision) : nullptr;
  if (rolled_back != nullptr && rolled_back->revision != revisions.live &&
      rolled_back->state != api::RevisionState::Aborted) {
    if (const auto failed = analysis_record_from_json(r.old_status)) {
      mark_rolled_back(*rolled_back, *failed);
    }
  }
  if (!back) post = judge_post_promotion(r, revisions, status);
  if (post) record_post_promotion(r, revisions, *post, status, plan);

  keep_live_running(r, revisions, target, plan);
  const std::string kept = post && post->keeps_previous() ? post->record.active_revision : "";
  const Selected selected{revisions.live, traffic.preview, kept};
  ScaleDowns downs = due_scale_downs(revisions, selected, o.now);
  for (auto& s : downs.scales) plan.scale_down.push_back(std::move(s));
  for (const auto& event : downs.events) tell(plan, event);
  if (downs.look_again_at) requeue_at(plan, *downs.look_again_at, o.now);
  plan.delete_deployments =
      prune_history(revisions, selected, target.revision, r.spec.revision_history_limit);
  plan.services = service_writes(traffic, o, r.spec);
  plan.delete_services = services_renamed_away(o, r.spec);

  record_canary(r, target.revision, revisions.live, candidate, steps, decision.weight,
                routing.through, status, plan);
  plan.route = route_write(r, routing, decision.weight);
  const Json* live_deployment = revisions.deployment(revisions.live);
  const Json lineage = live_deployment != nullptr ? lineage_of(*live_deployment) : Json::object();
  const std::string create_error =
      verdict && verdict->kind == CandidateVerdict::Kind::RetryCreate ? verdict->message : "";
  // A blue/green preview waiting for its analysis to pass is in progress,
  // not waiting for a person.
  const bool analysis_pending = live && !r.spec.canary && r.spec.auto_promotion && !live->passed();
  const bool awaiting =
      verdict && verdict->kind == CandidateVerdict::Kind::AwaitPromotion && !analysis_pending;
  const std::optional<PodTrouble> live_trouble = revision_trouble(o, revisions.live);
  const PodTrouble* candidate_trouble =
      verdict && verdict->pod_trouble ? &*verdict->pod_trouble : nullptr;
  const std::string canary_note = steps && candidate->revision != revisions.live
                                      ? modelrelease::canary_note(r, routing, status, plan)
                                      : std::string();
  const bool analysed = live && verdict && verdict->rolling_out();
  std::string analysis_note = !analysed ? std::string()
                              : live->holds()
                                  ? "analysis " + live->record.message
                                  : modelrelease::analysis_note(*live, *r.spec.analysis);
  std::string analysis_hold = analysed && live->holds() ? live->hold_reason() : "";
  if (post && post->keeps_previous()) {
    analysis_note = post_promotion_note(*post);
    analysis_hold = post->hold_reason();
  }
  // A rolled-back revision is what spec asks for: status says why it does
  // not serve.
  const bool shows_rollback =
      rolled_back != nullptr && rolled_back->state == api::RevisionState::Aborted;
  const std::string& status_target = shows_rollback ? asked.revision : target.revision;
  set_release_status(
      status,
      {revisions.records, status_target, revisions.live, traffic.preview, lineage, target.source,
       live_deployment, r.spec.replicas, create_error, awaiting, candidate_trouble,
       live_trouble ? &*live_trouble : nullptr, canary_note, analysis_note, analysis_hold},
      r.generation, o.now);
  if (target.source.state == ModelSource::State::Failed &&
      r.old_status.value("phase", "") != api::release_phase::kDegraded) {
    tell(plan, {"Warning", "TrainingRunFailed", target.source.message});
  }
}

}  // namespace

void tell(Plan& plan, const EventSpec& event) {
  plan.events.push_back({event.type, event.reason, api::truncate_message(event.message)});
}

void requeue_at(Plan& plan, system_clock::time_point when, system_clock::time_point now) {
  // Rounded up, plus a margin, so a requeue never fires a moment before its deadline.
  const auto left = std::chrono::ceil<std::chrono::milliseconds>(when - now);
  const auto delay = std::max(left, std::chrono::milliseconds(0)) + std::chrono::milliseconds(50);
  if (!plan.requeue_after || delay < *plan.requeue_after) plan.requeue_after = delay;
}

std::string subject(const api::RevisionRecord& record) {
  return "revision " + record.revision + " (model " + record.model_version + ")";
}

Plan plan(const Observed& observed) {
  const Json& meta = observed.release.at("metadata");
  const Release release{observed, api::parse_release_spec(observed.release),
                        kube::meta_string(observed.release, "name"), meta.value("generation", 0L),
                        observed.release.value("status", Json::object())};
  Json status = release.old_status;
  Plan out;
  if (const auto conflict = service_conflict(release.spec, observed)) {
    plan_conflict(release, *conflict, status, out);
  } else {
    plan_rollout(release, status, out);
  }
  if (status != release.old_status) out.status = std::move(status);
  return out;
}

}  // namespace cd4ml::controllers::modelrelease
