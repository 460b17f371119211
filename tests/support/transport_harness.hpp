#pragma once
// Pieces shared by the Transport tests: a config pointing at a scripted
// server, recorders for observer calls and stream callbacks, and a way to
// capture the ApiError a call throws.

#include <utility>
// Boost headers after <utility> (Boost 1.74 needs it first).
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_future.hpp>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "operator/kube/config.hpp"
#include "operator/kube/errors.hpp"
#include "operator/kube/transport.hpp"
#include "support/guarded.hpp"
#include "support/io_thread.hpp"
#include "support/scripted_tls_server.hpp"
#include "support/test_pki.hpp"

namespace cd4ml::test_support {

// A cluster at the scripted server, trusting the test CA, dialled by IP.
inline kube::ClusterConfig config_for(const ScriptedTlsServer& server, const TestPki& pki) {
  kube::ClusterConfig config;
  config.host = "127.0.0.1";
  config.port = std::to_string(server.port());
  config.server = "https://127.0.0.1:" + config.port;
  config.ca_pem = pki.ca.cert;
  config.description = "scripted test server";
  return config;
}

// A script that answers every request of a connection with reply().
inline ScriptedTlsServer::Script answer_each(
    std::function<void(ServerConnection&, const ReceivedRequest&)> reply) {
  return [reply = std::move(reply)](ServerConnection& connection) {
    while (const auto request = connection.read_request()) {
      reply(connection, *request);
    }
  };
}

// A port on which nothing listens (bound once, then released).
inline unsigned short unused_port() {
  boost::asio::io_context io;
  boost::asio::ip::tcp::acceptor acceptor(io, {boost::asio::ip::make_address("127.0.0.1"), 0});
  return acceptor.local_endpoint().port();
}

class RecordingObserver final : public kube::RequestObserver {
 public:
  struct Call {
    std::string verb;
    int status;
    std::chrono::nanoseconds latency;
  };

  void on_request(std::string_view verb, std::string_view /*resource*/, int status,
                  std::chrono::nanoseconds latency) override {
    std::lock_guard lock(mutex_);
    requests_.push_back({std::string(verb), status, latency});
  }
  void on_rate_limited(std::chrono::nanoseconds waited) override {
    std::lock_guard lock(mutex_);
    rate_limit_waits_.push_back(waited);
  }

  std::vector<Call> requests() const {
    std::lock_guard lock(mutex_);
    return requests_;
  }
  std::vector<int> statuses() const {
    std::lock_guard lock(mutex_);
    std::vector<int> statuses;
    for (const auto& call : requests_) {
      statuses.push_back(call.status);
    }
    return statuses;
  }
  std::vector<std::chrono::nanoseconds> rate_limit_waits() const {
    std::lock_guard lock(mutex_);
    return rate_limit_waits_;
  }

 private:
  mutable std::mutex mutex_;
  std::vector<Call> requests_;
  std::vector<std::chrono::nanoseconds> rate_limit_waits_;
};

// A token that changes on every read, as a rotated service-account token would.
class RotatingToken final : public kube::TokenSource {
 public:
  std::string token(std::chrono::steady_clock::time_point /*now*/) override {
    std::lock_guard lock(mutex_);
    return "token-" + std::to_string(++reads_);
  }

 private:
  std::mutex mutex_;
  int reads_ = 0;
};

struct StreamLog {
  std::vector<int> statuses;  // every on_status call
  std::string data;           // on_data pieces, joined
  int pieces = 0;
  std::vector<kube::HttpResponse> error_responses;  // on_error_body calls
};

class StreamRecorder {
 public:
  kube::StreamHandler handler() {
    kube::StreamHandler handler;
    handler.on_status = [this](int status) {
      log_.update([&](StreamLog& log) { log.statuses.push_back(status); });
    };
    handler.on_data = [this](std::string_view data) {
      log_.update([&](StreamLog& log) {
        log.data += data;
        ++log.pieces;
      });
    };
    handler.on_error_body = [this](kube::HttpResponse response) {
      log_.update([&](StreamLog& log) { log.error_responses.push_back(std::move(response)); });
    };
    return handler;
  }

  const Guarded<StreamLog>& log() const { return log_; }

 private:
  Guarded<StreamLog> log_;
};

// Runs Transport::stream on the io thread; the future ends with the stream.
// `cancel`, when given, is the handler's token for ending it early.
inline std::future<void> start_stream(kube::Transport& transport, kube::HttpRequest request,
                                      StreamRecorder& recorder,
                                      std::shared_ptr<kube::StreamCancel> cancel = nullptr) {
  kube::StreamHandler handler = recorder.handler();
  handler.cancel = std::move(cancel);
  return boost::asio::co_spawn(transport.io_context(),
                               transport.stream(std::move(request), std::move(handler)),
                               boost::asio::use_future);
}

// The ApiError that call() throws; nullopt (a test failure to report) when it
// returns normally.
template <typename Call>
std::optional<kube::ApiError> api_error_from(Call&& call) {
  try {
    call();
  } catch (const kube::ApiError& e) {
    return e;
  }
  return std::nullopt;
}

}  // namespace cd4ml::test_support
