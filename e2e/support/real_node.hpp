#pragma once
// What tests on the local cluster's real node share: the check that there is
// one (a test that needs it fails, with the same words as cluster-up, when
// the cluster runs without it), the images built for it, pod templates that
// land on it, and a release fixture for the echo server there.

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "modelrelease_fixture.hpp"
#include "traffic_prober.hpp"

namespace cd4ml::e2e {

using Json = nlohmann::json;

// Fails the current test (fatally, from SetUp) unless the running cluster
// has a real node; the message says how it was turned off.
void require_real_node();
// `cd4ml.local/<name>:<tag>` of an image of e2e/images/build-image.sh.
std::string local_image(const std::string& name);
// Builds (when its inputs changed) and imports images into the real node.
void import_images(const std::vector<std::string>& names);
// A pod template of one `server` container running `image`, scheduled on
// the real node (its label and taint), with `env` ({"NAME": "value"}).
Json real_node_pod_template(const std::string& image, const Json& env = Json::object());
// The echo-server image's template: port 8080, a real readiness probe on
// /ready every second.
Json echo_pod_template(const Json& env = Json::object());
// spec.clusterIP of a Service.
std::string cluster_ip(const std::string& ns, const std::string& service);
// Waits until kube-proxy has written the DNAT rule of a ClusterIP. Traffic
// sent before that is not only lost: each connection attempt leaves a
// conntrack entry without address translation, and a later connection that
// happens to reuse its source port follows that entry instead of the rules
// (and times out) for as long as the entry lives (120 s).
void wait_for_proxy_rules(const std::string& ip);
// A prober sending 50 requests/s to a Service's ClusterIP, started once
// kube-proxy has its rule and returned once a request was answered.
std::unique_ptr<TrafficProber> probe_service(const std::string& ns, const std::string& service);

// ReleaseFixture for releases on the real node: its SetUp fails the test
// without a real node and imports the images first.
class RealNodeReleaseFixture : public ReleaseFixture {
 protected:
  explicit RealNodeReleaseFixture(std::vector<std::string> images) : images_(std::move(images)) {}
  void SetUp() override;

 private:
  std::vector<std::string> images_;
};

// Releases of the echo-server image.
class EchoReleaseFixture : public RealNodeReleaseFixture {
 protected:
  EchoReleaseFixture() : RealNodeReleaseFixture({"echo-server"}) {}
};

}  // namespace cd4ml::e2e
