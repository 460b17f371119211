#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>

#include "kube/temp_files.hpp"
#include "operator/kube/config.hpp"

namespace cd4ml::kube {
namespace {

using testing::fake_pem;
using ::testing::HasSubstr;
using testing::TempDir;

// A fake service-account mount plus environment variables whose names are
// unique to the test, so tests never touch the real KUBERNETES_SERVICE_*.
class InCluster : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string test = ::testing::UnitTest::GetInstance()->current_test_info()->name();
    paths_.host_env = "CD4ML_TEST_" + test + "_HOST";
    paths_.port_env = "CD4ML_TEST_" + test + "_PORT";
    paths_.token = dir_.path() / "token";
    paths_.ca = dir_.path() / "ca.crt";
    paths_.namespace_file = dir_.path() / "namespace";
  }
  void TearDown() override {
    ::unsetenv(paths_.host_env.c_str());
    ::unsetenv(paths_.port_env.c_str());
  }
  void set_env(const std::string& host, const std::string& port) {
    ::setenv(paths_.host_env.c_str(), host.c_str(), 1);
    ::setenv(paths_.port_env.c_str(), port.c_str(), 1);
  }
  void write_mount(const std::string& token = "sa-token\n", bool with_namespace = true) {
    dir_.write("token", token);
    dir_.write("ca.crt", ca_);
    if (with_namespace) dir_.write("namespace", "ml-prod\n");
  }

  TempDir dir_;
  InClusterPaths paths_;
  const std::string ca_ = fake_pem("CERTIFICATE", "cluster ca");
};

TEST_F(InCluster, BuildsTheConfigFromEnvironmentAndMount) {
  set_env("10.96.0.1", "443");
  write_mount();
  ASSERT_TRUE(running_in_cluster(paths_));
  const auto config = load_in_cluster(paths_);
  EXPECT_EQ(config.server, "https://10.96.0.1:443");
  EXPECT_EQ(config.host, "10.96.0.1");
  EXPECT_EQ(config.port, "443");
  EXPECT_EQ(config.ca_pem, ca_);
  ASSERT_NE(config.token, nullptr);
  EXPECT_EQ(config.token->token({}), "sa-token");
  EXPECT_EQ(config.default_namespace, "ml-prod");
  EXPECT_FALSE(config.insecure_skip_tls_verify);
  EXPECT_THAT(config.description, HasSubstr("in-cluster"));
}

TEST_F(InCluster, Ipv6ServiceHostIsBracketedInTheUrl) {
  set_env("fd00:10:96::1", "6443");
  write_mount();
  const auto config = load_in_cluster(paths_);
  EXPECT_EQ(config.server, "https://[fd00:10:96::1]:6443");
  EXPECT_EQ(config.host, "fd00:10:96::1");
  EXPECT_EQ(config.port, "6443");
}

TEST_F(InCluster, MissingNamespaceFileMeansDefault) {
  set_env("10.96.0.1", "443");
  write_mount("t", /*with_namespace=*/false);
  EXPECT_EQ(load_in_cluster(paths_).default_namespace, "default");
}

TEST_F(InCluster, TokenRotationIsSeenThroughTheConfig) {
  set_env("10.96.0.1", "443");
  write_mount("old-token");
  const auto config = load_in_cluster(paths_);
  EXPECT_EQ(config.token->token({}), "old-token");
  const auto file = dir_.write("token", "new-token-with-another-length");
  std::filesystem::last_write_time(
      file, std::filesystem::last_write_time(file) + std::chrono::seconds(5));
  EXPECT_EQ(config.token->token({}), "new-token-with-another-length");
}

TEST_F(InCluster, NotInClusterWithoutTheEnvironment) {
  write_mount();
  EXPECT_FALSE(running_in_cluster(paths_));
  try {
    load_in_cluster(paths_);
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_THAT(e.what(), HasSubstr("$" + paths_.host_env));
  }
}

TEST_F(InCluster, NotInClusterWithoutTheTokenFile) {
  set_env("10.96.0.1", "443");
  EXPECT_FALSE(running_in_cluster(paths_));
  try {
    load_in_cluster(paths_);
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_THAT(e.what(), HasSubstr("no service-account token at " + paths_.token.string()));
  }
}

