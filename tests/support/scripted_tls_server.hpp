#pragma once
// A TLS server on 127.0.0.1 (port chosen by the kernel) that plays a script
// on every connection it accepts, byte by byte where a test needs it.
//
// It exists only for wire-level faults a real API server cannot be made to
// produce on demand: an event split across chunks at odd places, a connection
// cut in the middle of a line, a stalled stream, a keep-alive connection
// closed under the client, 429/503 with Retry-After, a certificate for the
// wrong name or from the wrong CA. Talking to a real API server is what the
// e2e tests do.
//
// Each connection is served by its own thread with blocking I/O, so a script
// reads like the conversation it plays. The destructor unblocks and joins
// every thread.

#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <sys/socket.h>

#include <utility>
// Boost headers after <utility> (Boost 1.74 needs it first).
#include <boost/asio/buffer.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http/status.hpp>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "support/guarded.hpp"
#include "support/test_pki.hpp"

namespace cd4ml::test_support {

using Headers = std::vector<std::pair<std::string, std::string>>;

struct ReceivedRequest {
  int connection = 0;  // index of the connection it came on, in accept order
  std::string method;
  std::string target;
  std::string body;
  std::map<std::string, std::string> headers;  // names in lower case

  std::string header(const std::string& name) const {
    const auto it = headers.find(name);
    return it == headers.end() ? std::string() : it->second;
  }
  bool has_header(const std::string& name) const { return headers.count(name) != 0; }
};

struct ConnectionInfo {
  int index = 0;
  std::string sni;                 // name the client sent in SNI; empty when none
  std::string client_common_name;  // CN of the client's certificate; empty when none
};

// Everything the server saw, for tests to assert on.
struct ServerLog {
  int accepted = 0;    // TCP connections accepted
  int handshakes = 0;  // TLS handshakes completed
  int closed = 0;      // connections the server has finished with (handshake failures too)
  std::vector<std::string> handshake_errors;
  std::vector<ConnectionInfo> connections;
  std::vector<ReceivedRequest> requests;
  std::set<std::string> open_gates;
  bool stopping = false;
};

class ServerConnection {
 public:
  using TlsStream = boost::asio::ssl::stream<boost::asio::ip::tcp::socket>;

  ServerConnection(TlsStream& stream, Guarded<ServerLog>& log, int index,
                   std::function<void()> close_socket)
      : stream_(stream), log_(log), index_(index), close_socket_(std::move(close_socket)) {}

  int index() const { return index_; }

  // The next request on this connection; nullopt once the client closed it.
  // Parsed by hand rather than with Beast, so that the client's use of Beast
  // is checked against an independent reading of the bytes.
  std::optional<ReceivedRequest> read_request() {
    std::size_t header_end;
    while ((header_end = pending_.find("\r\n\r\n")) == std::string::npos) {
      if (pending_.size() > kMaxHeaderBytes || !read_more()) {
        return std::nullopt;
      }
    }
    std::istringstream head(pending_.substr(0, header_end));
    pending_.erase(0, header_end + 4);

    ReceivedRequest request;
    request.connection = index_;
    std::string line;
    std::getline(head, line);
    std::istringstream request_line(line);
    std::string version;
    request_line >> request.method >> request.target >> version;
    while (std::getline(head, line)) {
      if (!line.empty() && line.back() == '\r') {
        line.pop_back();
      }
      const auto colon = line.find(':');
      if (colon == std::string::npos) {
        continue;
      }
      std::string name = line.substr(0, colon);
      for (char& c : name) {
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      }
      const auto value_start = line.find_first_not_of(" \t", colon + 1);
      request.headers[name] = value_start == std::string::npos ? "" : line.substr(value_start);
    }
    const std::size_t length =
        request.has_header("content-length") ? std::stoul(request.header("content-length")) : 0;
    while (pending_.size() < length) {
      if (!read_more()) {
        return std::nullopt;
      }
    }
    request.body = pending_.substr(0, length);
    pending_.erase(0, length);
    log_.update([&](ServerLog& log) { log.requests.push_back(request); });
    return request;
  }

  // Sends bytes as one TLS record (for writes under 16 KiB); false if the
  // client is gone.
  bool write(std::string_view bytes) {
    boost::system::error_code ec;
    boost::asio::write(stream_, boost::asio::buffer(bytes.data(), bytes.size()), ec);
    return !ec;
  }

