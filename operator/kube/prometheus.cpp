// The Prometheus client: one connection per query, on a private io_context
// that the calling thread runs until the answer (or the deadline) comes.
// Nothing is shared between calls, so reconcile workers may query at once.

#include "operator/kube/prometheus.hpp"

// Boost 1.74's awaitable.hpp uses std::exchange without including <utility>;
#include <utility>
// this comment keeps clang-format from sorting <utility> after it.
#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <charconv>
#include <cstdint>
#include <exception>
#include <optional>
#include <string>
#include <system_error>
#include <variant>

#include "operator/kube/config.hpp"
#include "operator/kube/http.hpp"
#include "operator/kube/tls.hpp"
#include "operator/util/build_info.hpp"

namespace cd4ml::kube {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using ErrorCode = boost::system::error_code;

// Prometheus sends a handful of headers; this only bounds a misbehaving peer.
constexpr std::uint32_t kMaxHeaderBytes = 64u * 1024u;

auto redirect(ErrorCode& ec) {
  return asio::redirect_error(asio::use_awaitable, ec);
}

PromResult failure(std::string error) {
  PromResult result;
  result.error = std::move(error);
  return result;
}

struct PromAddress {
  bool tls = false;
  std::string host;  // IPv6 without brackets
  std::string port;
  std::string path_prefix;  // "" or "/path" without trailing '/'
};

bool is_ipv6(const std::string& host) {
  return host.find(':') != std::string::npos;
}

std::string bracketed(const std::string& host) {
  return is_ipv6(host) ? "[" + host + "]" : host;
}

// A DNS name or an IPv4 address; anything else (spaces, '%', '\\', ...)
// could not have been meant as a host.
std::optional<std::string> check_host(std::string_view host) {
  if (host.empty()) {
    return std::string("has no host");
  }
  if (host.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789.-_") !=
      std::string_view::npos) {
    return "has an invalid host \"" + std::string(host) + "\"";
  }
  if (host.find_first_not_of("0123456789.") == std::string_view::npos) {
    ErrorCode ec;
    asio::ip::make_address_v4(std::string(host), ec);
    if (ec) return "has an invalid IPv4 address \"" + std::string(host) + "\"";
  }
  return std::nullopt;
}

std::optional<std::string> check_port(std::string_view port) {
  unsigned number = 0;
  const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), number);
  if (port.empty() || ec != std::errc() || end != port.data() + port.size() || number == 0 ||
      number > 65535) {
    return "has an invalid port \"" + std::string(port) + "\"";
  }
  return std::nullopt;
}

// Characters a path prefix may hold as written: RFC 3986's pchar and '/'.
bool is_path_char(char c) {
  const auto u = static_cast<unsigned char>(c);
  if ((u >= 'A' && u <= 'Z') || (u >= 'a' && u <= 'z') || (u >= '0' && u <= '9')) return true;
  return std::string_view("/-._~%!$&'()*+,;=:@").find(c) != std::string_view::npos;
}

