#include "operator/controllers/modelrelease/plan.hpp"

#include <algorithm>
#include <map>

#include "operator/api/conditions.hpp"
#include "operator/api/labels.hpp"
#include "operator/api/modelrelease.hpp"
#include "operator/controllers/modelrelease/gates.hpp"
#include "operator/controllers/modelrelease/model_source.hpp"
#include "operator/controllers/modelrelease/workloads.hpp"
#include "operator/controllers/owner.hpp"

namespace cd4ml::controllers::modelrelease {

namespace {

namespace cond = api::condition;
namespace state = api::revision_state;
namespace rphase = api::release_phase;
using std::chrono::system_clock;

std::string str(const Json& object, const char* key) {
  auto it = object.find(key);
  return (it != object.end() && it->is_string()) ? it->get<std::string>() : std::string();
}

std::optional<system_clock::time_point> time_at(const Json& record, const char* key) {
  const std::string text = str(record, key);
  if (text.empty()) return std::nullopt;
  return api::parse_rfc3339(text);
}

std::chrono::milliseconds until(system_clock::time_point when, system_clock::time_point now) {
  // Round up so a requeue never fires a moment before its deadline.
  const auto left = std::chrono::ceil<std::chrono::milliseconds>(when - now);
  return std::max(left, std::chrono::milliseconds(0)) + std::chrono::milliseconds(50);
}

Metrics metrics_of(const Json& record) {
  Metrics out;
  const Json metrics = record.value("metrics", Json::object());
  for (const auto& [name, value] : metrics.items()) {
    if (value.is_number()) out[name] = value.get<double>();
  }
  return out;
}

class Planner {
 public:
  explicit Planner(const Observed& observed)
      : o_(observed),
        spec_(api::parse_release_spec(observed.release)),
        meta_(observed.release.at("metadata")),
        name_(str(meta_, "name")),
        uid_(str(meta_, "uid")),
        generation_(meta_.value("generation", 0L)),
        old_status_(observed.release.value("status", Json::object())),
        status_(old_status_) {}

  Plan run();

 private:
  // Steps of run(), in order.
  void load_records();
  bool services_conflict();
  void find_active();
  void resolve_target();
  void recover_deleted_training_run();
  Json lineage_of(const std::string& revision) const;
  void supersede_other_candidates();
  void advance_candidate();
  void choose_preview();
  void note_preview_switch(const std::string& version);
  void write_services();
  void settle_replicas();
  void prune();
  void write_status();

  // Helpers.
  Json* record(const std::string& revision);
  const Json* deployment(const std::string& revision) const;
  Json& add_record(const std::string& revision, const RevisionModel& model,
                   const std::string& training_run, const Metrics& metrics);
  void finish_candidate(Json& rec, const char* new_state, const std::string& reason,
                        const std::string& message);
  // Safety rule 4: the candidate is aborted, traffic stays where it is.
  void abort_at_deadline(Json& rec, const std::string& detail);
  void event(const char* type, const char* reason, const std::string& message) {
    plan_.events.push_back({type, reason, api::truncate_message(message)});
  }
  void requeue_at(system_clock::time_point when) {
    const auto delay = until(when, o_.now);
    if (!plan_.requeue_after || delay < *plan_.requeue_after) plan_.requeue_after = delay;
  }
  bool selected_by_desired_services(const std::string& revision) const {
    return !revision.empty() && (revision == active_ || revision == preview_);
  }
  void scale(const std::string& revision, int replicas);
  // Status times have whole seconds: rounded up, so that the replaced
  // revision never goes before the full delay has passed.
  std::string scale_down_at() const {
    return api::rfc3339(std::chrono::ceil<std::chrono::seconds>(
        o_.now + std::chrono::seconds(spec_.scale_down_delay_seconds)));
  }

  const Observed& o_;
  const api::ReleaseSpec spec_;
  const Json& meta_;
  const std::string name_;
  const std::string uid_;
  const long generation_;
  const Json old_status_;
  Json status_;

