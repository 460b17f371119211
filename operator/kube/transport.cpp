#include "operator/kube/transport.hpp"

#include <algorithm>
#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <limits>
#include <list>
#include <stdexcept>
#include <vector>

#include "operator/kube/errors.hpp"
#include "operator/kube/tls.hpp"
#include "operator/util/build_info.hpp"
#include "operator/util/clock.hpp"
#include "operator/util/token_bucket.hpp"

namespace cd4ml::kube {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using SteadyClock = std::chrono::steady_clock;
using ErrorCode = boost::system::error_code;

// Longest wait a Retry-After header can impose on one retry. client-go waits
// whatever the server says; the API server sends 1 s (priority and fairness)
// or a few seconds, so 10 s keeps the server's pacing while a bogus value
// cannot park a reconcile worker for minutes.
constexpr std::chrono::seconds kMaxRetryAfterWait{10};
// Go's http.Transport IdleConnTimeout: older idle connections are likely
// closed by the server or a load balancer, so they are not reused.
constexpr std::chrono::seconds kIdleConnectionTtl{90};
// Error bodies of streams are Status objects; anything longer is truncated.
constexpr std::size_t kMaxErrorBodyBytes = std::size_t{1024} * 1024;
// Beast's default (8 KiB) is too small for responses with many Warning or
// audit headers.
constexpr std::uint32_t kMaxHeaderBytes = 64u * 1024u;
constexpr std::size_t kStreamReadBytes = std::size_t{64} * 1024;

auto redirect(ErrorCode& ec) {
  return asio::redirect_error(asio::use_awaitable, ec);
}

// What a shutdown must interrupt: sockets in use and timers being waited on.
// Used on the io thread only, so it needs no lock.
class AbortList {
 public:
  using Abort = std::function<void()>;

  class Entry {
   public:
    Entry(AbortList& list, Abort abort)
        : list_(list), it_(list.items_.insert(list.items_.end(), std::move(abort))) {}
    ~Entry() { list_.items_.erase(it_); }
    Entry(const Entry&) = delete;
    Entry& operator=(const Entry&) = delete;

   private:
    AbortList& list_;
    std::list<Abort>::iterator it_;
  };

  // Aborts only close or cancel; their handlers run later, so no entry is
  // removed during the loop.
  void abort_all() {
    for (auto& abort : items_) {
      abort();
    }
  }

 private:
  std::list<Abort> items_;
};

struct Connection {
  Connection(asio::io_context& io, ssl::context& tls, AbortList& aborts)
      : stream(io, tls), abort_entry(aborts, [this] { close(); }) {}

  beast::tcp_stream& tcp() { return beast::get_lowest_layer(stream); }
  void close() { tcp().close(); }

  beast::ssl_stream<beast::tcp_stream> stream;
  beast::flat_buffer buffer;
  SteadyClock::time_point idle_since{};
  AbortList::Entry abort_entry;
};

// The peer closed or reset the connection: what a keep-alive connection that
// the server timed out looks like when we next use it.
bool is_connection_closed(const ErrorCode& ec) {
  return ec == asio::error::eof || ec == http::error::end_of_stream ||
         ec == asio::error::connection_reset || ec == asio::error::broken_pipe ||
         ec == ssl::error::stream_truncated;
}

// Retry-After in seconds (the only form the API server sends; an HTTP date
// is ignored, as client-go does).
std::optional<std::chrono::seconds> parse_retry_after(std::string_view value) {
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) {
    value.remove_prefix(1);
  }
  while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) {
    value.remove_suffix(1);
  }
  if (value.empty() ||
      !std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return std::nullopt;
  }
  constexpr std::size_t kMaxDigits = 9;  // beyond any sane value; clamped below anyway
  if (value.size() > kMaxDigits) {
    return std::chrono::seconds(999'999'999);
  }
  return std::chrono::seconds(std::stol(std::string(value)));
}

// client-go retries only responses that ask for it.
bool server_asked_to_retry(const HttpResponse& response) {
  return (response.status == 429 || response.status >= 500) && response.retry_after.has_value();
}

std::string strip_brackets(const std::string& host) {
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    return host.substr(1, host.size() - 2);
  }
  return host;
}

std::string bracket_ipv6(const std::string& host) {
  return host.find(':') != std::string::npos ? "[" + host + "]" : host;
}

