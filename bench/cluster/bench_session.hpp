#pragma once
// The operator's client stack (Transport on its own io thread + Client) in a
// benchmark process, from a kubeconfig file. Rate limits are lifted so that
// the benchmarks measure the server and our code, not the client's throttle.

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

namespace cd4ml::bench {

inline kube::TransportOptions unthrottled(std::size_t connections = 8) {
  kube::TransportOptions options;
  options.qps = 100000;
  options.burst = 100000;
  options.max_idle_connections = connections;
  return options;
}

class BenchSession {
 public:
  BenchSession(const std::filesystem::path& kubeconfig, kube::TransportOptions options)
      : transport_(io_, kube::load_kubeconfig(kubeconfig), std::move(options)),
        client_(transport_),
        io_thread_([this] { io_.run(); }) {}
  ~BenchSession() {
    transport_.shutdown();
    work_.reset();
    io_.stop();
    io_thread_.join();
  }
  BenchSession(const BenchSession&) = delete;
  BenchSession& operator=(const BenchSession&) = delete;

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

}  // namespace cd4ml::bench
