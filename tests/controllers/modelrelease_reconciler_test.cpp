// The ModelRelease executor's own paths, on a fake API server
// (tests/support/fake_writer.hpp): refused and foreign creates planned
// again, the cache behind our own create, refused Service writes, the bound
// on replanning, and the order of the writes.

#include <gtest/gtest.h>

#include "modelrelease_sim.hpp"
#include "operator/controllers/modelrelease/executor.hpp"
#include "operator/controllers/modelrelease/reconciler.hpp"
#include "operator/kube/object_meta.hpp"
#include "support/fake_writer.hpp"
#include "support/recording_events.hpp"

namespace cd4ml::controllers::modelrelease {
namespace {

namespace resources = kube::resources;
using kube::ErrorKind;
using Kind = runtime::Result::Kind;

class ModelReleaseReconciler : public testing::Test {
 protected:
  void SetUp() override {
    writer_.put(resources::kModelReleases, sim::make_release());
    sync();
  }

  runtime::Result reconcile() { return reconciler_.reconcile({"ml", "churn"}); }

  // The caches catch up with the server, as the informers would. They hold
  // only objects labelled as the release's: a foreign one is never seen.
  void sync() {
    for (const auto& r : writer_.objects(resources::kModelReleases)) releases_.upsert(ptr(r));
    for (const auto& [type, store] : {std::pair{&resources::kDeployments, &deployments_},
                                      std::pair{&resources::kServices, &services_}}) {
      for (const auto& o : writer_.objects(*type)) {
        if (o.contains("/metadata/labels/cd4ml.io~1release"_json_pointer)) store->upsert(ptr(o));
      }
    }
  }
  // Every pod of every Deployment is ready, and the caches show it.
  void pods_ready() {
    for (Json d : writer_.objects(resources::kDeployments)) {
      const int n = d["spec"]["replicas"];
      d["status"] = {
          {"replicas", n}, {"updatedReplicas", n}, {"readyReplicas", n}, {"availableReplicas", n}};
      writer_.put(resources::kDeployments, d);
    }
    sync();
  }
  // The first rollout's Deployment, created and ready: the next reconcile
  // creates both Services.
  void candidate_ready() {
    reconcile();
    sync();
    pods_ready();
    writer_.clear_requests();
  }
  // The Deployment the plan creates for the release as it is now.
  Json planned_deployment() const {
    Observed o;
    o.release = *releases_.get("ml", "churn");
    o.now = clock_.wall_now();
    return plan(o).create_deployments.at(0);
  }
  Json status() const {
    return writer_.object(resources::kModelReleases, "ml", "churn").value().value("status", Json());
  }
  // The reason of a status condition that is True ("" when it is not).
  std::string reason_if_true(const char* type) const {
    const Json conditions = status().value("conditions", Json());
    const Json* c = api::find_condition(conditions, type);
    return c != nullptr && c->value("status", "") == "True" ? c->value("reason", "") : "";
  }
  static runtime::ObjectPtr ptr(const Json& object) { return std::make_shared<const Json>(object); }

