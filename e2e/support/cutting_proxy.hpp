#pragma once
// A TCP proxy in front of the real API server that cuts every connection
// after a random number of bytes from the server (TLS passes through, so a
// cut lands anywhere: mid-record, mid-event, mid-line). The real server is
// never made to misbehave; the network between it and the client is. For
// tests of the client and informer under faults a real server cannot be
// driven to produce (issue 3).

#include <atomic>
#include <cstddef>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace cd4ml::e2e {

class CuttingProxy {
 public:
  struct Options {
    std::string upstream_host = "127.0.0.1";
    unsigned short upstream_port = 0;
    // Bytes from the server each connection carries before it is cut,
    // drawn uniformly from [min_bytes, max_bytes].
    std::size_t min_bytes = 8 * 1024;
    std::size_t max_bytes = 96 * 1024;
    unsigned seed = 1;
  };

  explicit CuttingProxy(Options options);
  ~CuttingProxy();
  CuttingProxy(const CuttingProxy&) = delete;
  CuttingProxy& operator=(const CuttingProxy&) = delete;

  unsigned short port() const { return port_; }
  // Connections accepted, and connections cut by the byte budget.
  int connections() const { return connections_.load(); }
  int cuts() const { return cuts_.load(); }

 private:
  struct Link;
  void accept_loop();
  void serve(const std::shared_ptr<Link>& link);

  Options options_;
  int listener_ = -1;
  unsigned short port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<int> connections_{0};
  std::atomic<int> cuts_{0};
  std::mutex mutex_;
  std::mt19937 random_;
  std::vector<std::shared_ptr<Link>> links_;
  std::vector<std::thread> threads_;
  std::thread acceptor_;
};

}  // namespace cd4ml::e2e
