#include <condition_variable>
#include <iostream>
#include <mutex>
#include <stdexcept>
#include <thread>

#include "bench/cluster/bench_session.hpp"
#include "bench/cluster/duration_summary.hpp"
#include "bench/cluster/metrics_scrape.hpp"
#include "bench/cluster/scenarios.hpp"
#include "e2e/common/samples.hpp"
#include "operator/controllers/modelrelease/canary.hpp"
#include "operator/kube/resource.hpp"
#include "operator/runtime/informer.hpp"

namespace cd4ml::bench {

namespace {

using SteadyTime = std::chrono::steady_clock::time_point;
using std::chrono::nanoseconds;

constexpr const char* kRevisionLabel = "cd4ml.io/revision";
constexpr const char* kVersionLabel = "cd4ml.io/model-version";

long number_at(const Json& object, const char* path) {
  const Json::json_pointer pointer(path);
  return object.contains(pointer) && object[pointer].is_number_integer()
             ? object[pointer].get<long>()
             : 0;
}

std::string label(const Json& object, const char* key) {
  return object.value("/metadata/labels"_json_pointer, Json::object()).value(key, "");
}

bool current_generation(const Json& deployment) {
  return number_at(deployment, "/status/observedGeneration") >=
         number_at(deployment, "/metadata/generation");
}

// What the brief of the benchmark calls full availability: every wanted
// replica available, as reported for the current generation.
bool available(const Json& deployment) {
  const long replicas = number_at(deployment, "/spec/replicas");
  return replicas > 0 && current_generation(deployment) &&
         number_at(deployment, "/status/availableReplicas") == replicas;
}

// The operator's own test before a switch (modelrelease/workloads.cpp): also
// no surplus or outdated pods. For a new revision's Deployment both usually
// come true in the same status update.
bool fully_available(const Json& deployment) {
  const long replicas = number_at(deployment, "/spec/replicas");
  return available(deployment) && number_at(deployment, "/status/updatedReplicas") == replicas &&
         number_at(deployment, "/status/replicas") == replicas;
}

struct RevisionSeen {
  Json deployment;                         // latest
  std::optional<SteadyTime> available_at;  // last false -> true transition
  std::optional<SteadyTime> fully_available_at;
};

struct Switch {
  std::string revision;
  SteadyTime at;
};

// A Deployment fully available at `replicas`, or a canary step recorded done.
struct Stamp {
  std::string revision;
  long count;  // replicas, or steps done
  SteadyTime at;
};

// Everything the watcher saw, stamped on receipt (io thread); read by the
// driving thread under the same mutex.
class Observations {
 public:
  explicit Observations(std::string active_service) : active_service_(std::move(active_service)) {}

  void deployment(const runtime::ObjectPtr& object, bool deleted) {
    const SteadyTime now = std::chrono::steady_clock::now();
    const std::string revision = label(*object, kRevisionLabel);
    std::lock_guard lock(mutex_);
    ++events_;
    if (deleted) {
      revisions_.erase(revision);
    } else {
      RevisionSeen& seen = revisions_[revision];
      const bool was_available = !seen.deployment.is_null() && available(seen.deployment);
      const bool was_full = !seen.deployment.is_null() && fully_available(seen.deployment);
      if (available(*object) && !was_available) seen.available_at = now;
      if (fully_available(*object) && !was_full) {
        seen.fully_available_at = now;
        full_at_.push_back({revision, number_at(*object, "/spec/replicas"), now});
      }
      seen.deployment = *object;
    }
    changed_.notify_all();
  }

  void service(const runtime::ObjectPtr& object) {
    const SteadyTime now = std::chrono::steady_clock::now();
    std::lock_guard lock(mutex_);
    ++events_;
    if (object->value("/metadata/name"_json_pointer, std::string()) != active_service_) return;
    const std::string revision =
        object->value("/spec/selector"_json_pointer, Json::object()).value(kRevisionLabel, "");
    if (revision != active_revision_) {
      active_revision_ = revision;
      switches_.push_back({revision, now});
    }
    changed_.notify_all();
  }

  void release(const runtime::ObjectPtr& object) {
    const SteadyTime now = std::chrono::steady_clock::now();
    std::lock_guard lock(mutex_);
    ++events_;
    const Json canary = object->value("/status/canary"_json_pointer, Json::object());
    const std::string revision = canary.value("revision", "");
    const long step = canary.value("step", 0L);
    if (!revision.empty() && (steps_done_.empty() || steps_done_.back().revision != revision ||
                              steps_done_.back().count != step)) {
      steps_done_.push_back({revision, step, now});
    }
    release_ = *object;
    changed_.notify_all();
  }

