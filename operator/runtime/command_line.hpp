#pragma once
// The operator's command line (controller-runtime's flag names) turned into
// ManagerOptions, apart from main() so that tests can check every flag
// reaches the option it names.

#include <string>
#include <vector>

#include "operator/runtime/logging.hpp"
#include "operator/runtime/manager.hpp"

namespace cd4ml::runtime {

struct CommandLine {
  ManagerOptions manager;
  std::string kubeconfig;
  std::string context;
  LogFormat log_format = LogFormat::Text;
  LogLevel log_level = LogLevel::Info;
  bool version = false;
  // Set when the process should exit at once (--help, or a bad flag): the
  // code, and the text for stdout (help) or stderr (errors).
  bool exit_now = false;
  int exit_code = 0;
  std::string out;
  std::string err;
};

// argv without the program name is fine too: args[0] is taken as the program.
CommandLine parse_command_line(const std::vector<std::string>& args);

}  // namespace cd4ml::runtime
