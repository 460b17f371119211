#pragma once
// HTTP/1.1 over TLS to one API server, on Boost.Beast. All I/O runs on the
// io_context given at construction (one thread); request_sync() lets other
// threads (reconcile workers) wait for a result without touching sockets.
//
// What it does for every request:
//   - client-side rate limit (token bucket, --kube-api-qps / --kube-api-burst);
//   - keep-alive connection reuse (idle connections pooled, dropped on error);
//   - retries exactly where client-go does: 429 and 5xx responses that carry
//     Retry-After, at most max_retries times, waiting the advertised seconds;
//     plus one reconnect when a pooled keep-alive connection turns out stale;
//   - bearer token or client certificate from ClusterConfig.
// It returns every HTTP response as is (errors are decided by the caller) and
// throws ApiError{Transport|Timeout} when no response arrives.

// Boost 1.74's awaitable.hpp uses std::exchange without including <utility>;
#include <utility>
// this comment keeps clang-format from sorting <utility> after it.
#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "operator/kube/config.hpp"
#include "operator/kube/http.hpp"
#include "operator/util/clock.hpp"

namespace cd4ml::kube {

// Hook for request metrics; kube/ knows nothing of Prometheus.
class RequestObserver {
 public:
  virtual ~RequestObserver() = default;
  // status 0 = no response (transport error or timeout). resource as in
  // HttpRequest::resource.
  virtual void on_request(std::string_view verb, std::string_view resource, int status,
                          std::chrono::nanoseconds latency) = 0;
  virtual void on_rate_limited(std::chrono::nanoseconds waited) = 0;
};

struct TransportOptions {
  double qps = 20.0;  // controller-runtime's default for its client
  int burst = 30;
  int max_retries = 10;
  std::string user_agent;  // default: cd4ml-operator/<version>
  std::size_t max_idle_connections = 8;
  // Longest wait for a stream's connection (TCP connect and TLS handshake),
  // whatever its idle timeout (minutes for a watch): a server that drops
  // packets instead of refusing them is given up on like client-go's dialer
  // does (30 s), and the watch loop's backoff takes over.
  std::chrono::milliseconds stream_connect_timeout{std::chrono::seconds(30)};
  // Largest response body accepted in memory (a LIST of 10k objects is tens of MiB).
  std::size_t max_body_bytes = std::size_t{512} * 1024 * 1024;
  RequestObserver* observer = nullptr;
};

// Ends one open stream from any thread (an informer being stopped), without
// shutting the whole transport down. A cancelled stream returns normally.
class StreamCancel : public std::enable_shared_from_this<StreamCancel> {
 public:
  void cancel();
  bool cancelled() const;

 private:
  friend class Transport;
  // Called by the transport on the io thread while the stream is open; false
  // when the stream was cancelled before it opened.
  bool attach(boost::asio::io_context& io, std::function<void()> close);
  void detach();

  mutable std::mutex mutex_;
  bool cancelled_ = false;
  boost::asio::io_context* io_ = nullptr;
  std::function<void()> close_;  // io thread only
};

// Receives a streaming response (watch). on_status is called once with the
// HTTP status; for 2xx, on_data is called with each piece of body as it
// arrives, in order, possibly splitting or joining lines arbitrarily.
// For non-2xx, the response with its whole (bounded) body, and its
// Retry-After, is given to on_error_body instead.
struct StreamHandler {
  std::function<void(int status)> on_status;
  std::function<void(std::string_view data)> on_data;
  std::function<void(HttpResponse response)> on_error_body;
  std::shared_ptr<StreamCancel> cancel;  // optional
};

class Transport {
 public:
  // `clock` (which must outlive the transport) times requests, the rate
  // limit, idle connections and token re-reads.
  Transport(boost::asio::io_context& io, ClusterConfig config, const util::Clock& clock,
            TransportOptions options = {});
  ~Transport();
  Transport(const Transport&) = delete;
  Transport& operator=(const Transport&) = delete;

  // Must be awaited on the io_context's thread.
  boost::asio::awaitable<HttpResponse> request(HttpRequest req);

  // Streams one response; returns when the server ends it. Throws
  // ApiError{Timeout} when no byte arrives for req.timeout, ApiError{Transport}
  // on connection faults. Never pooled, never retried: the watch loop decides.
  boost::asio::awaitable<void> stream(HttpRequest req, StreamHandler handler);

  // Blocking form for threads other than the io_context's. Never call it on
  // the io thread (it would wait on itself).
  HttpResponse request_sync(HttpRequest req);

  // Closes idle connections and aborts open streams (they end with
  // ApiError{Transport}); used at shutdown.
  void shutdown();

  const ClusterConfig& config() const;
  boost::asio::io_context& io_context();

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace cd4ml::kube
