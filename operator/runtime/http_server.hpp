#pragma once
// Small HTTP/1.1 server on Beast for probes and metrics:
//   GET /healthz -> 200 "ok" while the process runs its io loop
//   GET /readyz  -> 200 once every ready check passes (caches synced), else 503
//                   with the failing checks named
//   GET /metrics -> Prometheus text format
// Unknown paths get 404, other methods 405. Keep-alive is supported; a client
// that sends nothing for read_timeout, or a request bigger than the limits, is
// disconnected, so a slow or hostile client cannot hold connections forever.
// Plain HTTP (it is scraped in-cluster; put TLS in a sidecar or NetworkPolicy).

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

namespace cd4ml::runtime {

struct HttpRoute {
  std::string path;
  // Returns (status, content type, body). Runs on the io thread: keep it quick.
  std::function<std::tuple<int, std::string, std::string>()> handler;
};

struct HttpServerLimits {
  // Longest wait for a complete request (also the keep-alive idle time).
  std::chrono::milliseconds read_timeout{std::chrono::seconds(10)};
  std::chrono::milliseconds write_timeout{std::chrono::seconds(10)};
  std::size_t max_header_bytes = std::size_t{8} * 1024;
  std::size_t max_body_bytes = std::size_t{4} * 1024;  // probes and scrapes send no body
  std::size_t max_connections = 64;
};

class HttpServer {
 public:
  // address "host:port", ":port" (all interfaces) or "[v6]:port"; port 0 picks a
  // free one (see port()). "0" (or "") disables the server.
  HttpServer(boost::asio::io_context& io, const std::string& address, std::vector<HttpRoute> routes,
             HttpServerLimits limits = {});
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds and listens at once (throws if the address is unusable); serves on
  // the io_context's thread.
  void start();
  // Closes the listener and open connections; safe from any thread.
  void stop();
  // The bound port; 0 before start() or when disabled.
  unsigned short port() const;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace cd4ml::runtime
