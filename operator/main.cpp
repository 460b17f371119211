// cd4ml-operator: flags -> Manager -> controllers.

#include <spdlog/spdlog.h>

#include <cstdlib>
#include <iostream>

#include "operator/controllers/setup.hpp"
#include "operator/kube/config.hpp"
#include "operator/runtime/command_line.hpp"
#include "operator/runtime/logging.hpp"
#include "operator/runtime/manager.hpp"
#include "operator/util/build_info.hpp"

int main(int argc, char** argv) {
  using namespace cd4ml;
  runtime::CommandLine line = runtime::parse_command_line({argv, argv + argc});
  if (line.exit_now) {
    std::cout << line.out;
    std::cerr << line.err;
    return line.exit_code;
  }
  if (line.version) {
    std::cout << "cd4ml-operator " << util::version() << " (commit " << util::git_commit() << ")\n";
    return 0;
  }

  try {
    runtime::configure_logging(line.log_format, line.log_level);
    kube::ClusterConfig config = kube::load_config(line.kubeconfig, line.context);
    runtime::ManagerOptions& options = line.manager;
    if (options.leader_election.lease_namespace.empty()) {
      options.leader_election.lease_namespace = config.default_namespace;
    }
    runtime::Manager manager(options, config, util::real_clock());
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
