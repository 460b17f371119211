// Every flag reaches the option it names; bad values stop the process with a
// message naming the flag; --help lists them all.

#include "operator/runtime/command_line.hpp"

#include <gtest/gtest.h>

#include <algorithm>

namespace cd4ml::runtime {
namespace {

using std::chrono::seconds;

CommandLine parse(std::vector<std::string> flags) {
  flags.insert(flags.begin(), "cd4ml-operator");
  return parse_command_line(flags);
}

TEST(CommandLine, DefaultsAreControllerRuntimes) {
  const CommandLine line = parse({});
  ASSERT_FALSE(line.exit_now) << line.err;
  const ManagerOptions& m = line.manager;
  EXPECT_EQ(m.watch_namespace, "");
  EXPECT_FALSE(m.leader_elect);
  EXPECT_EQ(m.leader_election.lease_name, "cd4ml-operator-leader");
  EXPECT_EQ(m.leader_election.lease_duration, seconds(15));
  EXPECT_EQ(m.leader_election.renew_deadline, seconds(10));
  EXPECT_EQ(m.leader_election.retry_period, seconds(2));
  EXPECT_EQ(m.metrics_bind_address, ":8080");
  EXPECT_EQ(m.health_probe_bind_address, ":8081");
  EXPECT_EQ(m.max_concurrent_reconciles, 1);
  EXPECT_DOUBLE_EQ(m.kube_api_qps, 20.0);
  EXPECT_EQ(m.kube_api_burst, 30);
  EXPECT_EQ(m.graceful_shutdown_timeout, seconds(30));
  EXPECT_EQ(m.startup_timeout, seconds(30));
  EXPECT_EQ(line.log_format, LogFormat::Text);
  EXPECT_EQ(line.log_level, LogLevel::Info);
  EXPECT_FALSE(line.version);
}

TEST(CommandLine, EveryFlagReachesItsOption) {
  const CommandLine line = parse({"--kubeconfig=/k/config",
                                  "--context",
                                  "prod",
                                  "--namespace=ml",
                                  "--leader-elect",
                                  "--leader-election-namespace=ops",
                                  "--leader-election-id=my-lease",
                                  "--leader-election-lease-duration=30",
                                  "--leader-election-renew-deadline=20",
                                  "--leader-election-retry-period=4",
                                  "--metrics-bind-address=127.0.0.1:9000",
                                  "--health-probe-bind-address=0",
                                  "--max-concurrent-reconciles=5",
                                  "--kube-api-qps=50.5",
                                  "--kube-api-burst=80",
                                  "--graceful-shutdown-timeout=45",
                                  "--startup-timeout=90",
                                  "--log-format=json",
                                  "--log-level=debug",
                                  "--prometheus-address=http://prom.monitoring:9090"});
  ASSERT_FALSE(line.exit_now) << line.err;
  const ManagerOptions& m = line.manager;
  EXPECT_EQ(line.kubeconfig, "/k/config");
  EXPECT_EQ(line.context, "prod");
  EXPECT_EQ(m.watch_namespace, "ml");
  EXPECT_TRUE(m.leader_elect);
  EXPECT_EQ(m.leader_election.lease_namespace, "ops");
  EXPECT_EQ(m.leader_election.lease_name, "my-lease");
  EXPECT_EQ(m.leader_election.lease_duration, seconds(30));
  EXPECT_EQ(m.leader_election.renew_deadline, seconds(20));
  EXPECT_EQ(m.leader_election.retry_period, seconds(4));
  EXPECT_EQ(m.metrics_bind_address, "127.0.0.1:9000");
  EXPECT_EQ(m.health_probe_bind_address, "0");
  EXPECT_EQ(m.max_concurrent_reconciles, 5);
  EXPECT_DOUBLE_EQ(m.kube_api_qps, 50.5);
  EXPECT_EQ(m.kube_api_burst, 80);
  EXPECT_EQ(m.graceful_shutdown_timeout, seconds(45));
  EXPECT_EQ(m.startup_timeout, seconds(90));
  EXPECT_EQ(m.prometheus_address, "http://prom.monitoring:9090");
  EXPECT_EQ(line.log_format, LogFormat::JSON);
  EXPECT_EQ(line.log_level, LogLevel::Debug);
}

TEST(CommandLine, VersionIsAFlagNotAnExit) {
  const CommandLine line = parse({"--version"});
  EXPECT_FALSE(line.exit_now);
  EXPECT_TRUE(line.version);
}

TEST(CommandLine, BadValuesStopWithAMessageNamingTheFlag) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"--log-format=xml", "--log-format"},
      {"--log-level=verbose", "--log-level"},
      {"--max-concurrent-reconciles=0", "--max-concurrent-reconciles"},
      {"--kube-api-qps=-1", "--kube-api-qps"},
      {"--kube-api-burst=abc", "--kube-api-burst"},
      {"--graceful-shutdown-timeout=-5", "--graceful-shutdown-timeout"},
      {"--leader-election-lease-duration=0", "--leader-election-lease-duration"},
      {"--startup-timeout=0", "--startup-timeout"},
      {"--prometheus-address=prom:9090", "--prometheus-address"},
      {"--metrics-bind-address=localhost", "--metrics-bind-address"},
      {"--health-probe-bind-address=:99999", "--health-probe-bind-address"},
      {"--no-such-flag", "--no-such-flag"},
  };
  for (const auto& [flag, named] : cases) {
    const CommandLine line = parse({flag});
    EXPECT_TRUE(line.exit_now) << flag;
    // Like every other start-up failure: exit code 1 and one line.
    EXPECT_EQ(line.exit_code, 1) << flag;
    EXPECT_NE(line.err.find(named), std::string::npos) << flag << ": " << line.err;
    EXPECT_EQ(std::count(line.err.begin(), line.err.end(), '\n'), 1) << line.err;
  }
}

