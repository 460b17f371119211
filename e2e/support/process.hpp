#pragma once
// Child processes for end-to-end tests: run a command to completion and
// capture its output, or start a long-running one (the operator) and stop or
// kill it by pid.

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace cd4ml::e2e {

struct CommandResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

// Runs argv[0] (searched in PATH) with stdin fed from `input`; kills it after `timeout`.
CommandResult run_command(const std::vector<std::string>& argv, const std::string& input = {},
                          std::chrono::seconds timeout = std::chrono::seconds(120));

class Process {
 public:
  // Starts argv with stdout and stderr appended to log_file.
  Process(std::vector<std::string> argv, std::filesystem::path log_file);
  ~Process();  // SIGKILL if still running
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  pid_t pid() const { return pid_; }
  bool running();
  // SIGTERM, then wait up to `grace`; returns the exit code, or nullopt if it
  // had to be killed.
  std::optional<int> stop(std::chrono::milliseconds grace = std::chrono::seconds(30));
  void kill9();
  // Waits for exit up to `timeout`; returns the exit status (-signal if signalled).
  std::optional<int> wait(std::chrono::milliseconds timeout);
  const std::filesystem::path& log_file() const { return log_file_; }
  std::string log() const;

 private:
  pid_t pid_ = -1;
  std::optional<int> status_;
  std::filesystem::path log_file_;
};

}  // namespace cd4ml::e2e