std::string join_target(const std::string& prefix, const std::string& target) {
  if (prefix.empty()) {
    return target;
  }
  if (prefix.back() == '/' && !target.empty() && target.front() == '/') {
    return prefix + target.substr(1);
  }
  return prefix + target;
}

std::string milliseconds_text(std::chrono::milliseconds d) {
  return std::to_string(d.count()) + "ms";
}

}  // namespace

struct Transport::Impl {
  Impl(asio::io_context& io_context, ClusterConfig cluster, const util::Clock& time,
       TransportOptions opts)
      : io(io_context),
        clock(time),
        config(std::move(cluster)),
        options(std::move(opts)),
        dial_host(strip_brackets(config.host)),
        authority(bracket_ipv6(dial_host) + ":" + config.port),
        host_header(config.port == "443" ? bracket_ipv6(dial_host) : authority),
        user_agent(options.user_agent.empty()
                       ? std::string("cd4ml-operator/") + std::string(util::version())
                       : options.user_agent),
        tls(make_tls_context(config)),
        bucket(options.qps, options.burst, clock) {}

  asio::io_context& io;
  const util::Clock& clock;
  const ClusterConfig config;
  const TransportOptions options;
  const std::string dial_host;
  const std::string authority;  // host:port, for error messages
  const std::string host_header;
  const std::string user_agent;
  ssl::context tls;
  util::TokenBucket bucket;
  std::atomic<bool> shut_down{false};
  // io thread only. aborts is declared before idle: idle connections remove
  // themselves from it when destroyed.
  AbortList aborts;
  std::vector<std::unique_ptr<Connection>> idle;

  static ApiError shut_down_error() {
    return ApiError(ErrorKind::Transport, 0, "", "transport shut down");
  }

  void throw_if_shut_down() const {
    if (shut_down) {
      throw shut_down_error();
    }
  }

  ApiError io_error(const ErrorCode& ec, std::string_view doing, Connection* conn,
                    std::chrono::milliseconds timeout) const {
    if (shut_down) {
      return shut_down_error();
    }
    const std::string subject = std::string(doing) + " " + authority;
    if (ec == beast::error::timeout) {
      return ApiError(ErrorKind::Timeout, 0, "",
                      subject + " timed out after " + milliseconds_text(timeout));
    }
    if (ec == http::error::body_limit) {
      return ApiError(ErrorKind::Other, 0, "",
                      "response from " + authority + " is larger than the limit of " +
                          std::to_string(options.max_body_bytes) + " bytes");
    }
    const SSL* ssl = conn != nullptr ? conn->stream.native_handle() : nullptr;
    std::string reason = describe_tls_failure(ssl, ec, config);
    if (is_connection_closed(ec)) {
      reason = "connection closed by the server (" + reason + ")";
    }
    return ApiError(ErrorKind::Transport, 0, "", subject + ": " + reason);
  }

  void observe(const HttpRequest& req, int status, SteadyClock::duration latency) const {
    if (options.observer != nullptr) {
      options.observer->on_request(req.verb, req.resource, status,
                                   std::chrono::duration_cast<std::chrono::nanoseconds>(latency));
    }
  }

  http::request<http::string_body> build_message(const HttpRequest& req) const {
    http::request<http::string_body> message;
    message.version(11);
    message.method_string(req.method);
    message.target(join_target(config.path_prefix, req.target));
    message.set(http::field::host, host_header);
    message.set(http::field::user_agent, user_agent);
    if (!req.accept.empty()) {
      message.set(http::field::accept, req.accept);
    }
    if (config.token) {
      // Asked on every request so that a rotated service-account token is
      // picked up without a restart.
      std::string token;
      try {
        token = config.token->token(clock.now());
      } catch (const std::exception& e) {
        throw ApiError(ErrorKind::Other, 0, "",
                       std::string("cannot read the bearer token: ") + e.what());
      }
      if (!token.empty()) {
        message.set(http::field::authorization, "Bearer " + token);
      }
    }
    if (!req.content_type.empty()) {
      message.set(http::field::content_type, req.content_type);
    }
    message.body() = req.body;
    message.prepare_payload();
    return message;
  }

