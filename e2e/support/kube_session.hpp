#pragma once
// The admin's client session on the local cluster for tests of the client
// and runtime against the real API server, and direct controls of the
// cluster's processes.

#include <string>
#include <utility>
#include <vector>

#include "client_session.hpp"
#include "cluster.hpp"

namespace cd4ml::e2e {

// Authenticated as the admin of the local cluster.
class KubeSession : public ClientSession {
 public:
  explicit KubeSession(kube::TransportOptions options = {})
      : ClientSession(kubeconfig_path(), std::move(options)) {}
};

// Runs e2e/scripts/cluster-ctl.sh with the given arguments; fails the test if it fails.
void cluster_ctl(const std::vector<std::string>& args);
// The etcd revision now (from etcd's JSON gateway), and a compaction up to it.
long etcd_revision();
void etcd_compact(long revision);

}  // namespace cd4ml::e2e
