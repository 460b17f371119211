#pragma once
// Before its informers start, the operator checks that it can do what they
// will do: reach the API server and list every type it watches. Without
// this, a wrong server, a missing CRD or missing RBAC shows up as a
// readiness probe that never passes and a log of retries; with it, the
// process says in one line what is wrong and exits 1.
//
// Retry policy: what can pass by itself (connection refused or reset,
// timeouts, 429, 5xx: an API server restarting) is retried every
// `retry_interval` until `timeout` after the first attempt; what a retry
// cannot fix (401, 403, 404 of a type, a TLS certificate the kubeconfig's CA
// does not accept) fails at once.

#include <chrono>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

#include "operator/util/clock.hpp"

namespace cd4ml::runtime {

// Why the operator cannot start; what() is the one line it prints.
class StartupError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct AccessTarget {
  std::string resource;           // "trainingruns.cd4ml.io", for messages
  std::string scope;              // "in namespace ml" or "cluster-wide", for messages
  std::function<void()> attempt;  // one list request; throws kube::ApiError
};

struct StartupCheckOptions {
  std::string server;  // the API server's URL, for messages
  std::chrono::milliseconds timeout{std::chrono::seconds(30)};
  std::chrono::milliseconds retry_interval{std::chrono::seconds(2)};
};

// Waits `delay` unless asked to stop; returns false when stopped.
using WaitOrStop = std::function<bool(std::chrono::milliseconds delay)>;

// Returns once every target answered; throws StartupError otherwise.
// Returns early (without error) when `wait` says the process is stopping.
void check_api_access(const std::vector<AccessTarget>& targets, const StartupCheckOptions& options,
                      const util::Clock& clock, const WaitOrStop& wait);

}  // namespace cd4ml::runtime
