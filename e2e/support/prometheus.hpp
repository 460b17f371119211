#pragma once
// The local cluster's Prometheus (e2e/scripts/prometheus-lib.sh) as tests see
// it: instant queries, waiting for a query to return something, the scrape
// targets, host targets added through its file_sd directory, and the echo
// server run on this machine as such a target. Its HTTP API is asked with
// curl, like etcd's in kube_session: an independent client, and small.

#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "process.hpp"

namespace cd4ml::e2e {

using Json = nlohmann::json;

// One element of a query's result: a series' labels and its value (a
// scalar result is one sample without labels).
struct PromSample {
  std::map<std::string, std::string> labels;
  double value = 0;
  std::string label(const std::string& name) const;
};

// http://127.0.0.1:<PROMETHEUS_PORT> of the running cluster (.cluster/env).
std::string prometheus_url();
// Instant query (GET /api/v1/query), at `at` or now. Throws std::runtime_error
// when Prometheus does not answer or refuses the query (with its words), or
// the result is neither a vector nor a scalar.
std::vector<PromSample> prom_query(
    const std::string& promql,
    std::optional<std::chrono::system_clock::time_point> at = std::nullopt);
// Polls `promql` until its result is not empty; fails the test with the last
// answer (or error) at the deadline and returns what it had then.
std::vector<PromSample> wait_for_series(const std::string& promql,
                                        std::chrono::milliseconds deadline);
// /api/v1/targets: "activeTargets" for "active", "droppedTargets" for "dropped".
Json prom_targets(const std::string& state = "active");

// Adds the pod template's annotations that the `kubernetes-pods` job keeps
// (prometheus.io/scrape, port, path).
void annotate_for_scraping(Json& pod_template, int port, const std::string& path = "/metrics");

// A scrape target of the `host` job for as long as it lives: a file_sd file
// listing 127.0.0.1:<port> with `labels`, removed again by the destructor.
class HostTarget {
 public:
  HostTarget(const std::string& name, int port, const std::map<std::string, std::string>& labels);
  ~HostTarget();
  HostTarget(const HostTarget&) = delete;
  HostTarget& operator=(const HostTarget&) = delete;

 private:
  std::filesystem::path file_;
};

// e2e/images/echo-server/server.py run on this machine on 127.0.0.1 (any free
// port), with CD4ML_RELEASE/REVISION/MODEL_VERSION set, log in test_log_dir().
class HostEchoServer {
 public:
  HostEchoServer(const std::string& release, const std::string& revision,
                 const std::string& model_version);
  ~HostEchoServer();
  HostEchoServer(const HostEchoServer&) = delete;
  HostEchoServer& operator=(const HostEchoServer&) = delete;

  int port() const { return port_; }
  // GET `path`; true when it answered 200.
  bool get(const std::string& path) const;

 private:
  std::unique_ptr<Process> process_;
  int port_ = 0;
};

}  // namespace cd4ml::e2e
