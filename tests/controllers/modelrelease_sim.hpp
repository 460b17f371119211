#pragma once
// A tiny in-memory stand-in for what the API server and the workload
// controllers do to a release's objects, so sequences of plan() calls can be
// tested without HTTP: each step plans on the current state, applies the
// plan's writes, and checks the traffic safety rules on the result. The real
// control plane checks the same rules in e2e/tests/modelrelease_*.

#include <gtest/gtest.h>

#include <map>
#include <string>

#include "operator/api/conditions.hpp"
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

  Observed observe() const {
    Observed o;
    o.release = release;
    o.training_run = run;
    for (const auto& [name, d] : deployments) o.deployments.push_back(d);
    const auto bg =
        release["spec"].value("strategy", Json::object()).value("blueGreen", Json::object());
    const std::string name = release["metadata"]["name"];
    if (auto it = services.find(bg.value("activeService", name)); it != services.end()) {
      o.active_service = it->second;
    }
    if (auto it = services.find(bg.value("previewService", name + "-preview"));
        it != services.end()) {
      o.preview_service = it->second;
    }
    for (const auto& [n, svc] : services) {
      if (svc["metadata"].contains("ownerReferences")) o.owned_services.push_back(svc);
    }
    o.create_failures = refuse;
    o.pods = pods;
    o.now = now;
    return o;
  }

  // Plans once, applies the writes in the executor's order, checks the rules.
  Plan step() {
    const std::string active_before = selected(release["metadata"]["name"]);
    Plan p = plan(observe());
    apply(p);
    check_traffic_rules(active_before);
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
        services.at(w.name)["spec"]["selector"]["cd4ml.io/revision"] = w.revision;
        if (w.ports) services.at(w.name)["spec"]["ports"] = *w.ports;
      }
      ++writes;
    }
    // Nothing a Service selects (after this plan's switches) loses its pods.
    const auto selected_anywhere = [this](const std::string& deployment_name) {
      const auto it = deployments.find(deployment_name);
      if (it == deployments.end()) return false;
      const std::string rev = revision_of(it->second);
      for (const auto& [n, svc] : services) {
        if (selected_revision(svc) == rev) return true;
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
  // active Service lands on a fully available revision; the preview Service
  // always selects a revision with a ready pod (or nothing).
  void check_traffic_rules(const std::string& active_before) const {
    const std::string name = release["metadata"]["name"];
    const int replicas = release["spec"].value("replicas", 1);
    if (auto it = services.find(name); it != services.end()) {
      const std::string rev = selected_revision(it->second);
      const Json* d = find(rev);
      if (rev != active_before) {
        EXPECT_TRUE(d != nullptr && fully_available(*d, replicas))
            << "active Service switched to revision " << rev << " which is not fully available";
      }
      // Tests that break the active pods on purpose turn this off.
      if (active_pods_expected) {
        EXPECT_TRUE(d != nullptr && has_ready_pod(*d))
            << "active Service selects revision " << rev << " which has no ready pod";
      }
    }
    if (auto it = services.find(name + "-preview"); it != services.end()) {
      const std::string rev = selected_revision(it->second);
      // Falling back to the active revision is always allowed: there is
      // nothing better to show.
      if (rev != kNoRevision && rev != selected(name)) {
        const Json* d = find(rev);
        EXPECT_TRUE(d != nullptr && has_ready_pod(*d))
            << "preview Service selects revision " << rev << " which has no ready pod";
      }
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

}  // namespace cd4ml::controllers::modelrelease::sim