  // Waits until `check` (called under the lock) holds or `until` passes.
  template <typename Check>
  bool wait(SteadyTime until, Check check) {
    std::unique_lock lock(mutex_);
    return changed_.wait_until(lock, until, [&] { return check(); });
  }

  // The release has settled on `version`: Healthy on the current generation,
  // the active Service on that version's revision, every other revision
  // scaled to 0, and no more revisions than the history keeps.
  bool settled(const std::string& version, std::size_t max_revisions) const {
    if (release_.is_null()) return false;
    const bool healthy =
        release_.value("/status/phase"_json_pointer, std::string()) == "Healthy" &&
        release_.value("/status/observedGeneration"_json_pointer, -1L) ==
            release_.value("/metadata/generation"_json_pointer, -2L) &&
        release_.value("/status/activeModelVersion"_json_pointer, std::string()) == version;
    if (!healthy || revisions_.size() > max_revisions) return false;
    // A scale-down still pending in status: the operator has one more round to go.
    for (const auto& record : release_.value("/status/revisions"_json_pointer, Json::array())) {
      if (record.contains("scaleDownAt")) return false;
    }
    for (const auto& [revision, seen] : revisions_) {
      const bool is_target = label(seen.deployment, kVersionLabel) == version;
      if (is_target && revision != active_revision_) return false;
      if (!is_target && number_at(seen.deployment, "/spec/replicas") != 0) return false;
    }
    return true;
  }

  // Call under wait() or after the informers have stopped.
  std::optional<std::string> revision_of(const std::string& version) const {
    for (const auto& [revision, seen] : revisions_) {
      if (label(seen.deployment, kVersionLabel) == version) return revision;
    }
    return std::nullopt;
  }
  const RevisionSeen* seen(const std::string& revision) const {
    const auto it = revisions_.find(revision);
    return it == revisions_.end() ? nullptr : &it->second;
  }
  std::optional<SteadyTime> switched_to(const std::string& revision, SteadyTime after) const {
    for (const auto& s : switches_) {
      if (s.revision == revision && s.at >= after) return s.at;
    }
    return std::nullopt;
  }
  // When `revision` was recorded with `steps` steps done, after `after`.
  std::optional<SteadyTime> step_done(const std::string& revision, long steps,
                                      SteadyTime after) const {
    for (const auto& s : steps_done_) {
      if (s.revision == revision && s.count == steps && s.at >= after) return s.at;
    }
    return std::nullopt;
  }
  // The last time before `before` that `revision` became fully available at `replicas`.
  std::optional<SteadyTime> full_at(const std::string& revision, long replicas,
                                    SteadyTime before) const {
    std::optional<SteadyTime> found;
    for (const auto& s : full_at_) {
      if (s.revision == revision && s.count == replicas && s.at <= before) found = s.at;
    }
    return found;
  }
  long events() const { return events_; }
  std::mutex& mutex() { return mutex_; }
  Json release_status() const { return release_.value("status", Json::object()); }