// http(s)://host[:port][/prefix]: a host as DNS name, IPv4 or bracketed IPv6
// address; no user information, query or fragment (the client adds its own
// path and query after the prefix). The error says what is wrong.
std::variant<PromAddress, std::string> parse_address(std::string_view text) {
  const std::string shown = "Prometheus address \"" + std::string(text) + "\" ";
  PromAddress address;
  std::string_view rest = text;
  if (rest.substr(0, 8) == "https://") {
    address.tls = true;
    rest.remove_prefix(8);
  } else if (rest.substr(0, 7) == "http://") {
    rest.remove_prefix(7);
  } else {
    return shown + "must start with http:// or https://";
  }
  const auto slash = rest.find('/');
  const std::string_view authority = rest.substr(0, slash);
  std::string_view path = slash == std::string_view::npos ? std::string_view() : rest.substr(slash);
  if (authority.find('@') != std::string_view::npos) {
    return shown + "carries user information; give a bearer token instead";
  }
  std::string_view port;
  if (!authority.empty() && authority.front() == '[') {
    const auto close = authority.find(']');
    if (close == std::string_view::npos) {
      return shown + "has an unterminated IPv6 address";
    }
    address.host = std::string(authority.substr(1, close - 1));
    ErrorCode ec;
    asio::ip::make_address_v6(address.host, ec);
    if (ec) {
      return shown + "has an invalid IPv6 address \"" + address.host + "\"";
    }
    const std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return shown + "has junk after its IPv6 address";
      port = after.substr(1);
      if (auto error = check_port(port)) return shown + *error;
    }
  } else {
    const auto colon = authority.find(':');
    if (colon != std::string_view::npos &&
        authority.find(':', colon + 1) != std::string_view::npos) {
      return shown + "has an IPv6 address without brackets; write e.g. http://[::1]:9090";
    }
    const std::string_view host = authority.substr(0, colon);
    if (auto error = check_host(host)) return shown + *error;
    address.host = std::string(host);
    if (colon != std::string_view::npos) {
      port = authority.substr(colon + 1);
      if (auto error = check_port(port)) return shown + *error;
    }
  }
  address.port = !port.empty() ? std::string(port) : address.tls ? "443" : "80";
  while (!path.empty() && path.back() == '/') {
    path.remove_suffix(1);
  }
  if (!std::all_of(path.begin(), path.end(), is_path_char)) {
    return shown +
           "has a path with a query, fragment or invalid character; give "
           "scheme, host, port and path prefix only";
  }
  address.path_prefix = std::string(path);
  return address;
}

// Seconds since the epoch with milliseconds, as Prometheus's time parameter
// takes them ("1700000000.123").
std::string unix_time_text(std::chrono::system_clock::time_point at) {
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(at.time_since_epoch());
  const std::int64_t count = ms.count();
  const std::uint64_t magnitude = count < 0 ? std::uint64_t{0} - static_cast<std::uint64_t>(count)
                                            : static_cast<std::uint64_t>(count);
  std::string millis = std::to_string(magnitude % 1000);
  millis.insert(0, 3 - millis.size(), '0');
  return (count < 0 ? "-" : "") + std::to_string(magnitude / 1000) + "." + millis;
}

std::string duration_text(std::chrono::milliseconds d) {
  if (d.count() % 1000 == 0) {
    return std::to_string(d.count() / 1000) + "s";
  }
  return std::to_string(d.count()) + "ms";
}

std::string exception_text(const std::exception_ptr& error) {
  try {
    std::rethrow_exception(error);
  } catch (const std::exception& e) {
    return e.what();
  } catch (...) {
    return "unknown exception";
  }
}

// One query: its connection, the deadline that closes it, and the answer.
class Call {
 public:
  Call(const PromClientOptions& options, const PromEndpoint& endpoint, PromAddress address,
       http::request<http::empty_body> request)
      : options_(options),
        where_("Prometheus at " + endpoint.address),
        address_(std::move(address)),
        request_(std::move(request)) {
    tls_config_.server = endpoint.address;
    tls_config_.host = address_.host;
    tls_config_.port = address_.port;
    tls_config_.ca_pem = endpoint.ca_pem;
    tls_config_.description = where_;
  }

  PromResult run() {
    PromResult result;
    deadline_.expires_after(options_.timeout);
    deadline_.async_wait([this](const ErrorCode& ec) {
      if (!ec) expire();
    });
    asio::co_spawn(
        io_, exchange(), [this, &result](const std::exception_ptr& error, PromResult answer) {
          deadline_.cancel();
          result = error ? failure("querying " + where_ + " failed: " + exception_text(error))
                         : std::move(answer);
        });
    io_.run();
    return result;
  }