  // A complete response with Content-Length.
  bool respond(int status, std::string_view body = {}, const Headers& headers = {},
               bool keep_alive = true) {
    std::string text = status_line(status) + "Content-Length: " + std::to_string(body.size()) +
                       "\r\n" + header_lines(headers);
    if (!keep_alive) {
      text += "Connection: close\r\n";
    }
    text += "\r\n";
    text += body;
    return write(text);
  }

  // Starts a chunked response; the body follows with chunk() and end_chunks().
  bool start_chunked(int status, const Headers& headers = {}) {
    return write(status_line(status) + "Transfer-Encoding: chunked\r\n" + header_lines(headers) +
                 "\r\n");
  }

  // One chunk, framed and sent as one TLS record.
  bool chunk(std::string_view data) {
    char size[32];
    std::snprintf(size, sizeof size, "%zx\r\n", data.size());
    std::string text = size;
    text += data;
    text += "\r\n";
    return write(text);
  }

  bool end_chunks() { return write("0\r\n\r\n"); }

  // Orderly close: TLS close_notify, then TCP FIN. Does not wait for the
  // client's close_notify (a client keeping the connection idle never sends it).
  void close_tls() {
    SSL_set_shutdown(stream_.native_handle(),
                     SSL_get_shutdown(stream_.native_handle()) | SSL_RECEIVED_SHUTDOWN);
    boost::system::error_code ec;
    stream_.shutdown(ec);
    close_socket_();
  }

  // Abrupt close: TCP FIN without close_notify, as when a process or a proxy dies.
  void cut() { close_socket_(); }

  // Reads and discards until the client closes the connection (or the server stops).
  void wait_for_client_close() {
    char discard[4096];
    boost::system::error_code ec;
    while (!ec) {
      stream_.read_some(boost::asio::buffer(discard), ec);
    }
  }

  // Waits until the test opens the named gate; false on timeout or server stop.
  bool wait_gate(const std::string& name,
                 std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    log_.wait_until(
        [&](const ServerLog& log) { return log.open_gates.count(name) || log.stopping; }, timeout);
    const auto log = log_.get();
    return log.open_gates.count(name) != 0;
  }

 private:
  static std::string status_line(int status) {
    namespace http = boost::beast::http;
    return "HTTP/1.1 " + std::to_string(status) + " " +
           std::string(http::obsolete_reason(http::int_to_status(static_cast<unsigned>(status)))) +
           "\r\n";
  }

  static std::string header_lines(const Headers& headers) {
    std::string text;
    bool has_content_type = false;
    for (const auto& [name, value] : headers) {
      text += name + ": " + value + "\r\n";
      has_content_type = has_content_type || name == "Content-Type";
    }
    if (!has_content_type) {
      text += "Content-Type: application/json\r\n";
    }
    return text;
  }

  bool read_more() {
    char data[16 * 1024];
    boost::system::error_code ec;
    const std::size_t n = stream_.read_some(boost::asio::buffer(data), ec);
    if (ec) {
      return false;
    }
    pending_.append(data, n);
    return true;
  }

  static constexpr std::size_t kMaxHeaderBytes = 1024 * 1024;

  TlsStream& stream_;
  Guarded<ServerLog>& log_;
  int index_;
  std::function<void()> close_socket_;
  std::string pending_;  // bytes read but not yet consumed
};

class ScriptedTlsServer {
 public:
  using Script = std::function<void(ServerConnection&)>;

  // identity: the server's certificate and key. client_ca_pem: when set, a
  // client certificate signed by it is required.
  ScriptedTlsServer(const PemPair& identity, Script script, const std::string& client_ca_pem = {})
      : script_(std::move(script)),
        tls_(boost::asio::ssl::context::tls_server),
        acceptor_(io_, {boost::asio::ip::make_address("127.0.0.1"), 0}) {
    tls_.use_certificate_chain(boost::asio::buffer(identity.cert));
    tls_.use_private_key(boost::asio::buffer(identity.key), boost::asio::ssl::context::pem);
    if (!client_ca_pem.empty()) {
      tls_.set_verify_mode(boost::asio::ssl::verify_peer |
                           boost::asio::ssl::verify_fail_if_no_peer_cert);
      tls_.add_certificate_authority(boost::asio::buffer(client_ca_pem));
    }
    accept_thread_ = std::thread([this] { accept_loop(); });
  }

