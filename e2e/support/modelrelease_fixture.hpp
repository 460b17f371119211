#pragma once
// Shared set-up for ModelRelease end-to-end tests: a namespace, an operator
// scoped to it, TrainingRuns that finish with given metrics (kwok fakes the
// trainer), releases, and waits on their status.

#include <gtest/gtest.h>

#include "cluster.hpp"
#include "invariant_watcher.hpp"
#include "operator_process.hpp"

namespace cd4ml::e2e {

class ReleaseFixture : public testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;

  // A TrainingRun whose fake trainer reports this accuracy.
  Json training_run(const std::string& name, double accuracy) const;
  // A ModelRelease serving the given TrainingRun with 2 replicas.
  Json release(const std::string& name, const std::string& run,
               const Json& spec_patch = Json::object()) const;
  void patch_release(const std::string& name, const Json& merge_patch);

  Json wait_for_run(const std::string& name);
  Json wait_for_phase(const std::string& release, const std::string& phase,
                      std::chrono::milliseconds deadline = 90s);
  Json wait_until_release(const std::string& release, const std::string& what,
                          const std::function<bool(const Json&)>& check,
                          std::chrono::milliseconds deadline = 90s);
  bool has_release_event(const std::string& release, const std::string& reason);
  static const Json* condition(const Json& object, const std::string& type);

  // Starts the invariant watcher on `release` and returns once it has made its
  // first check; tests call it before applying anything, so that no Service
  // change escapes it.
  void watch(const std::string& release, int replicas);
  void expect_no_violations();

  TestNamespace ns_;
  std::unique_ptr<OperatorProcess> op_;
  std::unique_ptr<InvariantWatcher> watcher_;
};

}  // namespace cd4ml::e2e