 private:
  // The deadline passed: whatever is in progress ends with operation_aborted,
  // and the coroutine reports the timeout. (Except a getaddrinfo() already
  // running on Asio's resolver thread: it cannot be interrupted, so a stuck
  // DNS server can stretch the call to the system resolver's own timeout.)
  void expire() {
    timed_out_ = true;
    resolver_.cancel();
    if (plain_) plain_->close();
    if (tls_stream_) beast::get_lowest_layer(*tls_stream_).close();
  }

  PromResult timeout() const {
    return failure("no answer from " + where_ + " within " + duration_text(options_.timeout));
  }

  asio::awaitable<PromResult> exchange() {
    ErrorCode ec;
    if (address_.tls) {
      // Before any packet: an unusable CA is the configuration's fault.
      try {
        tls_context_.emplace(make_tls_context(tls_config_));
      } catch (const std::exception& e) {
        co_return failure(e.what());
      }
    }
    const auto endpoints =
        co_await resolver_.async_resolve(address_.host, address_.port, redirect(ec));
    if (timed_out_) co_return timeout();
    if (ec) {
      co_return failure("cannot resolve the host of " + where_ + ": " + ec.message());
    }
    if (!address_.tls) {
      plain_.emplace(io_);
      co_await plain_->async_connect(endpoints, redirect(ec));
      if (timed_out_) co_return timeout();
      if (ec) co_return failure(where_ + " is unreachable: " + ec.message());
      co_return co_await send_and_read(*plain_);
    }
    tls_stream_.emplace(io_, *tls_context_);
    co_await beast::get_lowest_layer(*tls_stream_).async_connect(endpoints, redirect(ec));
    if (timed_out_) co_return timeout();
    if (ec) co_return failure(where_ + " is unreachable: " + ec.message());
    if (!prepare_tls_connection(tls_stream_->native_handle(), tls_config_)) {
      co_return failure("TLS server name \"" + tls_peer_name(tls_config_) + "\" of " + where_ +
                        " is not usable");
    }
    co_await tls_stream_->async_handshake(ssl::stream_base::client, redirect(ec));
    if (timed_out_) co_return timeout();
    if (ec) {
      co_return failure("TLS handshake with " + where_ + " failed: " +
                        describe_tls_failure(tls_stream_->native_handle(), ec, tls_config_));
    }
    co_return co_await send_and_read(*tls_stream_);
  }

  template <typename Stream>
  asio::awaitable<PromResult> send_and_read(Stream& stream) {
    ErrorCode ec;
    co_await http::async_write(stream, request_, redirect(ec));
    if (timed_out_) co_return timeout();
    if (ec) co_return failure("sending the query to " + where_ + " failed: " + read_error(ec));
    beast::flat_buffer buffer;
    http::response_parser<http::string_body> parser;
    parser.header_limit(kMaxHeaderBytes);
    parser.body_limit(static_cast<std::uint64_t>(options_.max_body_bytes));
    // Header first: Beast 1.74's eager parsing forgets a Content-Length over
    // body_limit, while a header-only read reports it.
    co_await http::async_read_header(stream, buffer, parser, redirect(ec));
    if (!ec) {
      co_await http::async_read(stream, buffer, parser, redirect(ec));
    }
    if (timed_out_) co_return timeout();
    if (ec == http::error::body_limit) {
      co_return failure(where_ + " sent an answer larger than " +
                        std::to_string(options_.max_body_bytes) + " bytes");
    }
    // A TLS peer that closes without close_notify reads as stream_truncated.
    const bool closed = ec == http::error::end_of_stream || ec == http::error::partial_message ||
                        ec == ssl::error::stream_truncated;
    if (closed && !parser.got_some()) {
      co_return failure(where_ + " closed the connection without answering");
    }
    if (closed) {
      co_return failure(where_ + " closed the connection in the middle of its answer (" +
                        read_error(ec) + ")");
    }
    if (ec && ec.category() == ErrorCode(http::error::bad_version).category()) {
      co_return failure(where_ + " sent something that is not an HTTP answer (" + ec.message() +
                        ")");
    }
    if (ec) {
      co_return failure("reading the answer of " + where_ + " failed: " + read_error(ec));
    }
    co_return parse_prom_response(static_cast<int>(parser.get().result_int()), parser.get().body());
  }

