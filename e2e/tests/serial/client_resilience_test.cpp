// The client and runtime against the real API server when it misbehaves
// (issue 3): restarts mid-watch, 410 after compaction, update conflicts.
// These stop and restart kube-apiserver, so they run alone (RUN_SERIAL).

#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <mutex>

#include "cluster.hpp"
#include "informer_probe.hpp"
#include "kube_session.hpp"
#include "operator/runtime/controller.hpp"
#include "operator/runtime/informer.hpp"
#include "operator/util/clock.hpp"

namespace cd4ml::e2e {
namespace {

class ClientResilience : public testing::Test {
 protected:
  void SetUp() override {
    session_ = std::make_unique<KubeSession>();
    runtime::InformerOptions options;
    options.ns = ns_.name();
    options.observer = &observer_;
    informer_ = std::make_unique<runtime::Informer>(session_->transport(),
                                                    kube::resources::kConfigMaps, options);
  }
  void TearDown() override {
    informer_->stop();
    informer_.reset();
    session_.reset();
  }
  void start_and_sync() {
    informer_->start();
    ASSERT_TRUE(wait_until("informer synced", 30s, [&] { return informer_->has_synced(); }));
  }

  TestNamespace ns_;
  CountingObserver observer_;
  std::unique_ptr<KubeSession> session_;
  std::unique_ptr<runtime::Informer> informer_;
};

TEST_F(ClientResilience, CacheStaysCorrectAcrossAnApiserverRestart) {
  create_config_maps(ns_.name(), "before-", 30);
  start_and_sync();
  ASSERT_TRUE(cache_matches_server(*informer_, ns_.name()));
  const int restarts_before = observer_.restarts;

  cluster_ctl({"stop", "kube-apiserver"});
  cluster_ctl({"start", "kube-apiserver"});
  // Changes right after the restart, while the informer may still be backing off.
  create_config_maps(ns_.name(), "after-", 20);
  kubectl_ok({"delete", "configmap", "before-1", "before-2", "before-3", "-n", ns_.name()});
  for (int i = 10; i < 15; ++i) {
    apply_json(config_map(ns_.name(), "before-" + std::to_string(i), "changed"));
  }
  EXPECT_TRUE(cache_matches_server(*informer_, ns_.name()));
  EXPECT_GT(observer_.restarts, restarts_before) << "the watch must have been re-established";
  // And it keeps following changes afterwards.
  create_config_maps(ns_.name(), "later-", 5);
  EXPECT_TRUE(cache_matches_server(*informer_, ns_.name()));
}

TEST_F(ClientResilience, GoneAfterCompactionIsHandledByRelisting) {
  create_config_maps(ns_.name(), "a-", 10);
  start_and_sync();
  const int relists_before = observer_.relists;
  // Advance the revision where this informer does not look, compact etcd up
  // to it, and restart the API server (whose watch cache then starts there):
  // resuming from the informer's resourceVersion can only get 410 Gone.
  kubectl_ok({"create", "configmap", "elsewhere-" + ns_.name(), "-n", "default"});
  etcd_compact(etcd_revision());
  cluster_ctl({"restart", "kube-apiserver"});
  kubectl_ok({"delete", "configmap", "a-0", "-n", ns_.name()});
  create_config_maps(ns_.name(), "b-", 5);
  EXPECT_TRUE(cache_matches_server(*informer_, ns_.name()));
  EXPECT_TRUE(
      wait_until("a relist after 410", 30s, [&] { return observer_.relists > relists_before; }));
  kubectl({"delete", "configmap", "elsewhere-" + ns_.name(), "-n", "default"});
}

// A reconciler that read-modify-writes a ConfigMap; the test changes the
// ConfigMap between its read and its write once, so the write meets 409.
class CountingWriter final : public runtime::Reconciler {
 public:
  CountingWriter(kube::Client& client, std::function<void()> between)
      : client_(client), between_(std::move(between)) {}
  runtime::Result reconcile(const runtime::Request& request) override {
    // Other ConfigMaps of the namespace (kube-root-ca.crt) belong to others.
    if (request.name != "target") return runtime::Result::done();
    ++calls;
    Json cm = client_.get(kube::resources::kConfigMaps, request.ns, request.name);
    if (calls == 1) between_();
    cm["data"]["reconciled"] = "yes";
    try {
      client_.update(kube::resources::kConfigMaps, cm);
    } catch (const kube::ApiError& e) {
      if (kube::is_conflict(e)) ++conflicts;
      throw;  // the controller retries with backoff
    }
    return runtime::Result::done();
  }
  std::atomic<int> calls{0};
  std::atomic<int> conflicts{0};

 private:
  kube::Client& client_;
  std::function<void()> between_;
};

TEST_F(ClientResilience, ConflictOnUpdateIsRetriedNotLost) {
  apply_json(config_map(ns_.name(), "target", "1"));
  CountingWriter writer(session_->client(), [&] {
    apply_json(config_map(ns_.name(), "target", "changed-by-someone-else"));
  });
  runtime::ControllerOptions options;
  options.name = "conflict-test";
  runtime::Controller controller(options, writer, util::real_clock());
  controller.for_primary(*informer_);
  start_and_sync();
  controller.start();
  EXPECT_TRUE(wait_until("the reconciler's change to land", 30s, [&] {
    auto cm = get_json("configmap", ns_.name(), "target");
    return cm && cm->value("/data/reconciled"_json_pointer, std::string()) == "yes";
  }));
  controller.stop(std::chrono::seconds(5));
  EXPECT_EQ(writer.conflicts, 1) << "the first write must have met the conflict";
  EXPECT_GE(writer.calls, 2);
  auto cm = get_json("configmap", ns_.name(), "target");
  ASSERT_TRUE(cm);
  EXPECT_EQ((*cm)["data"]["value"], "changed-by-someone-else")
      << "the other writer's change is kept";
}

}  // namespace
}  // namespace cd4ml::e2e
