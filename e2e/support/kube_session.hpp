#pragma once
// The operator's own client stack (Transport on an io thread, Client, and
// informers) inside a test process, for tests of the client and runtime
// against the real API server.

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <memory>
#include <thread>
#include <utility>

#include "cluster.hpp"
#include "operator/kube/client.hpp"
#include "operator/kube/config.hpp"
#include "operator/kube/transport.hpp"

namespace cd4ml::e2e {

class KubeSession {
 public:
  explicit KubeSession(kube::TransportOptions options = {})
      : transport_(io_, kube::load_kubeconfig(kubeconfig_path()), options),
        client_(transport_),
        io_thread_([this] { io_.run(); }) {}
  ~KubeSession() {
    transport_.shutdown();
    work_.reset();
    io_.stop();
    io_thread_.join();
  }
  kube::Transport& transport() { return transport_; }
  kube::Client& client() { return client_; }

 private:
  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_{
      io_.get_executor()};
  kube::Transport transport_;
  kube::Client client_;
  std::thread io_thread_;
};

// Runs e2e/scripts/cluster-ctl.sh with the given arguments; fails the test if it fails.
void cluster_ctl(const std::vector<std::string>& args);
// The etcd revision now (from etcd's JSON gateway), and a compaction up to it.
long etcd_revision();
void etcd_compact(long revision);

}  // namespace cd4ml::e2e
