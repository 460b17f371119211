// The local cluster's Prometheus stopped and started again (cluster-ctl.sh,
// as tests of online analysis will do mid-analysis): its TSDB lives in
// .cluster/prometheus/data, so what it had scraped before is still there,
// whether it was stopped with SIGTERM or killed.

#include <gtest/gtest.h>

#include <fstream>

#include "cluster.hpp"
#include "kube_session.hpp"
#include "prometheus.hpp"

namespace cd4ml::e2e {
namespace {

std::string prometheus_pid() {
  std::ifstream in(source_dir() / ".cluster" / "pids" / "prometheus.pid");
  std::string pid;
  in >> pid;
  return pid;
}

// Scrapes a host server's count of 5 requests, runs `interrupt` on
// Prometheus, and expects that count at its old time afterwards, and new
// scrapes on top.
void expect_data_survives(const std::string& name, const std::vector<std::string>& interrupt) {
  HostEchoServer server("restart", name, "v1");
  ASSERT_GT(server.port(), 0);
  HostTarget target(name, server.port(), {{"test_target", name}});
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(server.get("/"));
  const std::string series = "echo_requests_total{test_target=\"" + name + "\"}";
  ASSERT_FALSE(wait_for_series(series + " == 5", 30s).empty());
  const auto scraped_at = std::chrono::system_clock::now();
  const std::string pid_before = prometheus_pid();

  for (const auto& action : interrupt) cluster_ctl({action, "prometheus"});
  ASSERT_NE(prometheus_pid(), pid_before) << "Prometheus was not restarted";

  const auto then = prom_query(series, scraped_at);
  ASSERT_EQ(then.size(), 1u) << "the samples from before the restart are gone";
  EXPECT_EQ(then[0].value, 5);
  for (int i = 0; i < 2; ++i) ASSERT_TRUE(server.get("/"));
  EXPECT_FALSE(wait_for_series(series + " == 7", 30s).empty());
}

TEST(PrometheusRestart, KeepsItsDataAcrossARestart) {
  expect_data_survives("e2e-restart", {"restart"});
}

TEST(PrometheusRestart, KeepsItsDataWhenKilled) {
  expect_data_survives("e2e-kill", {"kill", "start"});
}

}  // namespace
}  // namespace cd4ml::e2e
