#pragma once
// The operator binary run out of cluster against the local control plane, as
// a user would run it: its own process, flags, logs, /metrics and probes.

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "cluster.hpp"

namespace cd4ml::e2e {

class OperatorProcess {
 public:
  struct Options {
    std::vector<std::string> extra_flags;
    std::string kubeconfig;  // default: the cluster's admin kubeconfig
    std::string log_name = "operator";
  };

  explicit OperatorProcess(Options options);
  OperatorProcess() : OperatorProcess(Options{}) {}
  ~OperatorProcess();

  void start();
  std::optional<int> stop(std::chrono::milliseconds grace = 30s);
  void kill9();
  bool running();
  // Waits until /readyz answers 200.
  bool wait_ready(std::chrono::milliseconds deadline = 60s);

  // GET http://127.0.0.1:<port><path>; status 0 when nothing answers.
  std::pair<int, std::string> http_get(unsigned short port, const std::string& path) const;
  std::string metrics_text() const;
  // Sum of a metric's samples whose labels include all of `labels` (0 when
  // there are none); NaN when /metrics cannot be scraped.
  double metric(const std::string& name,
                const std::map<std::string, std::string>& labels = {}) const;
  // rest_client_requests_total summed over the write verbs.
  double write_requests() const;

  unsigned short metrics_port() const { return metrics_port_; }
  unsigned short health_port() const { return health_port_; }
  std::string log() const;
  // The log written since byte `offset` (of all the process's lives: the file
  // is appended to across restarts); `offset` moves past it.
  std::string log_since(std::uintmax_t& offset) const;
  Process* process() { return process_.get(); }

 private:
  Options options_;
  unsigned short metrics_port_;
  unsigned short health_port_;
  std::filesystem::path log_file_;
  std::unique_ptr<Process> process_;
  int starts_ = 0;
};

// A TCP port that was free a moment ago.
unsigned short free_port();

}  // namespace cd4ml::e2e
