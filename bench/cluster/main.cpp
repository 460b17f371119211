// cluster_bench: benchmarks of the operator's client stack against a real API
// server. bench/run.sh drives it; each command prints one JSON object.
//
//   cluster_bench populate          --namespace NS --objects LIST.json [--threads 8]
//   cluster_bench cache-memory      --namespace NS [--expect N] [--page-size 500]
//   cluster_bench reconcile-latency --namespace NS --objects LIST.json [--rate 20] [--workers 1]
//   cluster_bench create-and-wait   --namespace NS --resource R --objects LIST.json [--threads 8]
//                                   [--patch] [--deadline 900]
//   cluster_bench release-rollouts  --namespace NS --metrics HOST:PORT [--rollouts 30]
//                                   [--replicas 2] [--scale-down-delay 1] [--quiet 30]
//
// --kubeconfig defaults to the local control plane's (.cluster/kubeconfig).

#include <CLI/CLI.hpp>
#include <cstdio>
#include <exception>
#include <iostream>

#include "bench/cluster/scenarios.hpp"
#include "operator/runtime/logging.hpp"

int main(int argc, char** argv) {
  using namespace cd4ml::bench;
  CLI::App app{"cd4ml-operator cluster benchmarks"};
  app.require_subcommand(1);
  std::string kubeconfig = std::string(CD4ML_SOURCE_DIR) + "/.cluster/kubeconfig";
  std::string log_level = "warn";
  app.add_option("--kubeconfig", kubeconfig, "kubeconfig of the cluster to measure");
  app.add_option("--log-level", log_level, "operator log level (debug|info|warn|error)");

  PopulateOptions populate_options;
  auto* populate_cmd = app.add_subcommand("populate", "create objects from a List, in parallel");
  populate_cmd->add_option("--namespace", populate_options.ns)->required();
  populate_cmd->add_option("--objects", populate_options.objects_file, "List JSON, - for stdin")
      ->required();
  populate_cmd->add_option("--threads", populate_options.threads)->check(CLI::Range(1, 64));

  CacheMemoryOptions memory_options;
  auto* memory_cmd = app.add_subcommand("cache-memory", "RSS of an informer cache after sync");
  memory_cmd->add_option("--namespace", memory_options.ns)->required();
  memory_cmd->add_option("--expect", memory_options.expect, "objects the cache must hold");
  memory_cmd->add_option("--page-size", memory_options.page_size, "list page size, 0: unpaged");

  ReconcileLatencyOptions latency_options;
  auto* latency_cmd =
      app.add_subcommand("reconcile-latency", "create-to-reconcile latency at a steady rate");
  latency_cmd->add_option("--namespace", latency_options.ns)->required();
  latency_cmd->add_option("--objects", latency_options.objects_file, "List JSON, - for stdin")
      ->required();
  latency_cmd->add_option("--rate", latency_options.rate, "creates per second");
  latency_cmd->add_option("--workers", latency_options.workers)->check(CLI::Range(1, 64));

  CreateAndWaitOptions wait_options;
  auto* wait_cmd = app.add_subcommand(
      "create-and-wait", "create objects in parallel, time until each reaches its goal");
  wait_cmd->add_option("--namespace", wait_options.ns)->required();
  wait_cmd->add_option("--resource", wait_options.resource)
      ->required()
      ->check(CLI::IsMember({"trainingruns", "jobs", "modelreleases"}));
  wait_cmd->add_option("--objects", wait_options.objects_file, "List JSON, - for stdin")
      ->required();
  wait_cmd->add_option("--threads", wait_options.threads)->check(CLI::Range(1, 64));
  wait_cmd->add_flag("--patch", wait_options.patch,
                     "merge-patch each existing object's spec instead of creating it");
  long wait_deadline = wait_options.deadline.count();
  wait_cmd->add_option("--deadline", wait_deadline, "seconds")->check(CLI::PositiveNumber);

  ReleaseRolloutsOptions rollout_options;
  auto* rollout_cmd = app.add_subcommand(
      "release-rollouts", "consecutive rollouts of one ModelRelease: switch latency, writes");
  rollout_cmd->add_option("--namespace", rollout_options.ns)->required();
  rollout_cmd->add_option("--release", rollout_options.release);
  rollout_cmd
      ->add_option("--metrics", rollout_options.metrics_address,
                   "host:port of the operator's /metrics")
      ->required();
  rollout_cmd->add_option("--rollouts", rollout_options.rollouts)->check(CLI::Range(1, 1000));
  rollout_cmd->add_option("--replicas", rollout_options.replicas)->check(CLI::Range(1, 100));
  rollout_cmd->add_option("--scale-down-delay", rollout_options.scale_down_delay, "seconds")
      ->check(CLI::Range(0, 3600));
  std::string canary_steps;
  rollout_cmd->add_option("--canary-steps", canary_steps,
                          "JSON array of spec.strategy.canary.steps (default: blue/green)");
  long quiet = rollout_options.quiet.count();
  rollout_cmd->add_option("--quiet", quiet, "seconds of the no-change window")
      ->check(CLI::Range(0, 3600));

  CLI11_PARSE(app, argc, argv);
  try {
    cd4ml::runtime::configure_logging(cd4ml::runtime::LogFormat::Text,
                                      cd4ml::runtime::parse_log_level(log_level));
    Json result;
    if (*populate_cmd) {
      populate_options.kubeconfig = kubeconfig;
      result = populate(populate_options);
    } else if (*memory_cmd) {
      memory_options.kubeconfig = kubeconfig;
      result = cache_memory(memory_options);
    } else if (*latency_cmd) {
      latency_options.kubeconfig = kubeconfig;
      result = reconcile_latency(latency_options);
    } else if (*wait_cmd) {
      wait_options.kubeconfig = kubeconfig;
      wait_options.deadline = std::chrono::seconds(wait_deadline);
      result = create_and_wait(wait_options);
    } else {
      rollout_options.kubeconfig = kubeconfig;
      rollout_options.quiet = std::chrono::seconds(quiet);
      if (!canary_steps.empty()) rollout_options.canary_steps = Json::parse(canary_steps);
      result = release_rollouts(rollout_options);
    }
    std::cout << result.dump() << std::endl;
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "cluster_bench: %s\n", e.what());
    return 1;
  }
}