  // Waits on a timer that shutdown() can cut short.
  asio::awaitable<void> sleep(SteadyClock::duration duration) {
    throw_if_shut_down();
    asio::steady_timer timer(io, duration);
    AbortList::Entry entry(aborts, [&timer] { timer.cancel(); });
    ErrorCode ec;
    co_await timer.async_wait(redirect(ec));
    throw_if_shut_down();
  }

  asio::awaitable<void> throttle() {
    const auto wait = bucket.reserve();
    if (wait <= std::chrono::nanoseconds::zero()) {
      co_return;
    }
    co_await sleep(wait);
    if (options.observer != nullptr) {
      options.observer->on_rate_limited(wait);
    }
  }

  asio::awaitable<tcp::resolver::results_type> resolve(std::chrono::milliseconds timeout) {
    tcp::resolver resolver(io);
    AbortList::Entry entry(aborts, [&resolver] { resolver.cancel(); });
    ErrorCode ec;
    auto results = co_await resolver.async_resolve(dial_host, config.port, redirect(ec));
    if (ec) {
      throw io_error(ec, "resolving", nullptr, timeout);
    }
    co_return results;
  }

  asio::awaitable<std::unique_ptr<Connection>> connect(SteadyClock::time_point deadline,
                                                       std::chrono::milliseconds timeout) {
    throw_if_shut_down();
    const auto endpoints = co_await resolve(timeout);
    throw_if_shut_down();
    auto conn = std::make_unique<Connection>(io, tls, aborts);
    expire_at(*conn, deadline);
    ErrorCode ec;
    co_await conn->tcp().async_connect(endpoints, redirect(ec));
    if (ec) {
      throw io_error(ec, "connecting to", nullptr, timeout);
    }
    if (!prepare_tls_connection(conn->stream.native_handle(), config)) {
      throw ApiError(ErrorKind::Transport, 0, "",
                     "TLS server name \"" + tls_peer_name(config) + "\" is not usable");
    }
    co_await conn->stream.async_handshake(ssl::stream_base::client, redirect(ec));
    if (ec) {
      throw io_error(ec, "TLS handshake with", conn.get(), timeout);
    }
    co_return conn;
  }

  // Beast's timers run on the real steady clock; deadlines come from ours.
  void expire_at(Connection& conn, SteadyClock::time_point deadline) const {
    conn.tcp().expires_after(deadline - clock.now());
  }

  std::unique_ptr<Connection> take_idle() {
    const auto now = clock.now();
    while (!idle.empty()) {
      auto conn = std::move(idle.back());
      idle.pop_back();
      if (now - conn->idle_since < kIdleConnectionTtl) {
        return conn;
      }
    }
    return nullptr;
  }

  void release(std::unique_ptr<Connection> conn) {
    // Leftover bytes would be read as the next response: never reuse those.
    if (shut_down || conn->buffer.size() != 0 || idle.size() >= options.max_idle_connections) {
      return;
    }
    conn->idle_since = clock.now();
    idle.push_back(std::move(conn));
  }

  struct Exchange {
    ErrorCode ec;
    std::string_view doing;
    bool stale = false;  // the peer had closed before any response byte arrived
    bool keep_alive = false;
    HttpResponse response;
  };

  asio::awaitable<Exchange> exchange(Connection& conn,
                                     const http::request<http::string_body>& message,
                                     SteadyClock::time_point deadline) {
    Exchange result;
    expire_at(conn, deadline);
    co_await http::async_write(conn.stream, message, redirect(result.ec));
    if (result.ec) {
      result.doing = "sending request to";
      result.stale = is_connection_closed(result.ec);
      co_return result;
    }
    http::response_parser<http::string_body> parser;
    parser.header_limit(kMaxHeaderBytes);
    parser.body_limit(static_cast<std::uint64_t>(options.max_body_bytes));
    // Header first: Beast 1.74's eager parsing forgets a Content-Length over
    // body_limit, while a header-only read reports it.
    co_await http::async_read_header(conn.stream, conn.buffer, parser, redirect(result.ec));
    if (!result.ec) {
      co_await http::async_read(conn.stream, conn.buffer, parser, redirect(result.ec));
    }
    if (result.ec) {
      result.doing = "reading response from";
      result.stale = !parser.got_some() && is_connection_closed(result.ec);
      co_return result;
    }
    auto& res = parser.get();
    result.keep_alive = res.keep_alive();
    result.response.status = static_cast<int>(res.result_int());
    result.response.content_type = std::string(res[http::field::content_type]);
    result.response.retry_after = parse_retry_after(res[http::field::retry_after]);
    result.response.body = std::move(res.body());
    co_return result;
  }

