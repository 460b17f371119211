#include "real_node.hpp"

#include <gtest/gtest.h>

#include "cluster.hpp"

namespace cd4ml::e2e {

namespace {

std::filesystem::path build_image_script() {
  return source_dir() / "e2e" / "images" / "build-image.sh";
}

}  // namespace

void require_real_node() {
  if (cluster_env("REAL_NODE") == "1") return;
  const char* off = std::getenv("CD4ML_REAL_NODE");
  GTEST_FAIL() << "this test needs the local cluster's real node, and the cluster runs without "
                  "one ("
               << (off ? std::string("CD4ML_REAL_NODE=") + off : "it was started so")
               << "); restart it with it (make cluster-down cluster-up, CD4ML_REAL_NODE unset) "
                  "or run only the tests that need no real node (ctest -LE real-node)";
}

std::string local_image(const std::string& name) {
  const CommandResult r = run_command({build_image_script().string(), "--ref", name});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  std::string ref = r.out;
  while (!ref.empty() && (ref.back() == '\n' || ref.back() == ' ')) ref.pop_back();
  return ref;
}

void import_images(const std::vector<std::string>& names) {
  std::vector<std::string> argv = {build_image_script().string(), "--import"};
  argv.insert(argv.end(), names.begin(), names.end());
  const CommandResult r = run_command(argv, {}, std::chrono::seconds(1800));
  ASSERT_EQ(r.exit_code, 0) << "building/importing images failed: " << r.err;
}

Json real_node_pod_template(const std::string& image, const Json& env) {
  Json env_list = Json::array();
  for (const auto& [name, value] : env.items()) {
    env_list.push_back({{"name", name}, {"value", value}});
  }
  Json container = {{"name", "server"}, {"image", image}, {"imagePullPolicy", "IfNotPresent"}};
  if (!env_list.empty()) container["env"] = env_list;
  return {{"spec",
           {{"nodeSelector", {{"cd4ml.io/node", "real"}}},
            {"tolerations", Json::array({{{"key", "cd4ml.io/real-node"},
                                          {"operator", "Exists"},
                                          {"effect", "NoSchedule"}}})},
            // Fast test turnover: the echo server exits at once on SIGTERM.
            {"terminationGracePeriodSeconds", 5},
            {"containers", Json::array({container})}}}};
}

Json echo_pod_template(const Json& env) {
  Json t = real_node_pod_template(local_image("echo-server"), env);
  Json& c = t["spec"]["containers"][0];
  c["ports"] = Json::array({{{"containerPort", 8080}, {"name", "http"}}});
  c["readinessProbe"] = {{"httpGet", {{"path", "/ready"}, {"port", 8080}}},
                         {"periodSeconds", 1},
                         {"failureThreshold", 1}};
  return t;
}

void wait_for_proxy_rules(const std::string& ip) {
  wait_until("kube-proxy's rule for " + ip, 30s, [&] {
    const CommandResult r = run_command({"iptables-save", "-t", "nat"});
    return r.exit_code == 0 && r.out.find("-d " + ip + "/32") != std::string::npos;
  });
}

std::string cluster_ip(const std::string& ns, const std::string& service) {
  const auto svc = get_json("service", ns, service);
  return svc ? svc->value("/spec/clusterIP"_json_pointer, std::string()) : std::string();
}

std::unique_ptr<TrafficProber> probe_service(const std::string& ns, const std::string& service) {
  const std::string ip = cluster_ip(ns, service);
  EXPECT_FALSE(ip.empty()) << "Service " << service << " has no ClusterIP";
  wait_for_proxy_rules(ip);
  auto prober = std::make_unique<TrafficProber>(TrafficProber::Options{ip, 80, "/", 50});
  EXPECT_TRUE(prober->wait_for_success(10s))
      << "no answer through " << service << " (" << ip << ")";
  return prober;
}

void RealNodeReleaseFixture::SetUp() {
  require_real_node();
  if (HasFatalFailure()) return;
  import_images(images_);
  if (HasFatalFailure()) return;
  ReleaseFixture::SetUp();
}

}  // namespace cd4ml::e2e
