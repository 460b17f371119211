#include "operator/runtime/command_line.hpp"

#include <CLI/CLI.hpp>
#include <chrono>
#include <sstream>

namespace cd4ml::runtime {

namespace {

// Flags kept in seconds or as text until parsing has succeeded; the
// durations start from ManagerOptions' own defaults.
struct RawFlags {
  explicit RawFlags(const ManagerOptions& defaults)
      : lease_duration(seconds_of(defaults.leader_election.lease_duration)),
        renew_deadline(seconds_of(defaults.leader_election.renew_deadline)),
        retry_period(seconds_of(defaults.leader_election.retry_period)),
        graceful_shutdown_seconds(seconds_of(defaults.graceful_shutdown_timeout)),
        startup_timeout_seconds(seconds_of(defaults.startup_timeout)) {}
  template <typename Duration>
  static int seconds_of(Duration d) {
    return static_cast<int>(std::chrono::duration_cast<std::chrono::seconds>(d).count());
  }

  std::string log_format = "text";
  std::string log_level = "info";
  int lease_duration;
  int renew_deadline;
  int retry_period;
  int graceful_shutdown_seconds;
  int startup_timeout_seconds;
};

// Checks that say what was wrong in words (CLI11's own ranges print
// "not in range 0.000000 to 1.797693e+308").
const CLI::Validator kPositive(
    [](const std::string& text) -> std::string {
      try {
        std::size_t used = 0;
        const double value = std::stod(text, &used);
        if (used == text.size() && value > 0) return {};
      } catch (const std::exception&) {
      }
      return "must be a number greater than 0, not '" + text + "'";
    },
    "> 0");
const CLI::Validator kNonNegative(
    [](const std::string& text) -> std::string {
      try {
        std::size_t used = 0;
        const double value = std::stod(text, &used);
        if (used == text.size() && value >= 0) return {};
      } catch (const std::exception&) {
      }
      return "must be a number of 0 or more, not '" + text + "'";
    },
    ">= 0");
// host:port, :port (every interface) or 0 (off); the host is resolved at start.
const CLI::Validator kBindAddress(
    [](const std::string& text) -> std::string {
      if (text == "0") return {};
      const auto colon = text.rfind(':');
      const std::string port = colon == std::string::npos ? "" : text.substr(colon + 1);
      const bool digits = !port.empty() && port.size() <= 5 &&
                          port.find_first_not_of("0123456789") == std::string::npos;
      if (digits && std::stoi(port) <= 65535) return {};
      return "must be host:port, :port or 0 (off), not '" + text + "'";
    },
    "ADDRESS");

void add_flags(CLI::App& app, RawFlags& raw, CommandLine& line) {
  ManagerOptions& options = line.manager;
  app.add_flag("--version", line.version, "Print the version and exit");
  app.add_option("--kubeconfig", line.kubeconfig,
                 "Path to a kubeconfig; default: $KUBECONFIG, in-cluster, ~/.kube/config");
  app.add_option("--context", line.context, "kubeconfig context to use (default: current)");
  app.add_option("--namespace", options.watch_namespace,
                 "Only watch and reconcile this namespace (default: all namespaces)");
  app.add_flag("--leader-elect", options.leader_elect,
               "Elect a leader with a Lease so only one replica reconciles");
  app.add_option("--leader-election-namespace", options.leader_election.lease_namespace,
                 "Namespace of the leader-election Lease (default: the operator's namespace)");
  app.add_option("--leader-election-id", options.leader_election.lease_name,
                 "Name of the leader-election Lease")
      ->capture_default_str();
  app.add_option("--leader-election-lease-duration", raw.lease_duration,
                 "Seconds a non-renewed lease stays valid")
      ->capture_default_str()
      ->check(kPositive);
  app.add_option("--leader-election-renew-deadline", raw.renew_deadline,
                 "Seconds the leader keeps trying to renew before it steps down")
      ->capture_default_str()
      ->check(kPositive);
  app.add_option("--leader-election-retry-period", raw.retry_period,
                 "Seconds between lease acquire/renew attempts")
      ->capture_default_str()
      ->check(kPositive);
  app.add_option("--metrics-bind-address", options.metrics_bind_address,
                 "host:port of the /metrics endpoint; \"0\" disables it")
      ->capture_default_str()
      ->check(kBindAddress);
  app.add_option("--health-probe-bind-address", options.health_probe_bind_address,
                 "host:port of /healthz and /readyz; \"0\" disables them")
      ->capture_default_str()
      ->check(kBindAddress);
  app.add_option("--max-concurrent-reconciles", options.max_concurrent_reconciles,
                 "Reconcile workers per controller")
      ->capture_default_str()
      ->check(kPositive);
  app.add_option("--kube-api-qps", options.kube_api_qps,
                 "Client-side rate limit: requests per second to the API server")
      ->capture_default_str()
      ->check(kPositive);
  app.add_option("--kube-api-burst", options.kube_api_burst,
                 "Client-side rate limit: burst of requests above the rate")
      ->capture_default_str()
      ->check(kPositive);
  app.add_option("--prometheus-address", options.prometheus_address,
                 "Prometheus base URL (http(s)://host:port) for releases' live analysis "
                 "that name none")
      ->check([](const std::string& value) {
        return value.empty() || value.rfind("http://", 0) == 0 || value.rfind("https://", 0) == 0
                   ? std::string()
                   : std::string("must start with http:// or https://");
      });
  app.add_option("--graceful-shutdown-timeout", raw.graceful_shutdown_seconds,
                 "Seconds in-flight reconciles get to finish on SIGTERM")
      ->capture_default_str()
      ->check(kNonNegative);
  app.add_option("--startup-timeout", raw.startup_timeout_seconds,
                 "Seconds start-up waits for the API server to answer before it gives up")
      ->capture_default_str()
      ->check(kPositive);
  app.add_option("--log-format", raw.log_format, "text or json")
      ->capture_default_str()
      ->check(CLI::IsMember({"text", "json"}));
  app.add_option("--log-level", raw.log_level, "debug, info, warn or error")
      ->capture_default_str()
      ->check(CLI::IsMember({"debug", "info", "warn", "error"}));
}

}  // namespace

CommandLine parse_command_line(const std::vector<std::string>& args) {
  CLI::App app{
      "cd4ml-operator: continuous delivery for machine learning on Kubernetes.\n"
      "Reconciles TrainingRuns (cd4ml.io) into training Jobs and ModelReleases into\n"
      "versioned serving Deployments behind blue/green Services."};
  app.name(args.empty() ? "cd4ml-operator" : args.front());
  CommandLine line;
  line.manager.leader_election.lease_name = "cd4ml-operator-leader";
  RawFlags raw(line.manager);
  add_flags(app, raw, line);

  // CLI11 takes the arguments last first, without the program name.
  std::vector<std::string> reversed(args.rbegin(), args.rend());
  if (!reversed.empty()) reversed.pop_back();
  try {
    app.parse(reversed);
    if (raw.renew_deadline >= raw.lease_duration) {
      throw CLI::ValidationError("--leader-election-renew-deadline",
                                 "must be shorter than --leader-election-lease-duration (" +
                                     std::to_string(raw.renew_deadline) +
                                     " >= " + std::to_string(raw.lease_duration) + ")");
    }
  } catch (const CLI::ParseError& e) {
    line.exit_now = true;
    if (e.get_exit_code() == static_cast<int>(CLI::ExitCodes::Success)) {
      // --help: CLI11 prints it.
      std::ostringstream out;
      std::ostringstream err;
      line.exit_code = app.exit(e, out, err);
      line.out = out.str();
      line.err = err.str();
      return line;
    }
    // One line and exit code 1, as for every other start-up failure.
    line.exit_code = 1;
    line.err = app.get_name() + ": " + e.what() + " (--help lists the flags)\n";
    return line;
  }
  line.log_format = parse_log_format(raw.log_format);
  line.log_level = parse_log_level(raw.log_level);
  auto& election = line.manager.leader_election;
  election.lease_duration = std::chrono::seconds(raw.lease_duration);
  election.renew_deadline = std::chrono::seconds(raw.renew_deadline);
  election.retry_period = std::chrono::seconds(raw.retry_period);
  line.manager.graceful_shutdown_timeout = std::chrono::seconds(raw.graceful_shutdown_seconds);
  line.manager.startup_timeout = std::chrono::seconds(raw.startup_timeout_seconds);
  return line;
}

}  // namespace cd4ml::runtime