  // One attempt: a response, or ApiError when none arrived.
  asio::awaitable<HttpResponse> attempt(const HttpRequest& req) {
    const auto deadline = clock.now() + req.timeout;
    const auto message = build_message(req);
    std::unique_ptr<Connection> conn = take_idle();
    const bool reused = conn != nullptr;
    if (!conn) {
      conn = co_await connect(deadline, req.timeout);
    }
    Exchange result = co_await exchange(*conn, message, deadline);
    if (result.ec && result.stale && reused && !shut_down) {
      // The server closed this idle connection before our request reached
      // it, so sending the request again cannot apply it twice.
      conn = co_await connect(deadline, req.timeout);
      result = co_await exchange(*conn, message, deadline);
    }
    if (result.ec) {
      throw io_error(result.ec, result.doing, conn.get(), req.timeout);
    }
    if (result.keep_alive) {
      release(std::move(conn));
    }
    co_return std::move(result.response);
  }

  asio::awaitable<HttpResponse> request(HttpRequest req) {
    for (int retries = 0;; ++retries) {
      throw_if_shut_down();
      co_await throttle();
      const auto start = clock.now();
      HttpResponse response;
      try {
        response = co_await attempt(req);
      } catch (const ApiError&) {
        observe(req, 0, clock.now() - start);
        throw;
      }
      observe(req, response.status, clock.now() - start);
      if (!server_asked_to_retry(response) || retries >= options.max_retries) {
        co_return response;
      }
      co_await sleep(std::min<SteadyClock::duration>(*response.retry_after, kMaxRetryAfterWait));
    }
  }

  // Reads the body of a streamed response piece by piece as bytes arrive,
  // until its end or until on_piece returns false. The idle timeout restarts
  // for every read.
  asio::awaitable<void> read_body(Connection& conn,
                                  http::response_parser<http::buffer_body>& parser,
                                  std::chrono::milliseconds idle_timeout,
                                  const std::function<bool(std::string_view)>& on_piece) {
    std::vector<char> piece(kStreamReadBytes);
    while (!parser.is_done()) {
      auto& body = parser.get().body();
      body.data = piece.data();
      body.size = piece.size();
      conn.tcp().expires_after(idle_timeout);
      ErrorCode ec;
      // read_some, not read: it returns as soon as some body was parsed,
      // where read would wait for the buffer to fill.
      co_await http::async_read_some(conn.stream, conn.buffer, parser, redirect(ec));
      if (ec == http::error::need_buffer) {
        ec = {};
      }
      if (ec) {
        throw io_error(ec, "reading stream from", &conn, idle_timeout);
      }
      const std::size_t received = piece.size() - parser.get().body().size;
      if (received > 0 && !on_piece(std::string_view(piece.data(), received))) {
        co_return;
      }
    }
  }

