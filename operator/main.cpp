// cd4ml-operator: flags -> Manager -> controllers.

#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <cstdlib>
#include <iostream>

#include "operator/controllers/setup.hpp"
#include "operator/kube/config.hpp"
#include "operator/runtime/logging.hpp"
#include "operator/runtime/manager.hpp"
#include "operator/util/build_info.hpp"

namespace {

using cd4ml::runtime::ManagerOptions;

struct Flags {
  std::string kubeconfig;
  std::string context;
  std::string log_format = "text";
  std::string log_level = "info";
  int lease_duration = 15;
  int renew_deadline = 10;
  int retry_period = 2;
  int graceful_shutdown_seconds = 30;
  bool version = false;
};

void add_flags(CLI::App& app, Flags& flags, ManagerOptions& options) {
  app.add_flag("--version", flags.version, "Print the version and exit");
  app.add_option("--kubeconfig", flags.kubeconfig,
                 "Path to a kubeconfig; default: $KUBECONFIG, in-cluster, ~/.kube/config");
  app.add_option("--context", flags.context, "kubeconfig context to use (default: current)");
  app.add_option("--namespace", options.watch_namespace,
                 "Only watch and reconcile this namespace (default: all namespaces)");
  app.add_flag("--leader-elect", options.leader_elect,
               "Elect a leader with a Lease so only one replica reconciles");
  app.add_option("--leader-election-namespace", options.leader_election.lease_namespace,
                 "Namespace of the leader-election Lease (default: the operator's namespace)");
  app.add_option("--leader-election-id", options.leader_election.lease_name,
                 "Name of the leader-election Lease")
      ->capture_default_str();
  app.add_option("--leader-election-lease-duration", flags.lease_duration,
                 "Seconds a non-renewed lease stays valid")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("--leader-election-renew-deadline", flags.renew_deadline,
                 "Seconds the leader keeps trying to renew before it steps down")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("--leader-election-retry-period", flags.retry_period,
                 "Seconds between lease acquire/renew attempts")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("--metrics-bind-address", options.metrics_bind_address,
                 "host:port of the /metrics endpoint; \"0\" disables it")
      ->capture_default_str();
  app.add_option("--health-probe-bind-address", options.health_probe_bind_address,
                 "host:port of /healthz and /readyz; \"0\" disables them")
      ->capture_default_str();
  app.add_option("--max-concurrent-reconciles", options.max_concurrent_reconciles,
                 "Reconcile workers per controller")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("--kube-api-qps", options.kube_api_qps,
                 "Client-side rate limit: requests per second to the API server")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("--kube-api-burst", options.kube_api_burst,
                 "Client-side rate limit: burst of requests above the rate")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("--graceful-shutdown-timeout", flags.graceful_shutdown_seconds,
                 "Seconds in-flight reconciles get to finish on SIGTERM")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  app.add_option("--log-format", flags.log_format, "text or json")
      ->capture_default_str()
      ->check(CLI::IsMember({"text", "json"}));
  app.add_option("--log-level", flags.log_level, "debug, info, warn or error")
      ->capture_default_str()
      ->check(CLI::IsMember({"debug", "info", "warn", "error"}));
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "cd4ml-operator: continuous delivery for machine learning on Kubernetes.\n"
      "Reconciles TrainingRuns (cd4ml.io) into training Jobs and ModelReleases into\n"
      "versioned serving Deployments behind blue/green Services."};
  Flags flags;
  ManagerOptions options;
  options.leader_election.lease_name = "cd4ml-operator-leader";
  add_flags(app, flags, options);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  if (flags.version) {
    std::cout << "cd4ml-operator " << cd4ml::util::version() << " (commit "
              << cd4ml::util::git_commit() << ")\n";
    return 0;
  }

  using namespace cd4ml;
  try {
    runtime::configure_logging(runtime::parse_log_format(flags.log_format),
                               runtime::parse_log_level(flags.log_level));
    options.leader_election.lease_duration = std::chrono::seconds(flags.lease_duration);
    options.leader_election.renew_deadline = std::chrono::seconds(flags.renew_deadline);
    options.leader_election.retry_period = std::chrono::seconds(flags.retry_period);
    options.graceful_shutdown_timeout = std::chrono::seconds(flags.graceful_shutdown_seconds);
    if (flags.renew_deadline >= flags.lease_duration) {
      throw std::invalid_argument(
          "--leader-election-renew-deadline must be shorter than --leader-election-lease-duration");
    }

    kube::ClusterConfig config = kube::load_config(flags.kubeconfig, flags.context);
    if (options.leader_election.lease_namespace.empty()) {
      options.leader_election.lease_namespace = config.default_namespace;
    }
    runtime::Manager manager(options, config);
    controllers::setup_all(manager);
    const int code = manager.run();
    if (manager.abandoned_reconciles()) {
      spdlog::default_logger()->flush();
      std::_Exit(code);  // see Manager::abandoned_reconciles()
    }
    return code;
  } catch (const std::exception& e) {
    runtime::Logger().error("cannot start", {{"error", e.what()}});
    return 1;
  }
}