  ~ScriptedTlsServer() {
    log_.update([](ServerLog& log) { log.stopping = true; });
    {
      // Wakes the blocking accept() so the loop sees `stopping`.
      boost::asio::ip::tcp::socket waker(io_);
      boost::system::error_code ec;
      waker.connect({boost::asio::ip::make_address("127.0.0.1"), port()}, ec);
    }
    accept_thread_.join();
    {
      std::lock_guard lock(mutex_);
      for (auto* socket : sockets_) {
        ::shutdown(socket->native_handle(), SHUT_RDWR);
      }
    }
    for (auto& thread : threads_) {
      thread.join();
    }
  }

  ScriptedTlsServer(const ScriptedTlsServer&) = delete;
  ScriptedTlsServer& operator=(const ScriptedTlsServer&) = delete;

  unsigned short port() const { return acceptor_.local_endpoint().port(); }

  ServerLog log() const { return log_.get(); }

  template <typename Predicate>
  bool wait_until(Predicate&& predicate,
                  std::chrono::milliseconds timeout = std::chrono::seconds(10)) const {
    return log_.wait_until(std::forward<Predicate>(predicate), timeout);
  }

  void open_gate(const std::string& name) {
    log_.update([&](ServerLog& log) { log.open_gates.insert(name); });
  }

 private:
  using TlsStream = ServerConnection::TlsStream;

  void accept_loop() {
    for (int index = 0;; ++index) {
      boost::asio::ip::tcp::socket socket(io_);
      boost::system::error_code ec;
      acceptor_.accept(socket, ec);
      if (log_.get().stopping || ec) {
        return;
      }
      log_.update([](ServerLog& log) { ++log.accepted; });
      std::lock_guard lock(mutex_);
      threads_.emplace_back(
          [this, index, s = std::move(socket)]() mutable { serve(std::move(s), index); });
    }
  }

  void serve(boost::asio::ip::tcp::socket socket, int index) {
    TlsStream stream(std::move(socket), tls_);
    {
      std::lock_guard lock(mutex_);
      sockets_.insert(&stream.next_layer());
    }
    const auto close_socket = [this, &stream] {
      std::lock_guard lock(mutex_);
      if (sockets_.erase(&stream.next_layer()) != 0) {
        boost::system::error_code ignored;
        stream.next_layer().close(ignored);
      }
    };
    boost::system::error_code ec;
    stream.handshake(boost::asio::ssl::stream_base::server, ec);
    if (ec) {
      log_.update([&](ServerLog& log) { log.handshake_errors.push_back(ec.message()); });
    } else {
      ConnectionInfo info = describe(stream.native_handle(), index);
      log_.update([&](ServerLog& log) {
        ++log.handshakes;
        log.connections.push_back(info);
      });
      ServerConnection connection(stream, log_, index, close_socket);
      script_(connection);
    }
    close_socket();
    log_.update([](ServerLog& log) { ++log.closed; });
  }

  static ConnectionInfo describe(SSL* ssl, int index) {
    ConnectionInfo info;
    info.index = index;
    if (const char* sni = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name)) {
      info.sni = sni;
    }
    if (X509* peer = SSL_get1_peer_certificate(ssl)) {
      char name[256] = {};
      if (X509_NAME_get_text_by_NID(X509_get_subject_name(peer), NID_commonName, name,
                                    sizeof name) > 0) {
        info.client_common_name = name;
      }
      X509_free(peer);
    }
    return info;
  }

  Script script_;
  boost::asio::io_context io_;  // only for sockets: all I/O here is blocking
  boost::asio::ssl::context tls_;
  boost::asio::ip::tcp::acceptor acceptor_;
  Guarded<ServerLog> log_;
  std::mutex mutex_;  // guards sockets_ and threads_
  std::set<boost::asio::ip::tcp::socket*> sockets_;
  std::vector<std::thread> threads_;
  std::thread accept_thread_;
};

}  // namespace cd4ml::test_support
