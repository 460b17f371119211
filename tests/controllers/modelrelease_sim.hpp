#pragma once
// A tiny in-memory stand-in for what the API server and the workload
// controllers do to a release's objects, so sequences of plan() calls can be
// tested without HTTP: each step plans on the current state, applies the
// plan's writes, and checks the traffic safety rules on the result. The real
// control plane checks the same rules in e2e/tests/modelrelease_*.

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <string>

#include "operator/api/conditions.hpp"
#include "operator/controllers/modelrelease/analysis_queries.hpp"
#include "operator/controllers/modelrelease/canary.hpp"
#include "operator/controllers/modelrelease/plan.hpp"
#include "operator/controllers/modelrelease/workloads.hpp"

namespace cd4ml::controllers::modelrelease::sim {

using std::chrono::seconds;
using std::chrono::system_clock;

inline Json make_release(const Json& spec_patch = Json::object()) {
  Json release = Json::parse(R"({
    "apiVersion": "cd4ml.io/v1alpha1", "kind": "ModelRelease",
    "metadata": {"name": "churn", "namespace": "ml", "uid": "uid-release", "generation": 1},
    "spec": {
      "model": {"uri": "s3://models/churn/aaa", "version": "aaa", "metrics": {"accuracy": 0.9}},
      "template": {"spec": {"containers": [{"name": "server", "image": "serve:1",
                                            "ports": [{"containerPort": 8080}]}]}},
      "replicas": 2,
      "strategy": {"blueGreen": {"scaleDownDelaySeconds": 30}},
      "progressDeadlineSeconds": 120,
      "revisionHistoryLimit": 2
    }
  })");
  release["spec"].merge_patch(spec_patch);
  return release;
}

inline Json training_run(const std::string& name, const std::string& version, double accuracy,
                         const std::string& phase = "Succeeded") {
  return {{"apiVersion", "cd4ml.io/v1alpha1"},
          {"kind", "TrainingRun"},
          {"metadata", {{"name", name}, {"namespace", "ml"}}},
          {"spec",
           {{"model", "churn"},
            {"code", {{"repository", "https://git.example/ml"}, {"revision", "c0ffee"}}},
            {"data", {{"uri", "s3://data/churn"}}},
            {"params", {{"depth", "6"}}}}},
          {"status",
           {{"phase", phase},
            {"modelVersion", version},
            {"modelURI", "s3://models/churn/" + version},
            {"metrics", {{"accuracy", accuracy}}}}}};
}

// A user's HTTPRoute in front of a routed canary: an admin rule to another
// Service with a filter, then the rule that splits between the stable and
// the canary Service (no weight on the stable one: the Gateway API's 1).
inline Json make_route(const std::string& name, const std::string& stable,
                       const std::string& canary) {
  Json route = Json::parse(R"({
    "apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute",
    "metadata": {"namespace": "ml", "resourceVersion": "1"},
    "spec": {"parentRefs": [{"name": "gateway"}], "rules": [
      {"matches": [{"path": {"type": "PathPrefix", "value": "/admin"}}],
       "filters": [{"type": "RequestHeaderModifier",
                    "requestHeaderModifier": {"add": [{"name": "x-admin", "value": "1"}]}}],
       "backendRefs": [{"name": "admin", "port": 80}]},
      {"matches": [{"path": {"type": "PathPrefix", "value": "/"}}],
       "backendRefs": [{"name": "STABLE", "port": 80}, {"name": "CANARY", "port": 80, "weight": 0}]}
    ]}
  })");
  route["metadata"]["name"] = name;
  route["spec"]["rules"][1]["backendRefs"][0]["name"] = stable;
  route["spec"]["rules"][1]["backendRefs"][1]["name"] = canary;
  return route;
}

// The canary's share of the first rule that names both Services, percent
// (-1: no such rule). Read here on its own terms, not with the operator's code.
inline double route_share(const Json& route, const std::string& stable, const std::string& canary) {
  for (const auto& rule : route["spec"]["rules"]) {
    double s = -1;
    double c = -1;
    for (const auto& ref : rule.value("backendRefs", Json::array())) {
      const double w = ref.value("weight", 1.0);
      if (ref["name"] == stable && s < 0) s = w;
      if (ref["name"] == canary && c < 0) c = w;
    }
    if (s >= 0 && c >= 0) return s + c > 0 ? 100 * c / (s + c) : 0;
  }
  return -1;
}

