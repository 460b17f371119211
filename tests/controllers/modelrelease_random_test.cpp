// Random sequences of everything that can happen to a release - new models,
// pods coming up or crashing, time passing, promote/abort annotations, the
// operator losing a status write - with the traffic safety rules checked
// after every step (modelrelease_sim.hpp). Seeds are fixed: a failure
// reproduces exactly, and its seed and step are in the message.

#include <gtest/gtest.h>

#include <random>

#include "modelrelease_sim.hpp"

namespace cd4ml::controllers::modelrelease {
namespace {

using sim::Cluster;

TEST(ModelReleaseRandomSequences, TrafficRulesHoldThroughout) {
  const std::vector<std::string> versions = {"aaa", "bbb", "ccc", "ddd"};
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
      switch (pick(8)) {
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
          // The operator is killed after its writes, before the status write.
          Plan p = plan(c.observe());
          p.status.reset();
          c.apply(p);
          break;
        }
        default: break;
      }
      c.step();
      if (testing::Test::HasFailure()) return;
    }
  }
}

}  // namespace
}  // namespace cd4ml::controllers::modelrelease
