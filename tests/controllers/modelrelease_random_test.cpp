// Random sequences of everything that can happen to a release - new models,
// pods coming up or crashing, time passing, promote/abort annotations, the
// operator losing a status write - with the traffic safety rules checked
// after every step (modelrelease_sim.hpp). Seeds are fixed: a failure
// reproduces exactly, and its seed and step are in the message.

#include <gtest/gtest.h>

#include <functional>
#include <random>

#include "analysis_fixture.hpp"
#include "modelrelease_sim.hpp"
#include "operator/controllers/modelrelease/workloads.hpp"

namespace cd4ml::controllers::modelrelease {
namespace {

using sim::Cluster;
using Pick = std::function<int(int)>;

// One random thing happening to a release (`what` 0-5; anything else:
// nothing): a new model, pods coming up (some of them, or none), time
// passing, a promote or abort annotation, the operator killed after its
// writes and before its status write.
void happen(Cluster& c, int what, const Pick& pick) {
  static const std::vector<std::string> versions = {"aaa", "bbb", "ccc", "ddd"};
  switch (what) {
    case 0:
      c.set_model(versions[static_cast<std::size_t>(pick(4))], pick(5) == 0 ? 0.4 : 0.9);
      break;
    case 1:
    case 2:
      for (const auto& [name, d] : c.deployments) {
        if (pick(2) == 0) c.pods_up(revision_of(d), pick(4) == 0 ? pick(3) : -1);
      }
      break;
    case 3: c.advance(std::chrono::seconds(pick(90))); break;
    case 4: {
      const std::string target = c.status().value("targetRevision", std::string());
      c.annotate(pick(4) == 0 ? "cd4ml.io/abort" : "cd4ml.io/promote", target);
      break;
    }
    case 5: {
      Plan p = plan(c.observe());
      p.status.reset();
      c.apply(p);
      break;
    }
    default: break;
  }
}

TEST(ModelReleaseRandomSequences, TrafficRulesHoldThroughout) {
  for (unsigned seed = 1; seed <= 300; ++seed) {
    std::mt19937 rng(seed);
    const auto pick = [&rng](int n) { return static_cast<int>(rng() % static_cast<unsigned>(n)); };
    Cluster c;
    c.active_pods_expected = false;  // the sequence crashes active pods too
    c.release["spec"]["gates"] = Json::parse(R"([{"metric": "accuracy", "min": 0.5}])");
    if (pick(2) == 0) c.release["spec"]["strategy"]["blueGreen"]["autoPromotion"] = false;
    c.release["spec"]["strategy"]["blueGreen"]["previewReplicas"] = 1 + pick(2);
    c.release["spec"]["revisionHistoryLimit"] = pick(3);
    for (int step = 0; step < 60; ++step) {
      SCOPED_TRACE("seed " + std::to_string(seed) + " step " + std::to_string(step));
      happen(c, pick(8), pick);
      c.step();
      if (testing::Test::HasFailure()) return;
    }
  }
}

// The same for canary releases with random steps: besides the rules every
// step checks (a shared active Service has only the live revision's and the
// canary's pods behind it, the canary no more than its step asks for), a
// canary's step never goes back while status is written, whatever happens.
TEST(ModelReleaseRandomSequences, CanaryRulesHoldThroughout) {
  const std::vector<Json> step_kinds = {
      Json::parse(R"({"setWeight": 5})"),  Json::parse(R"({"setWeight": 20})"),
      Json::parse(R"({"setWeight": 50})"), Json::parse(R"({"setWeight": 0.5})"),
      Json::parse(R"({"pause": {}})"),     Json::parse(R"({"pause": {"duration": "45s"}})")};
  for (unsigned seed = 1; seed <= 300; ++seed) {
    std::mt19937 rng(seed);
    const auto pick = [&rng](int n) { return static_cast<int>(rng() % static_cast<unsigned>(n)); };
    Cluster c;
    c.active_pods_expected = false;
    c.release["spec"]["replicas"] = 1 + pick(4);
    c.release["spec"]["gates"] = Json::parse(R"([{"metric": "accuracy", "min": 0.5}])");
    Json steps = Json::array();
    for (int i = pick(5); i > 0; --i) {
      steps.push_back(
          step_kinds[static_cast<std::size_t>(pick(static_cast<int>(step_kinds.size())))]);
    }
    c.release["spec"]["strategy"] = {
        {"canary", {{"steps", steps}, {"scaleDownDelaySeconds", pick(2) * 30}}}};
    // Half the seeds route by an HTTPRoute, which the sequence also edits
    // and deletes.
    const bool routed = pick(2) == 0;
    if (routed) {
      c.release["spec"]["strategy"]["canary"]["trafficRouting"] = {
          {"gatewayAPI", {{"httpRoute", "web"}}}};
      c.route = sim::make_route("web", "churn-stable", "churn-canary");
    }
    c.release["spec"]["revisionHistoryLimit"] = pick(3);
    std::string canary;
    std::size_t step_reached = 0;
    for (int step = 0; step < 80; ++step) {
      SCOPED_TRACE("seed " + std::to_string(seed) + " step " + std::to_string(step) + " steps " +
                   steps.dump());
      const int what = pick(8);
      if (what == 6 && routed) {
        if (pick(3) == 0) {
          c.route.reset();
        } else {
          // Recreated, or edited by hand, with a share of its own.
          c.route = sim::make_route("web", "churn-stable", "churn-canary");
          (*c.route)["spec"]["rules"][1]["backendRefs"][1]["weight"] = pick(3);
          (*c.route)["metadata"]["resourceVersion"] = std::to_string(1000 + step);
        }
      } else {
        happen(c, what, pick);
      }
      c.step();
      const Json status = c.status().value("canary", Json::object());
      const std::string revision = status.value("revision", "");
      const std::size_t at = status.value("step", std::size_t{0});
      if (!revision.empty() && revision == canary) {
        EXPECT_GE(at, step_reached) << "the canary's step went back";
      }
      canary = revision;
      step_reached = at;
      if (testing::Test::HasFailure()) return;
    }
  }
}

// With live analysis before and after promotion, and Prometheus answering
// at random (better, worse, no data, down): besides the rules every step
// checks, the revision a post-promotion window may go back to is never
// scaled to 0 while the window keeps it (unless spec asks for it again), and a revision whose
// post-promotion analysis failed does not keep the traffic once the one it
// replaced is available.
TEST(ModelReleaseRandomSequences, AnalysisRulesHoldThroughout) {
  for (unsigned seed = 1; seed <= 200; ++seed) {
    std::mt19937 rng(seed);
    const auto pick = [&rng](int n) { return static_cast<int>(rng() % static_cast<unsigned>(n)); };
    Cluster c;
    c.active_pods_expected = false;
    auto prom = std::make_shared<sim::ScriptedPrometheus>();
    c.prometheus = prom;
    c.release["spec"]["analysis"] = Json::parse(R"({"interval": "30s",
      "postPromotion": {"duration": "3m"},
      "metrics": [{"name": "live-accuracy", "query": "accuracy{revision=\"{{revision}}\"}",
                   "compareToActive": "NoWorse", "tolerance": 0.01}]})");
    c.release["spec"]["analysis"]["metrics"][0]["failureLimit"] = pick(2);
    if (pick(2) == 0) {
      c.release["spec"]["strategy"] = {
          {"canary",
           {{"steps", Json::parse(R"([{"setWeight": 25}, {"analysis": {}}])")},
            {"scaleDownDelaySeconds", pick(2) * 30}}}};
    } else {
      c.release["spec"]["strategy"] = {{"blueGreen", {{"scaleDownDelaySeconds", pick(2) * 30}}}};
    }
    c.release["spec"]["revisionHistoryLimit"] = pick(3);
    for (int step = 0; step < 80; ++step) {
      SCOPED_TRACE("seed " + std::to_string(seed) + " step " + std::to_string(step));
      const Json before = c.status().value("analysis", Json::object());
      const std::string asked_before = c.status().value("targetRevision", std::string());
      const int what = pick(9);
      if (what >= 6) {
        prom->down = pick(5) == 0;
        prom->accuracy.clear();
        for (const auto& [name, d] : c.deployments) {
          const int v = pick(4);
          if (v < 3) prom->accuracy[revision_of(d)] = std::vector<double>{0.7, 0.86, 0.9}[v];
        }
      } else {
        happen(c, what, pick);
      }
      c.step();
      const Json after = c.status().value("analysis", Json::object());
      const bool post = after.value("stage", "") == "PostPromotion";
      const std::string fallback = after.value("activeRevision", "");
      // Unless spec asks for it: then it is a candidate again, which the
      // user may abort.
      const bool asked_for = c.status().value("targetRevision", std::string()) == fallback;
      if (post && (!after.contains("endedAt") || after.value("phase", "") == "Failed") &&
          c.has_deployment(fallback) && !asked_for) {
        EXPECT_GT(c.replicas(fallback), 0) << "the revision to go back to was scaled down";
      }
      const bool failed_after_promotion =
          before.value("stage", "") == "PostPromotion" && before.value("phase", "") == "Failed";
      const std::string failed = before.value("revision", "");
      const std::string previous = before.value("activeRevision", "");
      if (failed_after_promotion && asked_before == failed &&
          c.status().value("targetRevision", std::string()) == failed &&
          c.has_deployment(previous) && c.selected("churn") == failed) {
        EXPECT_FALSE(
            fully_available(c.deployment(previous), c.release["spec"].value("replicas", 2)))
            << "still on " << failed << " while " << previous << " could take the traffic";
      }
      if (testing::Test::HasFailure()) return;
    }
  }
}

}  // namespace
}  // namespace cd4ml::controllers::modelrelease
