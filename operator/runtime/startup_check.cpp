#include "operator/runtime/startup_check.hpp"

#include <algorithm>

#include "operator/kube/errors.hpp"

namespace cd4ml::runtime {

namespace {

bool retryable(const kube::ApiError& e) {
  switch (e.kind()) {
    case kube::ErrorKind::Transport:
      // A certificate the CA does not accept stays so; a refused or reset
      // connection may not.
      return std::string(e.what()).find("TLS handshake") == std::string::npos;
    case kube::ErrorKind::Timeout:
    case kube::ErrorKind::TooManyRequests:
    case kube::ErrorKind::ServerError: return true;
    default: return false;
  }
}

std::string fatal_message(const kube::ApiError& e, const AccessTarget& target,
                          const std::string& server) {
  switch (e.kind()) {
    case kube::ErrorKind::Unauthorized:
      return "the API server at " + server +
             " refused the credentials (401 Unauthorized): check the kubeconfig's user, or the "
             "ServiceAccount token in the cluster";
    case kube::ErrorKind::Forbidden:
      return "not allowed to list " + target.resource + " " + target.scope + ": " +
             e.user_message() +
             "; the operator needs get, list and watch on it (the Helm chart's RBAC grants them)";
    case kube::ErrorKind::NotFound:
      return "the API server at " + server + " does not serve " + target.resource +
             ": its CustomResourceDefinition is not installed (kubectl apply -f crds/, or "
             "install the Helm chart)";
    case kube::ErrorKind::Transport:
      return std::string(e.what()) +
             ": the server's certificate is not one the kubeconfig's certificate authority "
             "accepts (or not for this address)";
    default:
      return "listing " + target.resource + " " + target.scope + " failed: " + e.user_message();
  }
}

}  // namespace

void check_api_access(const std::vector<AccessTarget>& targets, const StartupCheckOptions& options,
                      const util::Clock& clock, const WaitOrStop& wait) {
  const auto deadline = clock.now() + options.timeout;
  for (const auto& target : targets) {
    for (;;) {
      try {
        target.attempt();
        break;
      } catch (const kube::ApiError& e) {
        if (!retryable(e)) throw StartupError(fatal_message(e, target, options.server));
        const auto left =
            std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock.now());
        if (left <= std::chrono::milliseconds::zero()) {
          throw StartupError(
              "cannot reach the API server at " + options.server + " within " +
              std::to_string(
                  std::chrono::duration_cast<std::chrono::seconds>(options.timeout).count()) +
              "s (--startup-timeout): " + e.what());
        }
        // The last wait is shortened, so the last attempt falls on the deadline.
        if (!wait(std::min(options.retry_interval, left))) return;
      }
    }
  }
}

}  // namespace cd4ml::runtime