  std::map<std::string, const Json*> deployments_;  // by revision
  std::vector<Json> records_;
  ModelSource source_;
  std::string observed_active_;
  std::string observed_preview_;
  std::string active_;   // desired active revision
  std::string preview_;  // desired preview revision
  std::string target_;   // the revision spec asks for ("" while its model is not ready)
  bool awaiting_promotion_ = false;
  std::string create_error_;  // a transient create failure to report
  bool conflict_ = false;
  Plan plan_;
};

Json* Planner::record(const std::string& revision) {
  for (auto& r : records_) {
    if (str(r, "revision") == revision) return &r;
  }
  return nullptr;
}

const Json* Planner::deployment(const std::string& revision) const {
  auto it = deployments_.find(revision);
  return it == deployments_.end() ? nullptr : it->second;
}

Json& Planner::add_record(const std::string& revision, const RevisionModel& model,
                          const std::string& training_run, const Metrics& metrics) {
  Json metrics_json = Json::object();
  for (const auto& [k, v] : metrics) metrics_json[k] = v;
  Json rec = {{"revision", revision},
              {"modelVersion", model.version},
              {"modelURI", model.uri},
              {"deployment", deployment_name(name_, revision)},
              {"state", state::kPreview},
              {"createdAt", api::rfc3339(o_.now)},
              {"progressingSince", api::rfc3339(o_.now)},
              {"metrics", metrics_json}};
  if (!training_run.empty()) rec["trainingRun"] = training_run;
  records_.push_back(std::move(rec));
  return records_.back();
}

void Planner::load_records() {
  for (const auto& r : old_status_.value("revisions", Json::array())) {
    if (r.is_object() && !str(r, "revision").empty()) records_.push_back(r);
  }
  for (const auto& d : o_.deployments) {
    const std::string revision = revision_of(d);
    if (revision.empty()) continue;
    deployments_[revision] = &d;
    if (record(revision) != nullptr) continue;
    // A Deployment without a record: created just before a restart, before its
    // status write. Rebuild the record from what the Deployment carries.
    const Json annotations = d.value("/metadata/annotations"_json_pointer, Json::object());
    const Json lineage = Json::parse(annotations.value(kLineageAnnotation, "{}"), nullptr, false);
    const std::string created =
        d.value("/metadata/creationTimestamp"_json_pointer, api::rfc3339(o_.now));
    Json rec = {{"revision", revision},
                {"modelVersion", d.value("/metadata/labels"_json_pointer, Json::object())
                                     .value(api::label::kModelVersion, "")},
                {"modelURI", annotations.value("cd4ml.io/model-uri", "")},
                {"deployment", str(d["metadata"], "name")},
                {"state", state::kInactive},
                {"createdAt", created},
                {"progressingSince", created},
                {"metrics",
                 lineage.is_object() ? lineage.value("metrics", Json::object()) : Json::object()}};
    if (lineage.is_object() && lineage.contains("trainingRun")) {
      rec["trainingRun"] = lineage["trainingRun"];
    }
    records_.push_back(std::move(rec));
  }
}

bool Planner::services_conflict() {
  std::string message;
  if (spec_.active_service == spec_.preview_service) {
    // The CRD refuses this; a release stored before that rule still must not
    // have one Service patched as preview, then as active.
    message = "the active and preview Service are both named " + spec_.active_service +
              ": set spec.strategy.blueGreen.activeService/previewService to different names";
  }
  for (const auto* service : {&o_.active_service, &o_.preview_service}) {
    if (!message.empty()) break;
    if (*service && !is_controlled_by(**service, uid_)) {
      message = "Service " + str((**service)["metadata"], "name") +
                " exists and is not owned by this ModelRelease; it is left untouched: delete "
                "it or set spec.strategy.blueGreen.activeService/previewService";
      break;
    }
  }
  if (message.empty()) return false;
  conflict_ = true;
  const bool already =
      api::condition_is_true(old_status_.value("conditions", Json()), cond::kStalled) &&
      str(old_status_, "phase") == rphase::kDegraded && old_status_.value("message", "") == message;
  if (!already) event("Warning", "ServiceConflict", message);
  status_["phase"] = rphase::kDegraded;
  status_["message"] = message;
  status_["observedGeneration"] = generation_;
  api::set_condition(status_["conditions"], {cond::kReady, false, "ServiceConflict", message},
                     generation_, o_.now);
  api::set_condition(status_["conditions"], {cond::kReconciling, false, "ServiceConflict", message},
                     generation_, o_.now);
  api::set_condition(status_["conditions"], {cond::kStalled, true, "ServiceConflict", message},
                     generation_, o_.now);
  // The foreign Service is not in the operator's (labelled) cache: look again later.
  plan_.requeue_after = std::chrono::seconds(30);
  return true;
}

void Planner::find_active() {
  if (o_.active_service) observed_active_ = selected_revision(*o_.active_service);
  if (o_.preview_service) observed_preview_ = selected_revision(*o_.preview_service);
  if (observed_preview_ == kNoRevision) observed_preview_.clear();
  // The active Service's selector is the truth. Without the Service (first
  // release, or someone deleted it) fall back to what status remembers.
  active_ = observed_active_;
  if (active_.empty()) {
    const std::string remembered = str(old_status_, "activeRevision");
    if (!remembered.empty() && deployment(remembered) != nullptr) active_ = remembered;
  }
  for (auto& rec : records_) {
    const bool is_active = str(rec, "revision") == active_;
    if (is_active && str(rec, "state") != state::kActive) {
      // Switched before a restart, and the status write was lost.
      rec["state"] = state::kActive;
      rec["everActive"] = true;
      if (!rec.contains("promotedAt")) rec["promotedAt"] = api::rfc3339(o_.now);
      rec.erase("scaleDownAt");
    } else if (!is_active && str(rec, "state") == state::kActive) {
      // The other half of the same lost write: re-derive what the switch
      // recorded about the replaced revision (its ScaledDown Event reads it).
      rec["state"] = state::kInactive;
      if (!active_.empty()) {
        rec["reason"] = "Replaced";
        rec["message"] = "replaced by revision " + active_;
      }
      if (!rec.contains("scaleDownAt")) {
        rec["scaleDownAt"] = scale_down_at();
      }
    }
  }
}

void Planner::recover_deleted_training_run() {
  // The TrainingRun is gone (deleted after it was released): what the release
  // recorded about its model is enough to keep serving and to compute the
  // revision of a changed template. Prefer the active record.
  const Json* found = nullptr;
  for (const auto& rec : records_) {
    if (str(rec, "trainingRun") != spec_.training_run) continue;
    if (found == nullptr || str(rec, "revision") == active_ ||
        (str(*found, "revision") != active_ && str(rec, "createdAt") > str(*found, "createdAt"))) {
      found = &rec;
    }
  }
  if (found == nullptr) return;
  source_.state = ModelSource::State::Ready;
  source_.version = str(*found, "modelVersion");
  source_.uri = str(*found, "modelURI");
  source_.metrics = metrics_of(*found);
  source_.lineage = lineage_of(str(*found, "revision"));
  if (source_.lineage.empty()) {
    source_.lineage = {{"trainingRun", spec_.training_run},
                       {"modelVersion", source_.version},
                       {"modelURI", source_.uri}};
  }
}

Json Planner::lineage_of(const std::string& revision) const {
  const Json* dep = deployment(revision);
  if (dep == nullptr) return Json::object();
  const Json annotations = dep->value("/metadata/annotations"_json_pointer, Json::object());
  const Json lineage = Json::parse(annotations.value(kLineageAnnotation, "{}"), nullptr, false);
  return lineage.is_object() ? lineage : Json::object();
}

void Planner::resolve_target() {
  source_ = resolve_model(spec_, o_.training_run);
  if (source_.state == ModelSource::State::Waiting && source_.reason == "TrainingRunNotFound") {
    recover_deleted_training_run();
  }
  if (source_.state != ModelSource::State::Ready) return;
  target_ = api::revision_id(source_.version, source_.uri, spec_.pod_template);
  Json* rec = record(target_);
  if (rec == nullptr) {
    add_record(target_, {target_, source_.version, source_.uri, source_.lineage},
               source_.training_run, source_.metrics);
    return;
  }
  if (target_ != active_ && str(*rec, "state") == state::kInactive) {
    // Back to a kept revision: a fast rollback reuses its Deployment.
    (*rec)["state"] = state::kPreview;
    (*rec)["progressingSince"] = api::rfc3339(o_.now);
    rec->erase("scaleDownAt");
    rec->erase("reason");
    rec->erase("message");
  }
}

void Planner::supersede_other_candidates() {
  for (auto& rec : records_) {
    if (str(rec, "state") != state::kPreview || str(rec, "revision") == target_) continue;
    rec["state"] = state::kInactive;
    rec["reason"] = "Superseded";
    rec["message"] = target_.empty() ? "spec.model changed" : "superseded by revision " + target_;
    event("Normal", "Superseded",
          "candidate " + str(rec, "revision") + " (model " + str(rec, "modelVersion") + ") " +
              str(rec, "message") + " before it was promoted");
  }
}

void Planner::finish_candidate(Json& rec, const char* new_state, const std::string& reason,
                               const std::string& message) {
  rec["state"] = new_state;
  rec["reason"] = reason;
  rec["message"] = message;
}

void Planner::abort_at_deadline(Json& rec, const std::string& detail) {
  const std::string why =
      "not available within " + std::to_string(spec_.progress_deadline_seconds) + "s" + detail;
  finish_candidate(rec, state::kAborted, "ProgressDeadlineExceeded", why);
  event("Warning", "ProgressDeadlineExceeded",
        "revision " + target_ + " (model " + str(rec, "modelVersion") + ") " + why +
            "; traffic stays where it was");
  if (preview_ == target_) preview_.clear();
}

void Planner::advance_candidate() {
  if (target_.empty() || target_ == active_) return;
  Json& rec = *record(target_);
  if (str(rec, "state") != state::kPreview) return;
  const bool rollback = rec.value("everActive", false);
  const std::string version = str(rec, "modelVersion");

  const Json annotations = meta_.value("annotations", Json::object());
  if (annotations.value(api::annotation::kAbort, "") == target_) {
    finish_candidate(rec, state::kAborted, "Aborted",
                     "aborted by annotation " + std::string(api::annotation::kAbort));
    event("Warning", "Aborted",
          "revision " + target_ + " (model " + version + ") aborted by annotation");
    return;
  }

  const Json* active_rec = record(active_);
  const bool same_model = active_rec != nullptr && str(*active_rec, "modelVersion") == version &&
                          str(*active_rec, "modelURI") == str(rec, "modelURI");
  if (same_model) {
    // Only the serving template changed: the model already passed (or
    // predates) the gates, and cannot beat itself on compareToActive.
    Json skipped = Json::array();
    for (const auto& gate : spec_.gates) {
      skipped.push_back({{"metric", gate.metric},
                         {"rule", gate.metric},
                         {"passed", true},
                         {"message", "skipped: same model as the active revision"}});
    }
    rec["gates"] = skipped;
  } else if (!rollback) {
    // A revision that already served in production skips gates on the way back.
    std::optional<Metrics> active_metrics;
    if (active_rec != nullptr) active_metrics = metrics_of(*active_rec);
    const auto results = evaluate_gates(spec_.gates, metrics_of(rec), active_metrics);
    rec["gates"] = to_json(results);
    if (!all_passed(results)) {
      const std::string why = describe_failures(results);
      finish_candidate(rec, state::kRejected, "GateFailed", why);
      event("Warning", "GateFailed",
            "revision " + target_ + " (model " + version + ") rejected: " + why);
      return;
    }
  }

  const bool promote = spec_.auto_promotion || rollback ||
                       annotations.value(api::annotation::kPromote, "") == target_;
  const int want = promote ? spec_.replicas : spec_.preview_replicas;
  const Json* dep = deployment(target_);
  // The progress window holds whatever keeps the candidate from becoming
  // available, a Deployment the server keeps refusing (quota, webhook) too.
  // (Read again below: a scale-up for promotion opens a new window.)
  const auto deadline = [&] {
    return time_at(rec, "progressingSince").value_or(o_.now) +
           std::chrono::seconds(spec_.progress_deadline_seconds);
  };
  if (auto failed = o_.create_failures.find(target_);
      dep == nullptr && failed != o_.create_failures.end()) {
    const std::string why = "the API server refused Deployment " + deployment_name(name_, target_) +
                            ": " + failed->second.message;
    if (failed->second.permanent) {
      finish_candidate(rec, state::kAborted, "DeploymentRejected", why);
      event("Warning", "DeploymentRejected", why);
      return;
    }
    if (o_.now >= deadline()) {
      abort_at_deadline(rec, "; " + why);
      return;
    }
    create_error_ = why;
    event("Warning", "DeploymentCreateFailed", why);
    requeue_at(deadline());
    return;
  }
  if (dep == nullptr && o_.now >= deadline()) {
    // Its Deployment is gone (or was never accepted) and its time is up: no
    // pods are started for a candidate that is aborted anyway.
    abort_at_deadline(rec, "");
    return;
  }
  if (dep == nullptr) {
    // target_ was derived from source_ in resolve_target(), so its lineage fits.
    RevisionModel model{target_, version, str(rec, "modelURI"), source_.lineage};
    plan_.create_deployments.push_back(build_deployment(o_.release, spec_, model, want));
    event("Normal", "RevisionCreated",
          "revision " + target_ + " (model " + version + ") created as Deployment " +
              deployment_name(name_, target_));
  } else if (spec_replicas(*dep) != want) {
    if (spec_replicas(*dep) < want && want == spec_.replicas && spec_.preview_replicas < want &&
        spec_replicas(*dep) == spec_.preview_replicas) {
      // Scaling up from preview size for promotion opens a new progress window.
      rec["progressingSince"] = api::rfc3339(o_.now);
    }
    scale(target_, want);
  }

  const bool ready_pod = dep != nullptr && has_ready_pod(*dep);
  const bool available = dep != nullptr && fully_available(*dep, want);
  if (ready_pod) preview_ = target_;

  if (!available) {
    if (o_.now >= deadline()) {
      abort_at_deadline(rec, "");
      return;
    }
    requeue_at(deadline());
    note_preview_switch(version);
    return;
  }
  note_preview_switch(version);
  if (!promote) {
    awaiting_promotion_ = true;
    return;
  }

  // Safety rule 1 holds here: fully available at the full replica count.
  const std::string previous = active_;
  rec["state"] = state::kActive;
  rec["promotedAt"] = api::rfc3339(o_.now);
  rec["everActive"] = true;
  rec.erase("reason");
  rec.erase("message");
  if (Json* old = record(previous)) {
    (*old)["state"] = state::kInactive;
    (*old)["reason"] = "Replaced";
    (*old)["message"] = "replaced by revision " + target_;
    (*old)["scaleDownAt"] = scale_down_at();
  }
  active_ = target_;
  preview_ = target_;
  const std::string from = previous.empty() ? std::string() : " (was " + previous + ")";
  if (rollback) {
    event("Normal", "RolledBack",
          "rolled back to revision " + target_ + " (model " + version + ")" + from);
  } else {
    event("Normal", "Promoted",
          "revision " + target_ + " (model " + version + ") is now active" + from);
  }
}

void Planner::choose_preview() {
  // The candidate if it has a ready pod (set by advance_candidate), else the
  // active revision, else nothing: never a revision without ready pods.
  if (preview_.empty()) preview_ = active_;
}

void Planner::note_preview_switch(const std::string& version) {
  // Also when the candidate is promoted in the same step (both Services
  // switch together): it did arrive in preview first.
  if (preview_ == target_ && observed_preview_ != target_) {
    event("Normal", "PreviewSwitched",
          "preview Service " + spec_.preview_service + " now selects revision " + target_ +
              " (model " + version + ")");
  }
}

void Planner::write_services() {
  const Json ports = service_ports(spec_);
  const auto write = [this, &ports](const std::optional<Json>& observed,
                                    const std::string& service_name, const std::string& want) {
    if (!observed) {
      if (want.empty()) return;  // nothing to serve yet: create it once there is
      plan_.services.push_back(
          {service_name, want, build_service(o_.release, spec_, service_name, want), std::nullopt});
      return;
    }
    ServiceWrite w{service_name, want.empty() ? kNoRevision : want, std::nullopt, std::nullopt};
    bool needed = selected_revision(*observed) != w.revision;
    if (ports_differ(*observed, ports)) {
      w.ports = ports;
      needed = true;
    }
    if (needed) plan_.services.push_back(std::move(w));
  };
  write(o_.preview_service, spec_.preview_service, preview_);
  if (!active_.empty()) {
    const Json* dep = deployment(active_);
    const bool switching = observed_active_ != active_;
    // Rule 1 once more at the point of writing: only a fully available
    // revision is ever written into the active selector; otherwise the
    // selection stays as it is (ports are still kept in sync).
    const bool safe = !switching || (dep != nullptr && fully_available(*dep, spec_.replicas));
    write(o_.active_service, spec_.active_service, safe ? active_ : observed_active_);
  }
  // Services of an earlier activeService/previewService name.
  for (const auto& svc : o_.owned_services) {
    const std::string name = str(svc["metadata"], "name");
    if (name != spec_.active_service && name != spec_.preview_service) {
      plan_.delete_services.push_back(name);
    }
  }
}

void Planner::scale(const std::string& revision, int replicas) {
  const Json* dep = deployment(revision);
  if (dep == nullptr || spec_replicas(*dep) == replicas) return;
  const Scale s{str((*dep)["metadata"], "name"), replicas};
  if (replicas > spec_replicas(*dep)) {
    plan_.scale_up.push_back(s);
  } else {
    plan_.scale_down.push_back(s);
  }
}

void Planner::settle_replicas() {
  if (!active_.empty() && deployment(active_) == nullptr && active_ == target_ &&
      !o_.create_failures.count(active_)) {
    // The live revision's Deployment was deleted by hand: the Service still
    // selects it, so bring its pods back (its template is the spec's).
    const Json* rec = record(active_);
    RevisionModel model{active_, source_.version, source_.uri, source_.lineage};
    plan_.create_deployments.push_back(build_deployment(o_.release, spec_, model, spec_.replicas));
    event("Warning", "DeploymentRecreated",
          "Deployment " + deployment_name(name_, active_) +
              " of the active revision was missing; "
              "recreated it" +
              (rec ? " (model " + str(*rec, "modelVersion") + ")" : std::string()));
  }
  if (!active_.empty()) scale(active_, spec_.replicas);
  for (auto& rec : records_) {
    const std::string revision = str(rec, "revision");
    const std::string s = str(rec, "state");
    if (revision == active_ || s == state::kPreview) continue;
    if (const auto at = time_at(rec, "scaleDownAt")) {
      if (o_.now < *at) {
        requeue_at(*at);
        continue;
      }
      rec.erase("scaleDownAt");
    }
    const Json* dep = deployment(revision);
    if (dep == nullptr || spec_replicas(*dep) == 0 || selected_by_desired_services(revision))
      continue;
    scale(revision, 0);
    if (str(rec, "reason") == "Replaced") {
      event("Normal", "ScaledDown", "previous revision " + revision + " scaled down to 0");
    }
  }
}

void Planner::prune() {
  // Newest first. createdAt has whole seconds, so revisions created in the
  // same second are ordered by their place in the record list (creation
  // order): hence the reverse walk and the stable sorts.
  std::vector<Json*> others;
  for (auto it = records_.rbegin(); it != records_.rend(); ++it) {
    Json& rec = *it;
    const std::string revision = str(rec, "revision");
    if (revision == active_ || revision == target_ || selected_by_desired_services(revision) ||
        rec.contains("scaleDownAt")) {
      continue;
    }
    others.push_back(&rec);
  }
  std::stable_sort(others.begin(), others.end(), [](const Json* a, const Json* b) {
    return str(*a, "createdAt") > str(*b, "createdAt");
  });
  std::vector<std::string> dropped;
  for (std::size_t i = static_cast<std::size_t>(std::max(spec_.revision_history_limit, 0));
       i < others.size(); ++i) {
    dropped.push_back(str(*others[i], "revision"));
  }
  for (const auto& revision : dropped) {
    if (const Json* dep = deployment(revision)) {
      plan_.delete_deployments.push_back(str((*dep)["metadata"], "name"));
    }
  }
  records_.erase(std::remove_if(records_.begin(), records_.end(),
                                [&dropped](const Json& rec) {
                                  return std::find(dropped.begin(), dropped.end(),
                                                   str(rec, "revision")) != dropped.end();
                                }),
                 records_.end());
  std::stable_sort(records_.begin(), records_.end(), [](const Json& a, const Json& b) {
    return str(a, "createdAt") < str(b, "createdAt");
  });
}

void Planner::write_status() {
  Json revisions = Json::array();
  for (const auto& rec : records_) revisions.push_back(rec);
  status_["revisions"] = revisions;
  status_["observedGeneration"] = generation_;
  status_["targetRevision"] = target_;

  const Json* active_rec = record(active_);
  status_["activeRevision"] = active_;
  status_["activeModelVersion"] = active_rec ? str(*active_rec, "modelVersion") : "";
  const std::string shown_preview = preview_ == active_ ? std::string() : preview_;
  const Json* preview_rec = record(shown_preview);
  status_["previewRevision"] = shown_preview;
  status_["previewModelVersion"] = preview_rec ? str(*preview_rec, "modelVersion") : "";
  if (const Json lineage = lineage_of(active_); !lineage.empty()) status_["lineage"] = lineage;
  if (active_.empty()) status_.erase("lineage");

  std::string phase;
  std::string reason;
  std::string message;
  bool stalled = false;
  const Json* target_rec = record(target_);
  const std::string target_state = target_rec ? str(*target_rec, "state") : "";
  const std::string serving = active_.empty() ? std::string("nothing is serving")
                                              : "serving revision " + active_ + " (model " +
                                                    str(status_, "activeModelVersion") + ")";
  if (source_.state == ModelSource::State::Failed) {
    phase = rphase::kDegraded;
    reason = source_.reason;
    message = source_.message + "; " + serving;
    stalled = true;
  } else if (source_.state == ModelSource::State::Waiting) {
    phase = active_.empty() ? rphase::kPending : rphase::kProgressing;
    reason = source_.reason;
    message = source_.message + "; " + serving;
  } else if (target_state == state::kRejected || target_state == state::kAborted) {
    phase = rphase::kDegraded;
    reason = str(*target_rec, "reason");
    message = "revision " + target_ + " (model " + str(*target_rec, "modelVersion") + ") " +
              (target_state == state::kRejected ? "rejected: " : "aborted: ") +
              str(*target_rec, "message") + "; " + serving;
    stalled = true;
  } else if (target_ == active_) {
    const Json* dep = deployment(active_);
    if (dep != nullptr && fully_available(*dep, spec_.replicas)) {
      phase = rphase::kHealthy;
      reason = "Healthy";
      message = serving;
    } else if (dep != nullptr && spec_replicas(*dep) != spec_.replicas) {
      phase = rphase::kProgressing;
      reason = "Scaling";
      message =
          "scaling revision " + active_ + " to " + std::to_string(spec_.replicas) + " replicas";
    } else {
      phase = rphase::kDegraded;
      reason = "ActiveUnavailable";
      message = "active revision " + active_ + " is not fully available";
    }
  } else if (!create_error_.empty()) {
    phase = active_.empty() ? rphase::kPending : rphase::kProgressing;
    reason = "DeploymentCreateFailed";
    message = create_error_ + "; retrying; " + serving;
  } else if (awaiting_promotion_) {
    phase = rphase::kAwaitingPromotion;
    reason = "AwaitingPromotion";
    message = "revision " + target_ + " is ready in preview; annotate " +
              std::string(api::annotation::kPromote) + "=" + target_ + " to promote it; " + serving;
  } else {
    phase = rphase::kProgressing;
    reason = "RolloutInProgress";
    message = "rolling out revision " + target_ + "; " + serving;
  }
  status_["phase"] = phase;
  status_["message"] = message;
  const bool healthy = phase == rphase::kHealthy;
  // Degraded without Stalled (the active revision lost pods) is still
  // Reconciling: kstatus tools must not read it as healthy.
  const bool reconciling = !healthy && !stalled;
  api::set_condition(status_["conditions"], {cond::kReady, healthy, reason, message}, generation_,
                     o_.now);
  api::set_condition(status_["conditions"], {cond::kReconciling, reconciling, reason, message},
                     generation_, o_.now);
  api::set_condition(status_["conditions"], {cond::kStalled, stalled, reason, message}, generation_,
                     o_.now);
  if (stalled && source_.state == ModelSource::State::Failed &&
      str(old_status_, "phase") != rphase::kDegraded) {
    event("Warning", "TrainingRunFailed", source_.message);
  }
}

Plan Planner::run() {
  if (services_conflict()) {
    if (status_ != old_status_) plan_.status = status_;
    return std::move(plan_);
  }
  load_records();
  find_active();
  resolve_target();
  supersede_other_candidates();
  advance_candidate();
  choose_preview();
  write_services();
  settle_replicas();
  prune();
  write_status();
  if (status_ != old_status_) plan_.status = std::move(status_);
  return std::move(plan_);
}

}  // namespace

Plan plan(const Observed& observed) {
  return Planner(observed).run();
}

}  // namespace cd4ml::controllers::modelrelease
