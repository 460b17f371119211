#pragma once
// What the live analysis tests share: a Prometheus scripted by revision and
// a release with a candidate up beside an analysed active revision.

#include <chrono>
#include <map>
#include <memory>
#include <regex>
#include <string>

#include "modelrelease_sim.hpp"
#include "operator/kube/prometheus.hpp"

namespace cd4ml::controllers::modelrelease::sim {

inline kube::PromResult value_of(double v) {
  kube::PromResult r;
  r.ok = true;
  r.samples.push_back({{}, v});
  return r;
}
inline kube::PromResult no_data() {
  kube::PromResult r;
  r.ok = true;
  return r;
}
inline kube::PromResult refused(const std::string& why) {
  kube::PromResult r;
  r.error = why;
  return r;
}

// Answers `accuracy{revision="<r>"}` with accuracy[r]; a revision without
// one has no data; `down` makes every query fail as an unreachable server.
struct ScriptedPrometheus : kube::PromQuerier {
  std::map<std::string, double> accuracy;
  bool down = false;
  int queries = 0;
  // The instant each revision was last asked about.
  std::map<std::string, std::chrono::system_clock::time_point> asked_at;

  kube::PromResult query(const kube::PromEndpoint& endpoint, const std::string& promql,
                         std::chrono::system_clock::time_point at) override {
    ++queries;
    if (down) return refused("Prometheus at " + endpoint.address + " is unreachable: refused");
    static const std::regex kRevision(R"(revision="([^"]*)\")");
    std::smatch match;
    if (!std::regex_search(promql, match, kRevision)) return refused("bad_data: no revision");
    asked_at[match[1].str()] = at;
    const auto it = accuracy.find(match[1].str());
    return it == accuracy.end() ? no_data() : value_of(it->second);
  }
};

inline const Json kAnalysis = Json::parse(R"({
  "interval": "30s",
  "metrics": [{"name": "live-accuracy", "query": "accuracy{revision=\"{{revision}}\"}",
               "compareToActive": "NoWorse", "tolerance": 0.01, "count": 3}]
})");

struct Analysed {
  Cluster c;
  std::shared_ptr<ScriptedPrometheus> prom = std::make_shared<ScriptedPrometheus>();
  std::string a;
  std::string b;

  // Candidate "bbb" up in preview (or at its first canary step), a measured.
  explicit Analysed(const Json& strategy, const Json& analysis = kAnalysis) {
    c.release["spec"]["strategy"] = strategy;
    c.release["spec"]["analysis"] = analysis;
    c.prometheus = prom;
    a = first_release(c);
    b = revision_for(c, "bbb");
    c.set_model("bbb", 0.95);
    c.step();
    c.pods_up(b);
  }
  // One interval later, planned.
  Plan tick() {
    c.now += std::chrono::seconds(30);
    return c.step();
  }
  Json analysis() const { return c.status().value("analysis", Json()); }
};

inline const Json kBlueGreen = {{"blueGreen", {{"scaleDownDelaySeconds", 30}}}};

inline const Json kCanary = Json::parse(R"({"canary": {"scaleDownDelaySeconds": 30, "steps": [
  {"setWeight": 25}, {"analysis": {}}, {"setWeight": 50}, {"pause": {"duration": "1m"}}]}})");

}  // namespace cd4ml::controllers::modelrelease::sim
