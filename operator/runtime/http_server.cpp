#include "operator/runtime/http_server.hpp"

#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <map>
#include <stdexcept>
#include <utility>  // before asio: Boost 1.74's awaitable.hpp misses it

#include "operator/runtime/logging.hpp"

namespace cd4ml::runtime {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

struct Endpoint {
  std::string host;  // "" = all interfaces
  unsigned short port = 0;
};

Endpoint parse_address(const std::string& address) {
  const auto colon = address.rfind(':');
  if (colon == std::string::npos) {
    throw std::invalid_argument("bind address \"" + address + "\" is not host:port or :port");
  }
  std::string host = address.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  const std::string port_text = address.substr(colon + 1);
  unsigned long port = 0;
  std::size_t used = 0;
  try {
    port = std::stoul(port_text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (port_text.empty() || used != port_text.size() || port > 65535) {
    throw std::invalid_argument("bind address \"" + address + "\" has an invalid port");
  }
  return {host, static_cast<unsigned short>(port)};
}

using Response = http::response<http::string_body>;

Response make_response(unsigned version, int status, std::string_view content_type,
                       std::string body) {
  Response response{static_cast<http::status>(status), version};
  response.set(http::field::server, "cd4ml-operator");
  response.set(http::field::content_type, content_type);
  response.body() = std::move(body);
  response.prepare_payload();
  return response;
}

}  // namespace

struct HttpServer::Impl {
  Impl(asio::io_context& io_context, std::string bind_address, std::vector<HttpRoute> route_list,
       HttpServerLimits server_limits)
      : io(io_context),
        address(std::move(bind_address)),
        routes(std::move(route_list)),
        limits(server_limits),
        acceptor(io_context) {}

  asio::io_context& io;
  const std::string address;
  const std::vector<HttpRoute> routes;
  const HttpServerLimits limits;
  Logger log{{{"component", "http-server"}}};

  tcp::acceptor acceptor;
  std::atomic<unsigned short> bound_port{0};
  // Touched only on the io thread.
  bool stopped = false;
  std::uint64_t next_session = 0;
  std::map<std::uint64_t, std::weak_ptr<beast::tcp_stream>> sessions;

  void listen() {
    const Endpoint endpoint = parse_address(address);
    tcp::endpoint bind_to;
    if (endpoint.host.empty()) {
      // ":port" binds every IPv4 interface, as controller-runtime's ":8080" does.
      bind_to = tcp::endpoint(tcp::v4(), endpoint.port);
    } else {
      tcp::resolver resolver(io);
      const auto results = resolver.resolve(endpoint.host, std::to_string(endpoint.port));
      if (results.empty()) throw std::runtime_error("cannot resolve " + endpoint.host);
      bind_to = results.begin()->endpoint();
    }
    acceptor.open(bind_to.protocol());
    acceptor.set_option(asio::socket_base::reuse_address(true));
    acceptor.bind(bind_to);
    acceptor.listen(asio::socket_base::max_listen_connections);
    bound_port = acceptor.local_endpoint().port();
  }

  // Coroutines take the Impl by shared_ptr parameter, so their frames keep it
  // alive however long the io_context holds them.
  static asio::awaitable<void> accept_loop(std::shared_ptr<Impl> self) {
    auto& acceptor = self->acceptor;
    for (;;) {
      boost::system::error_code ec;
      tcp::socket socket =
          co_await acceptor.async_accept(asio::redirect_error(asio::use_awaitable, ec));
      if (self->stopped || ec == asio::error::operation_aborted || !acceptor.is_open()) co_return;
      if (ec) {
        // Out of file descriptors and the like: keep serving the connections we have.
        self->log.warn("accept failed", {{"error", ec.message()}});
        continue;
      }
      if (self->sessions.size() >= self->limits.max_connections) {
        socket.close(ec);
        continue;
      }
      asio::co_spawn(self->io, serve(self, std::move(socket)), asio::detached);
    }
  }

  Response respond(const http::request<http::string_body>& request) {
    const unsigned version = request.version();
    if (request.method() != http::verb::get) {
      auto response = make_response(version, 405, "text/plain", "method not allowed\n");
      response.set(http::field::allow, "GET");
      return response;
    }
    std::string_view target = request.target();
    target = target.substr(0, target.find('?'));
    for (const auto& route : routes) {
      if (route.path != target) continue;
      try {
        auto [status, content_type, body] = route.handler();
        return make_response(version, status, content_type, std::move(body));
      } catch (const std::exception& e) {
        log.error("handler failed", {{"path", route.path}, {"error", e.what()}});
        return make_response(version, 500, "text/plain", "internal error\n");
      }
    }
    return make_response(version, 404, "text/plain", "not found\n");
  }

  static asio::awaitable<void> serve(std::shared_ptr<Impl> self, tcp::socket socket) {
    const HttpServerLimits& limits = self->limits;
    auto stream = std::make_shared<beast::tcp_stream>(std::move(socket));
    const std::uint64_t id = self->next_session++;
    self->sessions.emplace(id, stream);
    beast::flat_buffer buffer;
    for (;;) {
      http::request_parser<http::string_body> parser;
      parser.header_limit(static_cast<std::uint32_t>(limits.max_header_bytes));
      parser.body_limit(limits.max_body_bytes);
      boost::system::error_code ec;
      stream->expires_after(limits.read_timeout);
      co_await http::async_read(*stream, buffer, parser,
                                asio::redirect_error(asio::use_awaitable, ec));
      if (ec == http::error::header_limit || ec == http::error::body_limit) {
        auto response = make_response(11, 413, "text/plain", "request too large\n");
        response.keep_alive(false);
        stream->expires_after(limits.write_timeout);
        co_await http::async_write(*stream, response,
                                   asio::redirect_error(asio::use_awaitable, ec));
        break;
      }
      if (ec) break;  // closed by the client, timed out, malformed: nothing to answer
      const auto& request = parser.get();
      Response response = self->respond(request);
      response.keep_alive(request.keep_alive() && !self->stopped);
      stream->expires_after(limits.write_timeout);
      co_await http::async_write(*stream, response, asio::redirect_error(asio::use_awaitable, ec));
      if (ec || !response.keep_alive()) break;
    }
    boost::system::error_code ignored;
    stream->socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream->close();
    self->sessions.erase(id);
  }

  void close_all() {
    stopped = true;
    boost::system::error_code ignored;
    acceptor.close(ignored);
    for (auto& [id, weak] : sessions) {
      if (auto stream = weak.lock()) {
        stream->socket().shutdown(tcp::socket::shutdown_both, ignored);
        stream->close();
      }
    }
  }
};

HttpServer::HttpServer(asio::io_context& io, const std::string& address,
                       std::vector<HttpRoute> routes, HttpServerLimits limits)
    : impl_(std::make_shared<Impl>(io, address, std::move(routes), limits)) {}

HttpServer::~HttpServer() {
  stop();
}

void HttpServer::start() {
  if (impl_->address.empty() || impl_->address == "0") return;  // disabled
  if (impl_->acceptor.is_open()) throw std::logic_error("HttpServer started twice");
  try {
    impl_->listen();
  } catch (const boost::system::system_error& e) {
    // Close what was opened, so a caller may retry; the port in the message
    // is the one asked for (another process may hold it).
    boost::system::error_code ignored;
    impl_->acceptor.close(ignored);
    throw std::runtime_error("cannot listen on " + impl_->address + ": " + e.code().message());
  }
  asio::co_spawn(impl_->io, Impl::accept_loop(impl_), asio::detached);
}

void HttpServer::stop() {
  // Everything the coroutines touch lives on the io thread; so does the shutdown.
  asio::post(impl_->io, [impl = impl_] { impl->close_all(); });
}

unsigned short HttpServer::port() const {
  return impl_->bound_port.load();
}

}  // namespace cd4ml::runtime