  std::string read_error(const ErrorCode& ec) {
    const SSL* ssl = tls_stream_ ? tls_stream_->native_handle() : nullptr;
    return describe_tls_failure(ssl, ec, tls_config_);
  }

  const PromClientOptions& options_;
  const std::string where_;  // "Prometheus at <address>", for messages
  const PromAddress address_;
  const http::request<http::empty_body> request_;
  ClusterConfig tls_config_;  // what tls.hpp needs to know of this server
  asio::io_context io_{1};
  asio::steady_timer deadline_{io_};
  tcp::resolver resolver_{io_};
  // The context before the stream that uses it, so it outlives the stream.
  std::optional<ssl::context> tls_context_;
  std::optional<beast::tcp_stream> plain_;
  std::optional<beast::ssl_stream<beast::tcp_stream>> tls_stream_;
  bool timed_out_ = false;
};

bool has_control_char(std::string_view text) {
  return std::any_of(text.begin(), text.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return u < 0x20 || u == 0x7f;
  });
}

class PromClient final : public PromQuerier {
 public:
  explicit PromClient(PromClientOptions options)
      : options_(std::move(options)),
        user_agent_(options_.user_agent.empty()
                        ? std::string("cd4ml-operator/") + std::string(util::version())
                        : options_.user_agent) {}

  PromResult query(const PromEndpoint& endpoint, const std::string& promql,
                   std::chrono::system_clock::time_point at) override {
    try {
      auto parsed = parse_address(endpoint.address);
      if (auto* error = std::get_if<std::string>(&parsed)) {
        return failure(std::move(*error));
      }
      auto& address = std::get<PromAddress>(parsed);
      if (!endpoint.bearer_token.empty() && !address.tls) {
        return failure("a bearer token is only sent over https; Prometheus address \"" +
                       endpoint.address + "\" is plain http");
      }
      // A CA asked for means the user expects a verified server: plain
      // http would silently give them neither.
      if (!endpoint.ca_pem.empty() && !address.tls) {
        return failure("a CA is only used over https; Prometheus address \"" + endpoint.address +
                       "\" is plain http");
      }
      if (has_control_char(endpoint.bearer_token)) {
        return failure("the bearer token for Prometheus at " + endpoint.address +
                       " contains a control character (a trailing newline?)");
      }
      auto request = build_request(address, endpoint.bearer_token, promql, at);
      Call call(options_, endpoint, std::move(address), std::move(request));
      return call.run();
    } catch (const std::exception& e) {
      return failure("querying Prometheus at " + endpoint.address + " failed: " + e.what());
    }
  }

 private:
  http::request<http::empty_body> build_request(const PromAddress& address,
                                                const std::string& token, const std::string& promql,
                                                std::chrono::system_clock::time_point at) const {
    http::request<http::empty_body> request;
    request.version(11);
    request.method(http::verb::get);
    request.target(address.path_prefix + "/api/v1/query?query=" + url_encode(promql) +
                   "&time=" + unix_time_text(at));
    const bool default_port = address.port == (address.tls ? "443" : "80");
    request.set(http::field::host, default_port ? bracketed(address.host)
                                                : bracketed(address.host) + ":" + address.port);
    request.set(http::field::user_agent, user_agent_);
    request.set(http::field::accept, "application/json");
    if (!token.empty()) {
      request.set(http::field::authorization, "Bearer " + token);
    }
    // One query per connection: the server may close it after answering.
    request.keep_alive(false);
    return request;
  }

  const PromClientOptions options_;
  const std::string user_agent_;
};

}  // namespace

std::unique_ptr<PromQuerier> make_prom_client(PromClientOptions options) {
  return std::make_unique<PromClient>(std::move(options));
}

}  // namespace cd4ml::kube
