#pragma once
// The operator's own client stack (Transport on its own io thread + Client)
// inside a process that is not the operator: e2e tests and cluster benchmarks.

// Boost 1.74's awaitable.hpp uses std::exchange without including <utility>;
#include <utility>
// this comment keeps clang-format from sorting <utility> after it.
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <filesystem>
#include <thread>

#include "operator/kube/client.hpp"
#include "operator/kube/config.hpp"
#include "operator/kube/transport.hpp"

namespace cd4ml::e2e {

class ClientSession {
 public:
  ClientSession(const std::filesystem::path& kubeconfig, kube::TransportOptions options)
      : ClientSession(kube::load_kubeconfig(kubeconfig), std::move(options)) {}
  ClientSession(kube::ClusterConfig config, kube::TransportOptions options)
      : transport_(io_, std::move(config), util::real_clock(), std::move(options)),
        client_(transport_),
        io_thread_([this] { io_.run(); }) {}
  ~ClientSession() {
    transport_.shutdown();
    work_.reset();
    io_.stop();
    io_thread_.join();
  }
  ClientSession(const ClientSession&) = delete;
  ClientSession& operator=(const ClientSession&) = delete;

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

}  // namespace cd4ml::e2e
