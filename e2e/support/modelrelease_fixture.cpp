#include "modelrelease_fixture.hpp"

#include "samples.hpp"

namespace cd4ml::e2e {

void ReleaseFixture::SetUp() {
  install_crds();
  op_ = std::make_unique<OperatorProcess>(
      OperatorProcess::Options{{"--namespace=" + ns_.name()}, {}, "operator"});
  op_->start();
  ASSERT_TRUE(op_->wait_ready());
}

void ReleaseFixture::TearDown() {
  if (watcher_) watcher_->stop();
}

Json ReleaseFixture::training_run(const std::string& name, double accuracy) const {
  return sample_training_run(ns_.name(), name,
                             R"({"metrics": {"accuracy": )" + std::to_string(accuracy) + "}}");
}

Json ReleaseFixture::release(const std::string& name, const std::string& run,
                             const Json& spec_patch) const {
  Json mr = sample_release(ns_.name(), name, training_run_ref(run));
  mr["spec"].merge_patch(spec_patch);
  return mr;
}

void ReleaseFixture::patch_release(const std::string& name, const Json& merge_patch) {
  kubectl_ok({"patch", "mr", name, "-n", ns_.name(), "--type=merge", "-p", merge_patch.dump()});
}

Json ReleaseFixture::wait_for_run(const std::string& name) {
  wait_until("TrainingRun " + name + " Succeeded", 90s, [&] {
    auto run = get_json("trainingrun", ns_.name(), name);
    return run && run->value("/status/phase"_json_pointer, std::string()) == "Succeeded";
  });
  return get_json("trainingrun", ns_.name(), name).value_or(Json::object());
}

Json ReleaseFixture::wait_until_release(const std::string& release, const std::string& what,
                                        const std::function<bool(const Json&)>& check,
                                        std::chrono::milliseconds deadline) {
  Json last;
  wait_until(
      "ModelRelease " + release + ": " + what, deadline,
      [&] {
        auto mr = get_json("modelrelease", ns_.name(), release);
        if (!mr) return false;
        last = *mr;
        return check(*mr);
      },
      [&] {
        const std::string log = op_ ? op_->log() : "";
        return last.dump(2) + "\noperator log tail:\n" +
               log.substr(log.size() > 4000 ? log.size() - 4000 : 0);
      });
  return last;
}

Json ReleaseFixture::wait_for_phase(const std::string& release, const std::string& phase,
                                    std::chrono::milliseconds deadline) {
  return wait_until_release(
      release, "phase " + phase,
      [&](const Json& mr) {
        return mr.value("/status/phase"_json_pointer, std::string()) == phase &&
               mr.value("/status/observedGeneration"_json_pointer, 0L) ==
                   mr.value("/metadata/generation"_json_pointer, -1L);
      },
      deadline);
}

bool ReleaseFixture::has_release_event(const std::string& release, const std::string& reason) {
  bool found = false;
  wait_until("Event " + reason + " on " + release, 30s, [&] {
    for (const auto& e : list_json("events", ns_.name())) {
      if (e["involvedObject"].value("kind", "") == "ModelRelease" &&
          e["involvedObject"].value("name", "") == release && e.value("reason", "") == reason) {
        found = true;
      }
    }
    return found;
  });
  return found;
}

const Json* ReleaseFixture::condition(const Json& object, const std::string& type) {
  if (!object.contains("status") || !object["status"].contains("conditions")) return nullptr;
  for (const auto& c : object["status"]["conditions"]) {
    if (c.value("type", "") == type) return &c;
  }
  return nullptr;
}

void ReleaseFixture::watch(const std::string& release, int replicas) {
  watcher_ = std::make_unique<InvariantWatcher>(ns_.name(), release, replicas);
  wait_until("the invariant watcher's first check", 30s, [&] { return watcher_->checks() > 0; });
}

void ReleaseFixture::expect_no_violations() {
  ASSERT_TRUE(watcher_);
  watcher_->stop();
  EXPECT_GT(watcher_->checks(), 0);
  for (const auto& v : watcher_->violations()) ADD_FAILURE() << "traffic safety: " << v;
}

}  // namespace cd4ml::e2e
