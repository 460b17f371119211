#include "operator/controllers/modelrelease/candidate.hpp"

#include "operator/api/labels.hpp"
#include "operator/controllers/modelrelease/gates.hpp"
#include "operator/controllers/modelrelease/workloads.hpp"
#include "operator/kube/object_meta.hpp"

namespace cd4ml::controllers::modelrelease {

namespace {

using Kind = CandidateVerdict::Kind;
using Workload = CandidateVerdict::Workload;

// "revision <id> (model <version>)", the subject of the candidate's Events.
std::string subject(const api::RevisionRecord& record) {
  return "revision " + record.revision + " (model " + record.model_version + ")";
}

CandidateVerdict& finish(CandidateVerdict& v, Kind kind, std::string reason, std::string message,
                         EventSpec event) {
  v.kind = kind;
  v.reason = std::move(reason);
  v.message = std::move(message);
  v.event = std::move(event);
  return v;
}

// Rule 4: traffic stays where it is. `detail` says what kept it from
// becoming available, when something other than its pods did.
CandidateVerdict& past_deadline(CandidateVerdict& v, const CandidateInput& in,
                                const std::string& detail) {
  const std::string why =
      "not available within " + std::to_string(in.spec.progress_deadline_seconds) + "s" + detail;
  return finish(v, Kind::Abort, "ProgressDeadlineExceeded", why,
                {"Warning", "ProgressDeadlineExceeded",
                 subject(in.record) + " " + why + "; traffic stays where it was"});
}

// The gates' results for this candidate; nullopt when it skips them as a
// revision that already served (a rollback).
std::optional<std::vector<GateResult>> gate_results(const CandidateInput& in) {
  const bool same_model = in.active != nullptr &&
                          in.active->model_version == in.record.model_version &&
                          in.active->model_uri == in.record.model_uri;
  // Only the serving template changed: the model already passed (or
  // predates) the gates, and cannot beat itself on compareToActive.
  if (same_model) return skipped_gates(in.spec.gates);
  if (in.record.ever_active) return std::nullopt;
  std::optional<Metrics> active_metrics;
  if (in.active != nullptr) active_metrics = in.active->numeric_metrics();
  return evaluate_gates(in.spec.gates, in.record.numeric_metrics(), active_metrics);
}

}  // namespace

CandidateVerdict evaluate_candidate(const CandidateInput& in) {
  const api::RevisionRecord& record = in.record;
  CandidateVerdict v;
  if (kube::string_field(in.annotations, api::annotation::kAbort) == record.revision) {
    return finish(v, Kind::Abort, "Aborted",
                  "aborted by annotation " + std::string(api::annotation::kAbort),
                  {"Warning", "Aborted", subject(record) + " aborted by annotation"});
  }

  if (in.analysis_failure != nullptr) {
    const std::string back =
        in.active != nullptr ? "; traffic goes back to revision " + in.active->revision : "";
    return finish(v, Kind::Abort, "AnalysisFailed", *in.analysis_failure,
                  {"Warning", "AnalysisFailed",
                   subject(record) + " aborted: " + *in.analysis_failure + back});
  }

  v.rollback = record.ever_active;
  if (const auto results = gate_results(in)) {
    v.gates = to_json(*results);
    if (!all_passed(*results)) {
      const std::string why = describe_failures(*results);
      return finish(v, Kind::Reject, "GateFailed", why,
                    {"Warning", "GateFailed", subject(record) + " rejected: " + why});
    }
  }

  const bool promote =
      in.canary != nullptr
          ? in.canary->steps_done
          : (in.spec.auto_promotion && !in.analysis_pending) || v.rollback ||
                kube::string_field(in.annotations, api::annotation::kPromote) == record.revision;
  const int want = in.canary != nullptr ? in.canary->replicas
                   : promote            ? in.spec.replicas
                                        : in.spec.preview_replicas;
  const Json* dep = in.deployment;
  // The progress window holds whatever keeps the candidate from becoming
  // available, a Deployment the server keeps refusing (quota, webhook) too.
  const std::chrono::seconds window(in.spec.progress_deadline_seconds);
  auto deadline = (record.progressing_since ? *record.progressing_since : in.now) + window;

  if (dep == nullptr && in.create_failure != nullptr) {
    const std::string why = "the API server refused Deployment " +
                            deployment_name(in.release, record.revision) + ": " +
                            in.create_failure->message;
    if (in.create_failure->permanent) {
      return finish(v, Kind::Abort, "DeploymentRejected", why,
                    {"Warning", "DeploymentRejected", why});
    }
    if (in.now >= deadline) return past_deadline(v, in, "; " + why);
    v.look_again_at = deadline;
    return finish(v, Kind::RetryCreate, "DeploymentCreateFailed", why,
                  {"Warning", "DeploymentCreateFailed", why});
  }
  // Its Deployment is gone (or was never accepted) and its time is up: no
  // pods are started for a candidate that is aborted anyway.
  if (dep == nullptr && in.now >= deadline) return past_deadline(v, in, "");

  if (dep == nullptr) {
    v.workload = Workload::Create;
    v.replicas = want;
    v.event = {
        "Normal", "RevisionCreated",
        subject(record) + " created as Deployment " + deployment_name(in.release, record.revision)};
  } else if (const int current = spec_replicas(*dep); current != want) {
    v.workload = Workload::Scale;
    v.replicas = want;
    // Scaling up from preview size for promotion opens a new progress window,
    // from the whole second status records for it.
    v.restart_progress = in.canary == nullptr && current < want && want == in.spec.replicas &&
                         in.spec.preview_replicas < want && current == in.spec.preview_replicas;
    if (v.restart_progress) deadline = std::chrono::floor<std::chrono::seconds>(in.now) + window;
  }

  if (dep == nullptr || !fully_available(*dep, want)) {
    // Aborted with the kubelet's reason, if its pods showed one: "not
    // available" alone sends the user to the pods to find out why.
    if (in.now >= deadline) {
      return past_deadline(v, in, in.pod_trouble ? "; " + in.pod_trouble->describe() : "");
    }
    v.kind = Kind::Wait;
    v.look_again_at = deadline;
    if (in.pod_trouble != nullptr) v.pod_trouble = *in.pod_trouble;
    return v;
  }
  if (in.canary != nullptr && !promote) {
    v.kind = in.canary->paused ? Kind::AwaitPromotion : Kind::Stepping;
    v.look_again_at = in.canary->pause_ends;
    return v;
  }
  v.kind = promote ? Kind::Promote : Kind::AwaitPromotion;
  return v;
}

void mark_verdict(api::RevisionRecord& record, const CandidateVerdict& verdict,
                  std::chrono::system_clock::time_point now) {
  if (!verdict.gates.is_null()) record.gates = verdict.gates;
  if (verdict.restart_progress) {
    record.progressing_since = std::chrono::floor<std::chrono::seconds>(now);
  }
  if (verdict.finished()) {
    record.state =
        verdict.kind == Kind::Reject ? api::RevisionState::Rejected : api::RevisionState::Aborted;
    record.reason = verdict.reason;
    record.message = verdict.message;
  }
}

}  // namespace cd4ml::controllers::modelrelease