  util::ManualClock clock_;
  test_support::FakeWriter writer_;
  test_support::RecordingEvents events_;
  runtime::Store releases_, runs_, deployments_, services_, pods_;
  Reconciler reconciler_{
      writer_, {releases_, runs_, deployments_, services_, pods_}, events_, clock_};
};

TEST_F(ModelReleaseReconciler, RefusedDeploymentIsPlannedAgainAndSaidInStatus) {
  writer_.fail("create", "deployments", "", ErrorKind::Invalid, "image: Required value");
  const runtime::Result r = reconcile();
  EXPECT_EQ(r.kind, Kind::Done) << "refused for good: not retried";
  EXPECT_EQ(writer_.sent(),
            (std::vector<std::string>{
                "create deployments/" + kube::meta_string(planned_deployment(), "name"),
                "update_status modelreleases/churn"}));
  EXPECT_EQ(reason_if_true("Stalled"), "DeploymentRejected");
  EXPECT_NE(status()["message"].get<std::string>().find("image: Required value"),
            std::string::npos);
  EXPECT_EQ(events_.reasons(), std::vector<std::string>{"DeploymentRejected"});
}

TEST_F(ModelReleaseReconciler, ForbiddenDeploymentIsRetriedWithBackoffByTheDeadline) {
  writer_.fail("create", "deployments", "", ErrorKind::Forbidden, "exceeded quota: pods");
  const runtime::Result r = reconcile();
  EXPECT_EQ(r.kind, Kind::Error);
  EXPECT_EQ(r.error, "exceeded quota: pods");
  EXPECT_GT(r.after, std::chrono::milliseconds(0)) << "retried by the progress deadline";
  EXPECT_EQ(status()["phase"], "Pending");
  EXPECT_EQ(events_.reasons(), std::vector<std::string>{"DeploymentCreateFailed"});
}

TEST_F(ModelReleaseReconciler, OwnDeploymentTheCacheDoesNotShowIsWaitedFor) {
  Json ours = planned_deployment();
  ours["metadata"]["namespace"] = "ml";
  writer_.put(resources::kDeployments, ours);  // created before a restart
  const runtime::Result r = reconcile();
  EXPECT_EQ(r.kind, Kind::RequeueAfter);
  EXPECT_EQ(r.after, std::chrono::seconds(1));
  const std::string name = kube::meta_string(ours, "name");
  EXPECT_EQ(writer_.sent(),
            (std::vector<std::string>{"create deployments/" + name, "get deployments/" + name}))
      << "nothing more written on a stale view, status included";
  EXPECT_TRUE(events_.events().empty());
}

TEST_F(ModelReleaseReconciler, ForeignDeploymentOfTheNameIsReportedAndLeftAlone) {
  const std::string name = kube::meta_string(planned_deployment(), "name");
  writer_.put(resources::kDeployments,
              {{"metadata", {{"name", name}, {"namespace", "ml"}}}, {"spec", {{"replicas", 5}}}});
  reconcile();
  EXPECT_EQ(reason_if_true("Stalled"), "DeploymentRejected");
  EXPECT_NE(status()["message"].get<std::string>().find("not controlled by this release"),
            std::string::npos);
  for (const auto& request : writer_.requests()) {
    EXPECT_TRUE(request.verb == "create" || request.verb == "get" ||
                request.verb == "update_status")
        << request.verb << " " << request.name;
  }
  EXPECT_EQ(writer_.object(resources::kDeployments, "ml", name).value()["spec"]["replicas"], 5);
}

TEST_F(ModelReleaseReconciler, ForeignServiceOfTheNameIsReportedAndLeftAlone) {
  candidate_ready();
  writer_.put(resources::kServices, {{"metadata", {{"name", "churn-preview"}, {"namespace", "ml"}}},
                                     {"spec", {{"selector", {{"app", "legacy"}}}}}});
  const runtime::Result r = reconcile();
  EXPECT_EQ(r.kind, Kind::RequeueAfter);
  EXPECT_EQ(writer_.sent(),
            (std::vector<std::string>{"create services/churn-preview", "get services/churn-preview",
                                      "update_status modelreleases/churn"}));
  EXPECT_EQ(reason_if_true("Stalled"), "ServiceConflict");
  EXPECT_EQ(events_.reasons().back(), "ServiceConflict");
}

TEST_F(ModelReleaseReconciler, RefusedServiceWriteIsSaidInStatusAndFails) {
  candidate_ready();
  const std::size_t told_before = events_.events().size();
  writer_.fail("create", "services", "churn-preview", ErrorKind::Forbidden,
               "exceeded quota: services=0");
  const runtime::Result r = reconcile();
  EXPECT_EQ(r.kind, Kind::Error);
  EXPECT_EQ(r.error, "writing Service churn-preview failed: exceeded quota: services=0");
  EXPECT_EQ(status()["message"],
            "writing Service churn-preview failed: exceeded quota: services=0; retrying");
  EXPECT_EQ(reason_if_true("Reconciling"), "ServiceWriteFailed");
  // Only the failure is told: the plan's Events described the switch.
  ASSERT_EQ(events_.events().size(), told_before + 1);
  EXPECT_EQ(events_.events().back().reason, "ServiceWriteFailed");
}

TEST_F(ModelReleaseReconciler, ServerErrorOnAServicePatchIsSaidInStatusToo) {
  candidate_ready();
  reconcile();  // both Services created, candidate promoted
  sync();
  Json release = *releases_.get("ml", "churn");
  release["spec"]["service"] = {{"port", 9000}};
  writer_.put(resources::kModelReleases, release);
  sync();
  writer_.fail("patch", "services", "", ErrorKind::ServerError, "etcdserver: request timed out");
  const runtime::Result r = reconcile();
  EXPECT_EQ(r.kind, Kind::Error);
  EXPECT_NE(status()["message"].get<std::string>().find("etcdserver: request timed out"),
            std::string::npos);
}

TEST_F(ModelReleaseReconciler, ReplanningIsBounded) {
  candidate_ready();
  // Taken each time, gone each time it is looked up: every round learns
  // "no Service there" and plans the same create again.
  writer_.fail("create", "services", "churn-preview", ErrorKind::AlreadyExists, "exists", 10);
  const runtime::Result r = reconcile();
  EXPECT_EQ(r.kind, Kind::RequeueAfter);
  EXPECT_EQ(r.after, std::chrono::seconds(1));
  EXPECT_EQ(writer_.sent(), (std::vector<std::string>{
                                "create services/churn-preview", "get services/churn-preview",
                                "create services/churn-preview", "get services/churn-preview",
                                "create services/churn-preview", "get services/churn-preview"}));
}

// A routed canary whose first pod is up: the next reconcile writes 25% into
// the HTTPRoute "web".
class RoutedCanaryReconciler : public ModelReleaseReconciler {
 protected:
  void SetUp() override {
    Json release = sim::make_release();
    release["spec"]["strategy"] = Json::parse(R"({"canary": {
        "steps": [{"setWeight": 25}, {"pause": {}}],
        "trafficRouting": {"gatewayAPI": {"httpRoute": "web"}}}})");
    writer_.put(resources::kModelReleases, release);
    writer_.put(resources::kHTTPRoutes, sim::make_route("web", "churn-stable", "churn-canary"));
    sync();
    candidate_ready();  // model aaa live, the release's three Services created
    reconcile();
    sync();
    release = *releases_.get("ml", "churn");
    release["spec"]["model"] = {{"uri", "s3://models/churn/bbb"}, {"version", "bbb"}};
    writer_.put(resources::kModelReleases, release);
    sync();
    reconcile();  // the canary's Deployment
    sync();
    pods_ready();
    writer_.clear_requests();
  }
  double route_weight() const {
    return sim::route_share(writer_.object(resources::kHTTPRoutes, "ml", "web").value(),
                            "churn-stable", "churn-canary");
  }
};