TEST_F(InCluster, MissingCaIsAnError) {
  set_env("10.96.0.1", "443");
  dir_.write("token", "t");
  try {
    load_in_cluster(paths_);
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_THAT(e.what(), HasSubstr("in-cluster CA certificate " + paths_.ca.string()));
  }
}

TEST_F(InCluster, EmptyTokenIsAnError) {
  set_env("10.96.0.1", "443");
  write_mount("\n");
  EXPECT_THROW(load_in_cluster(paths_), ConfigError);
}

TEST_F(InCluster, BadPortIsAnError) {
  set_env("10.96.0.1", "https");
  write_mount();
  try {
    load_in_cluster(paths_);
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_THAT(e.what(), HasSubstr("invalid port"));
  }
}

// load_config's search order, driven through ConfigSources.
class LoadConfig : public InCluster {
 protected:
  std::filesystem::path write_kubeconfig(const std::filesystem::path& relative,
                                         const std::string& host) {
    return dir_.write(relative,
                      "current-context: c\n"
                      "clusters:\n- name: k\n  cluster:\n    server: https://" +
                          host +
                          "\n"
                          "contexts:\n- name: c\n  context:\n    cluster: k\n"
                          "- name: other\n  context:\n    cluster: k\n");
  }
  ConfigSources sources() const {
    ConfigSources s;
    s.in_cluster = paths_;
    return s;
  }
};

TEST_F(LoadConfig, FlagWinsOverEverythingElse) {
  set_env("10.96.0.1", "443");
  write_mount();
  auto s = sources();
  s.kubeconfig_flag = write_kubeconfig("flag", "from-flag").string();
  s.kubeconfig_env = write_kubeconfig("env", "from-env").string();
  s.home = dir_.path() / "home";
  write_kubeconfig("home/.kube/config", "from-home");
  EXPECT_EQ(load_config(s, {}).host, "from-flag");
}

TEST_F(LoadConfig, KubeconfigVariableWinsOverInClusterAndHome) {
  set_env("10.96.0.1", "443");
  write_mount();
  auto s = sources();
  s.kubeconfig_env =
      (dir_.path() / "missing").string() + "::" + write_kubeconfig("env", "from-env").string();
  s.home = dir_.path() / "home";
  write_kubeconfig("home/.kube/config", "from-home");
  EXPECT_EQ(load_config(s, {}).host, "from-env");
}

TEST_F(LoadConfig, InClusterWinsOverHomeUnlessAContextIsNamed) {
  set_env("10.96.0.1", "443");
  write_mount();
  auto s = sources();
  s.kubeconfig_env = "";  // set but empty counts as unset
  s.home = dir_.path() / "home";
  write_kubeconfig("home/.kube/config", "from-home");
  EXPECT_EQ(load_config(s, {}).host, "10.96.0.1");
  EXPECT_EQ(load_config(s, "other").host, "from-home");
}

TEST_F(LoadConfig, HomeKubeconfigIsTheLastResort) {
  auto s = sources();
  s.home = dir_.path() / "home";
  write_kubeconfig("home/.kube/config", "from-home");
  EXPECT_EQ(load_config(s, {}).host, "from-home");
}

TEST_F(LoadConfig, NothingFoundListsEveryPlaceLookedAt) {
  auto s = sources();
  s.home = dir_.path() / "home";
  try {
    load_config(s, {});
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& e) {
    const std::string message = e.what();
    EXPECT_THAT(message, HasSubstr("no Kubernetes configuration found"));
    EXPECT_THAT(message, HasSubstr("--kubeconfig: not given"));
    EXPECT_THAT(message, HasSubstr("$KUBECONFIG: not set"));
    EXPECT_THAT(message, HasSubstr("in-cluster: $" + paths_.host_env));
    EXPECT_THAT(message,
                HasSubstr((dir_.path() / "home/.kube/config").string() + ": does not exist"));
  }
}

TEST_F(LoadConfig, MissingFlagFileIsAnErrorNotAFallback) {
  auto s = sources();
  s.kubeconfig_flag = (dir_.path() / "nope").string();
  s.home = dir_.path() / "home";
  write_kubeconfig("home/.kube/config", "from-home");
  EXPECT_THROW(load_config(s, {}), ConfigError);
}

}  // namespace
}  // namespace cd4ml::kube