 private:
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::string active_service_;
  std::map<std::string, RevisionSeen> revisions_;
  std::string active_revision_;
  std::vector<Switch> switches_;
  std::vector<Stamp> full_at_;
  std::vector<Stamp> steps_done_;
  Json release_;
  long events_ = 0;
};

Json model_of(const std::string& version) {
  return {{"uri", "s3://models/bench-rollouts/" + version}, {"version", version}};
}

Json release_object(const ReleaseRolloutsOptions& options, const std::string& version) {
  Json release =
      e2e::sample_release(options.ns, options.release, model_of(version), options.replicas);
  if (options.canary_steps.is_array()) {
    release["spec"]["strategy"] = {
        {"canary",
         {{"steps", options.canary_steps}, {"scaleDownDelaySeconds", options.scale_down_delay}}}};
  } else {
    release["spec"]["strategy"] = {
        {"blueGreen", {{"scaleDownDelaySeconds", options.scale_down_delay}}}};
  }
  return release;
}

double count(const Json& delta, const std::string& resource,
             std::initializer_list<const char*> verbs) {
  double sum = 0;
  const Json by_resource = delta.value("by_resource", Json::object());
  if (!by_resource.contains(resource)) return 0;
  for (const char* verb : verbs) sum += by_resource[resource].value(verb, 0.0);
  return sum;
}

// The writes of one interval, by what they touch.
Json writes_of(const std::vector<MetricSample>& before, const std::vector<MetricSample>& after) {
  const Json delta = request_delta(before, after);
  const auto writes = {"create", "update", "patch", "apply", "delete"};
  const double deployments = count(delta, "deployments", writes);
  const double services = count(delta, "services", writes);
  const double reconciles =
      metric_sum(after, "controller_runtime_reconcile_total", {{"controller", "modelrelease"}}) -
      metric_sum(before, "controller_runtime_reconcile_total", {{"controller", "modelrelease"}});
  return {{"object_writes", deployments + services},
          {"deployment_writes", deployments},
          {"service_writes", services},
          {"status_writes", count(delta, "modelreleases/status", writes)},
          {"event_writes", count(delta, "events", writes)},
          {"conflicts_409", delta["by_code"].value("409", 0.0)},
          {"reconciles", reconciles},
          {"requests", delta}};
}

}  // namespace

Json release_rollouts(const ReleaseRolloutsOptions& options) {
  if (options.rollouts < 1) throw std::invalid_argument("rollouts must be positive");
  BenchSession session(options.kubeconfig, unthrottled(2));
  Observations seen(options.release);

  runtime::InformerOptions deployment_options;
  deployment_options.ns = options.ns;
  deployment_options.label_selector = "cd4ml.io/release=" + options.release;
  runtime::Informer deployments(session.transport(), kube::resources::kDeployments,
                                std::move(deployment_options));
  runtime::InformerOptions service_options;
  service_options.ns = options.ns;
  runtime::Informer services(session.transport(), kube::resources::kServices,
                             std::move(service_options));
  runtime::InformerOptions release_options;
  release_options.ns = options.ns;
  runtime::Informer releases(session.transport(), kube::resources::kModelReleases,
                             std::move(release_options));
  deployments.add_handlers(
      {[&](const runtime::ObjectPtr& o) { seen.deployment(o, false); },
       [&](const runtime::ObjectPtr&, const runtime::ObjectPtr& o) { seen.deployment(o, false); },
       [&](const runtime::ObjectPtr& o) { seen.deployment(o, true); }});
  services.add_handlers(
      {[&](const runtime::ObjectPtr& o) { seen.service(o); },
       [&](const runtime::ObjectPtr&, const runtime::ObjectPtr& o) { seen.service(o); },
       {}});
  releases.add_handlers(
      {[&](const runtime::ObjectPtr& o) { seen.release(o); },
       [&](const runtime::ObjectPtr&, const runtime::ObjectPtr& o) { seen.release(o); },
       {}});
  for (auto* informer : {&deployments, &services, &releases}) informer->start();
  wait_for_sync({&deployments, &services, &releases}, in_seconds(60));

  const std::size_t max_revisions = static_cast<std::size_t>(options.history_limit) + 1;
  const auto wait_settled = [&](const std::string& version) {
    if (!seen.wait(std::chrono::steady_clock::now() + options.settle_deadline,
                   [&] { return seen.settled(version, max_revisions); })) {
      std::lock_guard lock(seen.mutex());
      throw std::runtime_error("release did not settle on " + version + " within " +
                               std::to_string(options.settle_deadline.count()) +
                               " s; status: " + seen.release_status().dump());
    }
  };

  // The first version is not measured: it has nothing to switch from.
  session.client().create(kube::resources::kModelReleases, options.ns,
                          release_object(options, "v0"));
  wait_settled("v0");

  Json rollouts = Json::array();
  std::vector<nanoseconds> switch_latency;
  std::vector<nanoseconds> switch_latency_loose;
  std::vector<nanoseconds> rollout_time;
  std::vector<nanoseconds> step_latency;
  Json totals = {{"object_writes", 0.0}, {"deployment_writes", 0.0}, {"service_writes", 0.0},
                 {"status_writes", 0.0}, {"event_writes", 0.0},      {"conflicts_409", 0.0},
                 {"reconciles", 0.0}};
  for (int i = 1; i <= options.rollouts; ++i) {
    const std::string version = "v" + std::to_string(i);
    const auto before = scrape_metrics(options.metrics_address);
    const SteadyTime patched = std::chrono::steady_clock::now();
    session.client().patch(kube::resources::kModelReleases, options.ns, options.release,
                           kube::PatchType::Merge, {{"spec", {{"model", model_of(version)}}}});
    wait_settled(version);
    const SteadyTime settled = std::chrono::steady_clock::now();
    const auto after = scrape_metrics(options.metrics_address);

    Json entry = writes_of(before, after);
    std::lock_guard lock(seen.mutex());
    const auto revision = seen.revision_of(version);
    const RevisionSeen* revision_seen = revision ? seen.seen(*revision) : nullptr;
    const auto switched = revision ? seen.switched_to(*revision, patched) : std::nullopt;
    if (!revision_seen || !revision_seen->fully_available_at || !revision_seen->available_at ||
        !switched) {
      throw std::runtime_error("rollout to " + version + " settled without a recorded switch");
    }
    const nanoseconds latency = *switched - *revision_seen->fully_available_at;
    const nanoseconds loose = *switched - *revision_seen->available_at;
    switch_latency.push_back(latency);
    switch_latency_loose.push_back(loose);
    rollout_time.push_back(settled - patched);
    // Each setWeight step: its pods fully available -> recorded done (the
    // same reconcile writes the weight).
    const Json steps = options.canary_steps.is_array() ? options.canary_steps : Json::array();
    for (std::size_t k = 0; k < steps.size(); ++k) {
      if (!steps[k].contains("setWeight")) continue;
      const int pods = std::max(1, controllers::modelrelease::canary_replicas(
                                       steps[k]["setWeight"].get<double>(), options.replicas));
      // The last step done and the switch are one reconcile when the canary
      // already has every pod: status then never shows that step.
      auto done = seen.step_done(*revision, static_cast<long>(k) + 1, patched);
      if (!done && k + 1 == steps.size()) done = switched;
      const auto full = done ? seen.full_at(*revision, pods, *done) : std::nullopt;
      if (!done || !full || *full < patched) {
        throw std::runtime_error("rollout to " + version + ": step " + std::to_string(k + 1) +
                                 " was not seen done after its pods");
      }
      step_latency.push_back(*done - *full);
    }
    entry["version"] = version;
    entry["revision"] = *revision;
    entry["switch_latency_ms"] = std::chrono::duration<double, std::milli>(latency).count();
    entry["switch_latency_from_available_ms"] =
        std::chrono::duration<double, std::milli>(loose).count();
    entry["rollout_seconds"] = std::chrono::duration<double>(settled - patched).count();
    for (auto& [key, value] : totals.items())
      value = value.get<double>() + entry[key].get<double>();
    std::cerr << "cluster_bench: rollout " << i << " of " << options.rollouts << ": switch "
              << entry["switch_latency_ms"].get<double>() << " ms, "
              << entry["object_writes"].get<double>() << " object writes\n";
    rollouts.push_back(std::move(entry));
  }

  // Events leave the operator asynchronously, so the last rollout's may still
  // be on their way: the window starts once two scrapes 2 s apart show the
  // same request count (at most 30 s; a hot loop would never get there and is
  // then measured by the window itself).
  const auto requests_sent = [](const std::vector<MetricSample>& samples) {
    return metric_sum(samples, "rest_client_requests_total");
  };
  auto quiet_before = scrape_metrics(options.metrics_address);
  bool flushed = false;
  for (int round = 0; round < 15 && !flushed; ++round) {
    std::this_thread::sleep_for(std::chrono::seconds(2));
    auto again = scrape_metrics(options.metrics_address);
    flushed = requests_sent(again) == requests_sent(quiet_before);
    quiet_before = std::move(again);
  }
  // Nothing changes now: the operator must not write anything.
  long events_before = 0;
  {
    std::lock_guard lock(seen.mutex());
    events_before = seen.events();
  }
  std::this_thread::sleep_for(options.quiet);
  const auto quiet_after = scrape_metrics(options.metrics_address);
  Json quiet = writes_of(quiet_before, quiet_after);
  {
    std::lock_guard lock(seen.mutex());
    quiet["watch_events_seen"] = seen.events() - events_before;
  }
  quiet["seconds"] = std::chrono::duration<double>(options.quiet).count();
  quiet["requests_had_stopped_before"] = flushed;
  for (auto* informer : {&deployments, &services, &releases}) informer->stop();

  Json per_rollout = Json::object();
  for (const auto& [key, value] : totals.items()) {
    per_rollout[key] = value.get<double>() / options.rollouts;
  }
  return {{"namespace", options.ns},
          {"release", options.release},
          {"rollouts", options.rollouts},
          {"replicas", options.replicas},
          {"scale_down_delay_seconds", options.scale_down_delay},
          {"switch_latency_ms", summarize_ms(switch_latency)},
          {"switch_latency_from_available_ms", summarize_ms(switch_latency_loose)},
          {"canary_steps", options.canary_steps},
          {"step_latency_ms", step_latency.empty() ? Json() : summarize_ms(step_latency)},
          {"rollout_ms", summarize_ms(rollout_time)},
          {"totals", totals},
          {"per_rollout", per_rollout},
          {"quiet_window", quiet},
          {"each", rollouts}};
}

}  // namespace cd4ml::bench