TEST_F(RoutedCanaryReconciler, TheWeightIsWrittenOnTheRouteAsRead) {
  const std::string read = kube::meta_string(
      writer_.object(resources::kHTTPRoutes, "ml", "web").value(), "resourceVersion");
  const runtime::Result r = reconcile();
  EXPECT_NE(r.kind, Kind::Error) << r.error;
  EXPECT_EQ(route_weight(), 25);
  const auto& requests = writer_.requests();
  const auto patch = std::find_if(requests.begin(), requests.end(), [](const auto& q) {
    return q.verb == "patch" && q.resource == "httproutes";
  });
  ASSERT_NE(patch, requests.end());
  EXPECT_EQ(patch->body["metadata"]["resourceVersion"], read)
      << "sent with the version it was computed from";
  EXPECT_EQ(status()["canary"]["weight"], 25.0);
}

TEST_F(RoutedCanaryReconciler, ARouteChangedMeanwhileIsReadAgainAndWeighted) {
  // Edited between the reconcile's read and its write.
  writer_.fail("patch", "httproutes", "web", ErrorKind::Conflict, "the object has been modified");
  const runtime::Result r = reconcile();
  EXPECT_NE(r.kind, Kind::Error) << r.error;
  std::vector<std::string> route_requests;
  for (const auto& line : writer_.sent()) {
    if (line.find("httproutes") != std::string::npos) route_requests.push_back(line);
  }
  EXPECT_EQ(route_requests,
            (std::vector<std::string>{"get httproutes/web", "patch httproutes/web",
                                      "get httproutes/web", "patch httproutes/web"}));
  EXPECT_EQ(route_weight(), 25);
}