struct Cluster {
  Json release = make_release();
  std::optional<Json> run;
  std::map<std::string, Json> deployments;  // by name
  std::map<std::string, Json> services;     // by name
  system_clock::time_point now = system_clock::from_time_t(1'900'000'000);
  long next_uid = 1;
  std::size_t writes = 0;  // object writes (not status), over the whole sequence
  bool active_pods_expected = true;
  // Deployment creates the "API server" refuses, by revision.
  std::map<std::string, CreateFailure> refuse;
  std::vector<EventSpec> events;
  std::vector<Json> pods;  // only what a test puts here: the kubelet's view of them
  // A routed canary's HTTPRoute (none: not found, or unreadable when
  // route_error says so); route_writes counts the operator's writes to it.
  std::optional<Json> route;
  std::string route_error;
  int route_writes = 0;
  // Answers live analysis queries when set; measurement_rounds counts the
  // reconciles that measured.
  std::shared_ptr<kube::PromQuerier> prometheus;
  int measurement_rounds = 0;

  Observed observe() const {
    Observed o;
    o.release = release;
    o.training_run = run;
    for (const auto& [name, d] : deployments) o.deployments.push_back(d);
    if (auto it = services.find(active_service()); it != services.end()) {
      o.active_service = it->second;
    }
    if (auto it = services.find(preview_service()); it != services.end()) {
      o.preview_service = it->second;
    }
    for (const auto& [n, svc] : services) {
      if (svc["metadata"].contains("ownerReferences")) o.owned_services.push_back(svc);
    }
    if (routed()) {
      if (auto it = services.find(stable_service()); it != services.end()) {
        o.stable_service = it->second;
      }
      o.http_route = route;
      o.http_route_error = route_error;
    }
    o.create_failures = refuse;
    o.pods = pods;
    o.now = now;
    return o;
  }

  bool canary() const { return strategy().contains("canary"); }
  Json strategy() const { return release["spec"].value("strategy", Json::object()); }
  std::string active_service() const {
    const std::string name = release["metadata"]["name"];
    const Json s = strategy().value(canary() ? "canary" : "blueGreen", Json::object());
    return s.value("activeService", name);
  }
  bool routed() const {
    return canary() &&
           strategy()["canary"].contains("/trafficRouting/gatewayAPI/httpRoute"_json_pointer);
  }
  std::string stable_service() const {
    const std::string name = release["metadata"]["name"];
    return strategy()["canary"].value("stableService", name + "-stable");
  }
  // The canary's share the route carries now (0 when there is none).
  double route_weight() const {
    return route ? std::max(0.0, route_share(*route, stable_service(), preview_service())) : 0;
  }
  // The preview Service, or a canary's own.
  std::string preview_service() const {
    const std::string name = release["metadata"]["name"];
    if (canary()) return strategy()["canary"].value("canaryService", name + "-canary");
    return strategy().value("blueGreen", Json::object()).value("previewService", name + "-preview");
  }

  // Plans once, applies the writes in the executor's order, checks the rules.
  Plan step() {
    const std::string active_before = selected(release["metadata"]["name"]);
    const std::string live_before = status().value("activeRevision", std::string());
    Observed o = observe();
    Plan p = plan(o);
    // As the reconciler does: measure what the plan asks for, plan again.
    if (p.analysis_due && prometheus) {
      const api::ReleaseSpec spec = api::parse_release_spec(release);
      o.measurements = take_measurements({prometheus, "http://prometheus.test:9090", nullptr},
                                         *spec.analysis, {}, *p.analysis_due, {"churn", "ml"}, now);
      o.measured_revision = p.analysis_due->revision;
      o.measured_stage = p.analysis_due->stage;
      ++measurement_rounds;
      p = plan(o);
      EXPECT_FALSE(p.analysis_due) << "asked to measure again right after measuring";
    }
    apply(p);
    check_traffic_rules(active_before, live_before);
    return p;
  }

  // Steps until the plan is empty (bounded); returns how many steps wrote.
  int settle(int max_steps = 10) {
    for (int i = 0; i < max_steps; ++i) {
      Plan p = step();
      if (p.object_writes() == 0 && !p.status) return i;
    }
    ADD_FAILURE() << "release did not settle in " << max_steps << " steps";
    return max_steps;
  }

  void apply(const Plan& p) {
    const bool share_ok_before = routed_share_problem().empty();
    for (const auto& d : p.create_deployments) {
      Json created = d;
      created["metadata"]["uid"] = "uid-" + std::to_string(next_uid++);
      created["metadata"]["generation"] = 1;
      created["metadata"]["creationTimestamp"] = api::rfc3339(now);
      created["status"] = Json::object();
      EXPECT_EQ(deployments.count(created["metadata"]["name"]), 0u) << "duplicate Deployment";
      deployments[created["metadata"]["name"]] = created;
      ++writes;
    }
    const auto do_scale = [this](const Scale& s) {
      Json& d = deployments.at(s.deployment);
      d["spec"]["replicas"] = s.replicas;
      d["metadata"]["generation"] = d["metadata"]["generation"].get<long>() + 1;
      ++writes;
    };
    for (const auto& s : p.scale_up) do_scale(s);
    for (const auto& w : p.services) {
      if (w.create) {
        EXPECT_EQ(services.count(w.name), 0u);
        services[w.name] = *w.create;
      } else {
        Json& selector = services.at(w.name)["spec"]["selector"];
        if (w.revision == kEveryRevision) {
          selector.erase("cd4ml.io/revision");
        } else {
          selector["cd4ml.io/revision"] = w.revision;
        }
        if (w.ports) services.at(w.name)["spec"]["ports"] = *w.ports;
      }
      ++writes;
    }
    if (p.route) {
      // Between the Service writes and this one the route still carries
      // its old share: the canary Service must already be able to take it.
      // (When it could before this plan: a pod that just failed, or a
      // share someone else wrote, is what this plan repairs.)
      if (share_ok_before) {
        EXPECT_EQ(routed_share_problem(), "") << "before the route write";
      }
      ASSERT_TRUE(route.has_value()) << "a write to a route that does not exist";
      EXPECT_EQ((*route)["metadata"]["name"], p.route->name);
      EXPECT_EQ((*route)["metadata"]["resourceVersion"], p.route->resource_version)
          << "weights computed from another version of the route";
      (*route)["spec"]["rules"] = p.route->rules;
      (*route)["metadata"]["resourceVersion"] =
          std::to_string(std::stol((*route)["metadata"]["resourceVersion"].get<std::string>()) + 1);
      ++route_writes;
      ++writes;
    }
    // Nothing a Service selects (after this plan's switches) loses its pods.
    const auto selected_anywhere = [this](const std::string& deployment_name) {
      const auto it = deployments.find(deployment_name);
      if (it == deployments.end()) return false;
      const std::string rev = revision_of(it->second);
      for (const auto& [n, svc] : services) {
        if (selected_revision(svc) == rev || selected_revision(svc) == kEveryRevision) return true;
      }
      return false;
    };
    for (const auto& s : p.scale_down) {
      EXPECT_FALSE(s.replicas == 0 && selected_anywhere(s.deployment))
          << "scaled " << s.deployment << " to 0 while a Service selects it";
      do_scale(s);
    }
    for (const auto& name : p.delete_deployments) {
      EXPECT_FALSE(selected_anywhere(name)) << "deleted " << name << " while a Service selects it";
      EXPECT_EQ(deployments.erase(name), 1u);
      ++writes;
    }
    for (const auto& name : p.delete_services) {
      EXPECT_EQ(services.erase(name), 1u);
      ++writes;
    }
    if (p.status) release["status"] = *p.status;
    events.insert(events.end(), p.events.begin(), p.events.end());
  }

  // What the Deployment controller + kubelets do: pods come up. `ready` pods
  // of the desired count become ready; all of them when ready < 0.
  void pods_up(const std::string& revision, int ready = -1) {
    Json& d = deployment(revision);
    const int want = d["spec"]["replicas"];
    const int n = ready < 0 ? want : std::min(ready, want);
    d["status"] = {{"observedGeneration", d["metadata"]["generation"]},
                   {"replicas", want},
                   {"updatedReplicas", want},
                   {"readyReplicas", n},
                   {"availableReplicas", n}};
  }
  void all_pods_up() {
    for (auto& [name, d] : deployments) pods_up(revision_of(d));
  }

  Json& deployment(const std::string& revision) {
    for (auto& [name, d] : deployments) {
      if (revision_of(d) == revision) return d;
    }
    throw std::runtime_error("no Deployment for revision " + revision);
  }
  bool has_deployment(const std::string& revision) const {
    for (const auto& [name, d] : deployments) {
      if (revision_of(d) == revision) return true;
    }
    return false;
  }
  std::string selected(const std::string& service) const {
    auto it = services.find(service);
    return it == services.end() ? "" : selected_revision(it->second);
  }
  const Json& status() const {
    static const Json kNone = Json::object();
    auto it = release.find("status");
    return it == release.end() ? kNone : *it;
  }
  std::string phase() const { return release.value("/status/phase"_json_pointer, std::string()); }
  std::string condition(const char* type, const char* field = "status") const {
    if (!release.contains("status") || !release["status"].contains("conditions")) return "";
    const Json* c = api::find_condition(release["status"]["conditions"], type);
    return c ? c->value(field, "") : "";
  }
  int replicas(const std::string& revision) { return deployment(revision)["spec"]["replicas"]; }
  bool has_event(const std::string& reason) const { return count_events(reason) > 0; }
  int count_events(const std::string& reason) const {
    int n = 0;
    for (const auto& e : events) n += e.reason == reason ? 1 : 0;
    return n;
  }
  const EventSpec* last_event(const std::string& reason) const {
    for (auto it = events.rbegin(); it != events.rend(); ++it) {
      if (it->reason == reason) return &*it;
    }
    return nullptr;
  }
  // A pod of `revision` whose container `server` waits for `reason`, as the
  // kubelet reports one it cannot start.
  void add_waiting_pod(const std::string& revision, const std::string& name,
                       const std::string& reason, const std::string& message) {
    pods.push_back(
        {{"metadata",
          {{"name", name},
           {"namespace", "ml"},
           {"labels", {{"cd4ml.io/release", "churn"}, {"cd4ml.io/revision", revision}}}}},
         {"status",
          {{"phase", "Pending"},
           {"containerStatuses",
            Json::array(
                {{{"name", "server"},
                  {"ready", false},
                  {"state", {{"waiting", {{"reason", reason}, {"message", message}}}}}}})}}}});
  }
  void advance(std::chrono::milliseconds d) { now += d; }
  void set_model(const std::string& version, double accuracy) {
    release["spec"]["model"] = {{"uri", "s3://models/churn/" + version},
                                {"version", version},
                                {"metrics", {{"accuracy", accuracy}}}};
    release["metadata"]["generation"] = release["metadata"]["generation"].get<long>() + 1;
  }
  void annotate(const std::string& key, const std::string& value) {
    release["metadata"]["annotations"][key] = value;
  }

  // Safety rules 1 and 2 on the state after every step: a switch of the
  // active Service lands on a fully available revision (narrowing a shared
  // one to the live revision is not a switch); the preview Service always
  // selects a revision with a ready pod (or nothing).
  void check_traffic_rules(const std::string& active_before, const std::string& live_before) const {
    const std::string name = release["metadata"]["name"];
    const int replicas = release["spec"].value("replicas", 1);
    const auto active = services.find(name);
    if (active != services.end() && selected_revision(active->second) == kEveryRevision) {
      check_shared_selection();
    } else if (active != services.end()) {
      const std::string rev = selected_revision(active->second);
      const Json* d = find(rev);
      const bool narrowed = active_before == kEveryRevision && rev == live_before;
      if (rev != active_before && !narrowed) {
        EXPECT_TRUE(d != nullptr && fully_available(*d, replicas))
            << "active Service switched to revision " << rev << " which is not fully available";
      }
      // Tests that break the active pods on purpose turn this off.
      if (active_pods_expected) {
        EXPECT_TRUE(d != nullptr && has_ready_pod(*d))
            << "active Service selects revision " << rev << " which has no ready pod";
      }
    }
    if (routed()) check_route();
    if (auto it = services.find(preview_service()); it != services.end()) {
      const std::string rev = selected_revision(it->second);
      // Falling back to the active revision is always allowed: there is
      // nothing better to show.
      if (rev != kNoRevision && rev != selected(name) &&
          rev != status().value("activeRevision", std::string())) {
        const Json* d = find(rev);
        EXPECT_TRUE(d != nullptr && has_ready_pod(*d))
            << "preview Service selects revision " << rev << " which has no ready pod";
      }
    }
  }

  // An active Service shared by a canary: behind it, only the active
  // revision and the canary have pods, and the canary no more than its
  // current step's weight asks for (at least one pod).
  void check_shared_selection() const {
    const Json canary_status = status().value("canary", Json::object());
    const std::string canary_rev = canary_status.value("revision", "");
    const std::string active_rev = status().value("activeRevision", "");
    ASSERT_FALSE(canary_rev.empty()) << "a shared active Service with no canary in status";
    for (const auto& [n, d] : deployments) {
      const std::string rev = revision_of(d);
      if (rev == canary_rev || rev == active_rev) continue;
      EXPECT_FALSE(has_pods(d)) << "revision " << rev << " has pods behind the shared Service";
    }
    const std::size_t step = canary_status.value("step", std::size_t{0});
    double weight = 0;
    const Json steps = strategy()["canary"].value("steps", Json::array());
    for (std::size_t i = 0; i < steps.size() && i <= step; ++i) {
      if (steps[i].contains("setWeight")) weight = steps[i]["setWeight"].get<double>();
    }
    const int replicas = release["spec"].value("replicas", 1);
    const Json* d = find(canary_rev);
    ASSERT_NE(d, nullptr);
    EXPECT_GT(weight, 0) << "the canary shares traffic at step " << step << " with no weight";
    EXPECT_LE(available_replicas(*d), std::max(1, canary_replicas(weight, replicas)))
        << "the canary carries more than step " << step << " asks for";
  }

  // A share on the route reaches the revision the canary Service selects:
  // the canary with enough available pods for it, or the live revision.
  std::string routed_share_problem() const {
    const double weight = route_weight();
    if (weight <= 0) return "";
    const std::string rev = selected(preview_service());
    const Json* d = find(rev);
    const std::string share = std::to_string(weight) + "% of the traffic";
    if (d == nullptr) return share + " to a canary Service with no revision";
    if (rev == selected(stable_service())) return "";
    const int needed = canary_pods(weight, release["spec"].value("replicas", 1), WeightBy::Route);
    if (available_replicas(*d) >= needed) return "";
    return share + " to revision " + rev + " with " + std::to_string(available_replicas(*d)) +
           " available pods";
  }

  // A routed canary: the stable Service selects what the active one does;
  // the route carries exactly the share status.canary records, never more
  // than the step reached asks for.
  void check_route() const {
    if (services.count(stable_service()) != 0) {
      EXPECT_EQ(selected(stable_service()), selected(release["metadata"]["name"]))
          << "the stable and the active Service disagree";
    }
    EXPECT_EQ(routed_share_problem(), "") << "after the plan";
    if (!route || route_share(*route, stable_service(), preview_service()) < 0) return;
    const Json canary_status = status().value("canary", Json::object());
    const double weight = route_weight();
    EXPECT_DOUBLE_EQ(weight, canary_status.value("weight", 0.0))
        << "the route and status.canary disagree";
    if (weight > 0) {
      const std::size_t step = canary_status.value("step", std::size_t{0});
      double asked = 0;
      const Json steps = strategy()["canary"].value("steps", Json::array());
      for (std::size_t i = 0; i < steps.size() && i <= step; ++i) {
        if (steps[i].contains("setWeight")) asked = steps[i]["setWeight"].get<double>();
      }
      EXPECT_LE(weight, asked) << "the route carries more than step " << step << " asks for";
    }
  }

  const Json* find(const std::string& revision) const {
    for (const auto& [n, d] : deployments) {
      if (revision_of(d) == revision) return &d;
    }
    return nullptr;
  }
};

inline std::string revision_for(const Cluster& c, const std::string& version) {
  const Json& t = c.release["spec"]["template"];
  return api::revision_id(version, "s3://models/churn/" + version, t);
}

// Healthy on model "aaa" (all pods up); returns its revision.
inline std::string first_release(Cluster& c) {
  c.step();
  c.all_pods_up();
  c.settle();
  EXPECT_EQ(c.phase(), "Healthy");
  return revision_for(c, "aaa");
}

// Model "bbb" as the candidate, created and planned once; returns its revision.
inline std::string start_canary(Cluster& c) {
  c.set_model("bbb", 0.95);
  c.step();
  return revision_for(c, "bbb");
}

inline Json canary_status(const Cluster& c) {
  return c.status().value("canary", Json());
}

}  // namespace cd4ml::controllers::modelrelease::sim
