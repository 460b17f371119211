#include "operator/runtime/http_server.hpp"

#include <gtest/gtest.h>
#include <sys/socket.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <future>
#include <thread>
#include <utility>  // before asio: Boost 1.74's awaitable.hpp misses it

#include "operator/runtime/metrics.hpp"

namespace cd4ml::runtime {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;

// Runs an io_context on its own thread for the duration of a test.
class IoThread {
 public:
  IoThread() : work_(asio::make_work_guard(io_)), thread_([this] { io_.run(); }) {}
  ~IoThread() {
    work_.reset();
    io_.stop();
    thread_.join();
  }
  asio::io_context& io() { return io_; }
  // Waits until everything posted before this call has run on the io thread.
  void sync() {
    std::promise<void> done;
    asio::post(io_, [&] { done.set_value(); });
    ASSERT_EQ(done.get_future().wait_for(10s), std::future_status::ready);
  }

 private:
  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> work_;
  std::thread thread_;
};

// A blocking client whose reads give up after 10 s instead of hanging a broken test.
class Client {
 public:
  explicit Client(unsigned short port) : socket_(io_) {
    socket_.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
    timeval timeout{10, 0};
    setsockopt(socket_.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  }

  http::response<http::string_body> request(http::verb verb, const std::string& target) {
    http::request<http::string_body> req{verb, target, 11};
    req.set(http::field::host, "localhost");
    req.keep_alive(true);
    http::write(socket_, req);
    http::response<http::string_body> response;
    http::read(socket_, buffer_, response);
    return response;
  }

  void send_raw(const std::string& bytes) { asio::write(socket_, asio::buffer(bytes)); }

  // Reads until the server closes; returns what was received and the final error.
  std::pair<std::string, boost::system::error_code> read_until_closed() {
    std::string received;
    boost::system::error_code ec;
    char chunk[4096];
    for (;;) {
      const std::size_t n = socket_.read_some(asio::buffer(chunk), ec);
      received.append(chunk, n);
      if (ec) return {received, ec};
    }
  }

 private:
  asio::io_context io_;
  tcp::socket socket_;
  beast::flat_buffer buffer_;
};

std::tuple<int, std::string, std::string> text(int status, std::string body) {
  return {status, "text/plain", std::move(body)};
}

TEST(HttpServer, ServesRoutesAnd404And405OnOneKeepAliveConnection) {
  IoThread io;
  HttpServer server(io.io(), "127.0.0.1:0",
                    {{"/healthz", [] { return text(200, "ok"); }},
                     {"/other", [] { return text(202, "other"); }}});
  server.start();
  ASSERT_NE(server.port(), 0);

  Client client(server.port());
  auto response = client.request(http::verb::get, "/healthz");
  EXPECT_EQ(response.result_int(), 200);
  EXPECT_EQ(response.body(), "ok");
  EXPECT_EQ(response[http::field::content_type], "text/plain");
  EXPECT_TRUE(response.keep_alive());

  response = client.request(http::verb::get, "/other?verbose=1");  // query ignored
  EXPECT_EQ(response.result_int(), 202);
  response = client.request(http::verb::get, "/nope");
  EXPECT_EQ(response.result_int(), 404);
  response = client.request(http::verb::post, "/healthz");
  EXPECT_EQ(response.result_int(), 405);
  EXPECT_EQ(response[http::field::allow], "GET");
  server.stop();
  io.sync();
}

TEST(HttpServer, ReadyzTurnsFrom503To200AndMetricsAreServed) {
  IoThread io;
  std::atomic<bool> synced{false};
  Metrics metrics;
  metrics.on_reconcile("trainingrun", "success", 1ms);
  HttpServer server(io.io(), "127.0.0.1:0",
                    {{"/readyz",
                      [&] {
                        return synced ? text(200, "ok")
                                      : text(503, "[-]informer-sync failed: configmaps\n");
                      }},
                     {"/metrics", [&] {
                        return std::tuple<int, std::string, std::string>{
                            200, "text/plain; version=0.0.4", metrics.serialize()};
                      }}});
  server.start();
  Client client(server.port());
  auto response = client.request(http::verb::get, "/readyz");
  EXPECT_EQ(response.result_int(), 503);
  EXPECT_NE(response.body().find("configmaps"), std::string::npos);
  synced = true;
  EXPECT_EQ(client.request(http::verb::get, "/readyz").result_int(), 200);

  response = client.request(http::verb::get, "/metrics");
  EXPECT_EQ(response.result_int(), 200);
  EXPECT_NE(
      response.body().find(
          R"(controller_runtime_reconcile_total{controller="trainingrun",result="success"} 1)"),
      std::string::npos)
      << response.body();
  EXPECT_NE(response.body().find("process_resident_memory_bytes"), std::string::npos);
  server.stop();
  io.sync();
}

TEST(HttpServer, AHandlerThatThrowsGives500AndTheServerKeepsGoing) {
  IoThread io;
  HttpServer server(
      io.io(), "127.0.0.1:0",
      {{"/boom",
        []() -> std::tuple<int, std::string, std::string> { throw std::runtime_error("broken"); }},
       {"/healthz", [] { return text(200, "ok"); }}});
  server.start();
  Client client(server.port());
  EXPECT_EQ(client.request(http::verb::get, "/boom").result_int(), 500);
  EXPECT_EQ(client.request(http::verb::get, "/healthz").result_int(), 200);
  server.stop();
  io.sync();
}

TEST(HttpServer, ASlowClientIsDisconnectedAfterTheReadTimeout) {
  IoThread io;
  HttpServerLimits limits;
  limits.read_timeout = 200ms;
  HttpServer server(io.io(), "127.0.0.1:0", {{"/healthz", [] { return text(200, "ok"); }}}, limits);
  server.start();
  Client client(server.port());
  client.send_raw("GET /healthz HTTP/1.1\r\nHost: x\r\n");  // never finishes the header
  const auto start = std::chrono::steady_clock::now();
  const auto [received, ec] = client.read_until_closed();
  EXPECT_TRUE(received.empty());
  // Closed by the server (EOF or reset), not our 10 s client-side give-up.
  EXPECT_TRUE(ec == asio::error::eof || ec == asio::error::connection_reset) << ec.message();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
  server.stop();
  io.sync();
}

TEST(HttpServer, AnOversizedRequestGets413AndIsClosed) {
  IoThread io;
  HttpServer server(io.io(), "127.0.0.1:0", {{"/healthz", [] { return text(200, "ok"); }}});
  server.start();
  Client client(server.port());
  client.send_raw("GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(20000, 'a') +
                  "\r\n\r\n");
  const auto [received, ec] = client.read_until_closed();
  EXPECT_EQ(received.rfind("HTTP/1.1 413", 0), 0u) << received.substr(0, 100);
  server.stop();
  io.sync();
}

TEST(HttpServer, StopClosesTheListenerAndOpenConnections) {
  IoThread io;
  HttpServer server(io.io(), "127.0.0.1:0", {{"/healthz", [] { return text(200, "ok"); }}});
  server.start();
  const auto port = server.port();
  Client idle(port);
  EXPECT_EQ(idle.request(http::verb::get, "/healthz").result_int(), 200);
  server.stop();
  io.sync();
  const auto [received, ec] = idle.read_until_closed();
  EXPECT_TRUE(ec == asio::error::eof || ec == asio::error::connection_reset) << ec.message();
  EXPECT_THROW(Client{port}, boost::system::system_error);
}

TEST(HttpServer, AddressZeroDisablesAndBadAddressesThrow) {
  IoThread io;
  HttpServer disabled(io.io(), "0", {});
  disabled.start();
  EXPECT_EQ(disabled.port(), 0);
  EXPECT_THROW(HttpServer(io.io(), "no-port", {}).start(), std::invalid_argument);
  EXPECT_THROW(HttpServer(io.io(), "127.0.0.1:http", {}).start(), std::invalid_argument);
  EXPECT_THROW(HttpServer(io.io(), "127.0.0.1:70000", {}).start(), std::invalid_argument);
  io.sync();
}

TEST(HttpServer, ColonPortBindsAllInterfaces) {
  IoThread io;
  HttpServer server(io.io(), ":0", {{"/healthz", [] { return text(200, "ok"); }}});
  server.start();
  ASSERT_NE(server.port(), 0);
  Client client(server.port());  // reachable on loopback
  EXPECT_EQ(client.request(http::verb::get, "/healthz").result_int(), 200);
  server.stop();
  io.sync();
}

}  // namespace
}  // namespace cd4ml::runtime