TEST_F(RoutedCanaryReconciler, ARefusedRouteWriteIsSaidAndTheCanaryGetsNoTraffic) {
  writer_.fail("patch", "httproutes", "web", ErrorKind::Forbidden,
               "cannot patch resource \"httproutes\"", 100);
  reconcile();
  EXPECT_EQ(route_weight(), 0);
  EXPECT_EQ(status()["canary"]["weight"], 0.0);
  EXPECT_NE(status()["message"].get<std::string>().find(
                "HTTPRoute web writing its weights was refused: cannot patch resource"),
            std::string::npos)
      << status()["message"];
  EXPECT_EQ(events_.reasons().back(), "RouteUnusable");
}

// The executor alone, on a plan with every kind of write.
TEST(ModelReleaseExecutor, WritesCreatesScaleUpsServicesScaleDownsDeletesInThatOrder) {
  test_support::FakeWriter writer;
  const Json release = sim::make_release();
  for (const char* name : {"churn-a", "churn-b", "churn-c"}) {
    writer.put(resources::kDeployments, {{"metadata", {{"name", name}, {"namespace", "ml"}}}});
  }
  for (const char* name : {"churn-preview", "churn-old"}) {
    writer.put(resources::kServices, {{"metadata", {{"name", name}, {"namespace", "ml"}}}});
  }
  util::ManualClock clock;
  runtime::PatchMemo patches(clock);
  runtime::DeleteMemo deleted_deployments, deleted_services;
  Executor executor(writer, {patches, deleted_deployments, deleted_services}, runtime::Logger());
  Plan p;
  p.create_deployments = {{{"metadata", {{"name", "churn-new"}}}}};
  p.scale_up = {{"churn-a", 2}};
  p.services = {{"churn-preview", "abc", std::nullopt, std::nullopt}};
  writer.put(resources::kHTTPRoutes, {{"metadata", {{"name", "web"}, {"namespace", "ml"}}}});
  p.route = RouteWrite{
      "web",
      kube::meta_string(*writer.object(resources::kHTTPRoutes, "ml", "web"), "resourceVersion"),
      Json::array()};
  p.scale_down = {{"churn-b", 0}};
  p.delete_deployments = {"churn-c"};
  p.delete_services = {"churn-old"};
  Observed observed;
  EXPECT_EQ(executor.apply(release, p, observed).kind, WriteOutcome::Kind::Applied);
  EXPECT_EQ(writer.sent(),
            (std::vector<std::string>{"create deployments/churn-new", "patch deployments/churn-a",
                                      "patch services/churn-preview", "patch httproutes/web",
                                      "patch deployments/churn-b", "delete deployments/churn-c",
                                      "delete services/churn-old"}));

  // It stops at the first create that cannot go ahead.
  writer.clear_requests();
  writer.fail("create", "deployments", "", ErrorKind::Invalid);
  EXPECT_EQ(executor.apply(release, p, observed).kind, WriteOutcome::Kind::Replan);
  EXPECT_EQ(writer.sent(), std::vector<std::string>{"create deployments/churn-new"});
}

}  // namespace
}  // namespace cd4ml::controllers::modelrelease