  asio::awaitable<void> stream(HttpRequest req, StreamHandler handler) {
    throw_if_shut_down();
    co_await throttle();
    const auto start = clock.now();
    bool observed = false;
    const auto cancel = handler.cancel;
    try {
      const auto message = build_message(req);
      const auto connect_timeout = std::min(req.timeout, options.stream_connect_timeout);
      auto conn = co_await connect(start + connect_timeout, connect_timeout);
      // Detaches on every way out of this scope, before conn goes away.
      struct Detach {
        std::shared_ptr<StreamCancel> cancel;
        ~Detach() {
          if (cancel) cancel->detach();
        }
      } detach{cancel};
      if (cancel && !cancel->attach(io, [raw = conn.get()] { raw->close(); })) co_return;
      ErrorCode ec;
      conn->tcp().expires_after(req.timeout);
      co_await http::async_write(conn->stream, message, redirect(ec));
      if (ec) {
        throw io_error(ec, "sending request to", conn.get(), req.timeout);
      }
      http::response_parser<http::buffer_body> parser;
      parser.header_limit(kMaxHeaderBytes);
      // A watch lasts as long as the server keeps it open. (Not boost::none:
      // Beast 1.74 then rejects every Content-Length body.)
      parser.body_limit(std::numeric_limits<std::uint64_t>::max());
      conn->tcp().expires_after(req.timeout);
      co_await http::async_read_header(conn->stream, conn->buffer, parser, redirect(ec));
      if (ec) {
        throw io_error(ec, "reading response from", conn.get(), req.timeout);
      }
      const int status = static_cast<int>(parser.get().result_int());
      observe(req, status, clock.now() - start);
      observed = true;
      if (handler.on_status) {
        handler.on_status(status);
      }
      if (status >= 200 && status <= 299) {
        const std::function<bool(std::string_view)> deliver = [&handler](std::string_view data) {
          if (handler.on_data) {
            handler.on_data(data);
          }
          return true;
        };
        co_await read_body(*conn, parser, req.timeout, deliver);
        co_return;
      }
      HttpResponse response;
      response.status = status;
      response.content_type = std::string(parser.get()[http::field::content_type]);
      response.retry_after = parse_retry_after(parser.get()[http::field::retry_after]);
      std::string& body = response.body;
      const std::function<bool(std::string_view)> collect = [&body](std::string_view data) {
        body.append(data.substr(0, kMaxErrorBodyBytes - body.size()));
        return body.size() < kMaxErrorBodyBytes;
      };
      co_await read_body(*conn, parser, req.timeout, collect);
      if (handler.on_error_body) {
        handler.on_error_body(std::move(response));
      }
    } catch (const ApiError&) {
      if (cancel && cancel->cancelled()) co_return;  // the socket was closed on purpose
      if (!observed) {
        observe(req, 0, clock.now() - start);
      }
      throw;
    }
  }

  // Runs on the io thread.
  void close_everything() {
    idle.clear();
    aborts.abort_all();
  }
};

void StreamCancel::cancel() {
  std::lock_guard lock(mutex_);
  if (cancelled_) return;
  cancelled_ = true;
  if (io_ != nullptr) {
    asio::post(*io_, [self = shared_from_this()] {
      if (self->close_) self->close_();
    });
  }
}

bool StreamCancel::cancelled() const {
  std::lock_guard lock(mutex_);
  return cancelled_;
}

bool StreamCancel::attach(asio::io_context& io, std::function<void()> close) {
  std::lock_guard lock(mutex_);
  if (cancelled_) return false;
  io_ = &io;
  close_ = std::move(close);
  return true;
}

void StreamCancel::detach() {
  std::lock_guard lock(mutex_);
  io_ = nullptr;
  close_ = nullptr;
}

Transport::Transport(asio::io_context& io, ClusterConfig config, const util::Clock& clock,
                     TransportOptions options)
    : impl_(std::make_shared<Impl>(io, std::move(config), clock, std::move(options))) {}

Transport::~Transport() {
  shutdown();
}

asio::awaitable<HttpResponse> Transport::request(HttpRequest req) {
  // The coroutine may outlive a suspended caller's view of this object; the
  // shared Impl keeps sockets and timers valid until it ends.
  const auto impl = impl_;
  co_return co_await impl->request(std::move(req));
}

asio::awaitable<void> Transport::stream(HttpRequest req, StreamHandler handler) {
  const auto impl = impl_;
  co_await impl->stream(std::move(req), std::move(handler));
}

HttpResponse Transport::request_sync(HttpRequest req) {
  if (impl_->io.get_executor().running_in_this_thread()) {
    throw std::logic_error(
        "Transport::request_sync called on the io thread; it would wait forever");
  }
  impl_->throw_if_shut_down();
  if (impl_->io.stopped()) {
    throw ApiError(ErrorKind::Transport, 0, "", "transport's io_context is not running");
  }
  auto result = asio::co_spawn(
      impl_->io,
      [impl = impl_, req = std::move(req)]() mutable -> asio::awaitable<HttpResponse> {
        co_return co_await impl->request(std::move(req));
      },
      asio::use_future);
  return result.get();
}

void Transport::shutdown() {
  if (impl_->shut_down.exchange(true)) {
    return;
  }
  asio::post(impl_->io, [impl = impl_] { impl->close_everything(); });
}

const ClusterConfig& Transport::config() const {
  return impl_->config;
}

asio::io_context& Transport::io_context() {
  return impl_->io;
}

}  // namespace cd4ml::kube
