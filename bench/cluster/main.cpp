// cluster_bench: benchmarks of the operator's client stack against a real API
// server. bench/run.sh drives it; each command prints one JSON object.
//
//   cluster_bench populate          --namespace NS --objects LIST.json [--threads 8]
//   cluster_bench cache-memory      --namespace NS [--expect N] [--page-size 500]
//   cluster_bench reconcile-latency --namespace NS --objects LIST.json [--rate 20] [--workers 1]
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
    } else {
      latency_options.kubeconfig = kubeconfig;
      result = reconcile_latency(latency_options);
    }
    std::cout << result.dump() << std::endl;
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "cluster_bench: %s\n", e.what());
    return 1;
  }
}