TEST(CommandLine, NumbersAreJudgedInWords) {
  // CLI11's own range check printed "not in range 0.000000 to 1.797693e+308".
  const CommandLine line = parse({"--kube-api-qps=abc"});
  EXPECT_EQ(line.err,
            "cd4ml-operator: --kube-api-qps: must be a number greater than 0, not 'abc' "
            "(--help lists the flags)\n");
}

TEST(CommandLine, RenewDeadlineMustBeShorterThanTheLease) {
  const CommandLine line =
      parse({"--leader-election-lease-duration=10", "--leader-election-renew-deadline=10"});
  EXPECT_TRUE(line.exit_now);
  EXPECT_NE(line.exit_code, 0);
  EXPECT_NE(line.err.find("must be shorter than --leader-election-lease-duration"),
            std::string::npos)
      << line.err;
}

TEST(CommandLine, HelpListsEveryFlagAndExitsZero) {
  const CommandLine line = parse({"--help"});
  EXPECT_TRUE(line.exit_now);
  EXPECT_EQ(line.exit_code, 0);
  for (const char* flag : {"--version",
                           "--kubeconfig",
                           "--context",
                           "--namespace",
                           "--leader-elect",
                           "--leader-election-namespace",
                           "--leader-election-id",
                           "--leader-election-lease-duration",
                           "--leader-election-renew-deadline",
                           "--leader-election-retry-period",
                           "--metrics-bind-address",
                           "--health-probe-bind-address",
                           "--max-concurrent-reconciles",
                           "--kube-api-qps",
                           "--kube-api-burst",
                           "--graceful-shutdown-timeout",
                           "--startup-timeout",
                           "--log-format",
                           "--log-level",
                           "--prometheus-address"}) {
    EXPECT_NE(line.out.find(flag), std::string::npos) << flag;
  }
}

}  // namespace
}  // namespace cd4ml::runtime
