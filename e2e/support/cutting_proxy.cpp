#include "cutting_proxy.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <stdexcept>

namespace cd4ml::e2e {

struct CuttingProxy::Link {
  int client = -1;
  int server = -1;
  std::size_t budget = 0;  // bytes from the server before the cut
  void close_both() {
    // shutdown() wakes a thread blocked in poll/recv on the socket; the
    // descriptors are closed by the destructor, once no thread uses them.
    if (client >= 0) ::shutdown(client, SHUT_RDWR);
    if (server >= 0) ::shutdown(server, SHUT_RDWR);
  }
  ~Link() {
    if (client >= 0) ::close(client);
    if (server >= 0) ::close(server);
  }
};

namespace {

bool send_all(int fd, const char* data, std::size_t size) {
  while (size > 0) {
    const ssize_t n = ::send(fd, data, size, MSG_NOSIGNAL);
    if (n <= 0) return false;
    data += n;
    size -= static_cast<std::size_t>(n);
  }
  return true;
}

}  // namespace

CuttingProxy::CuttingProxy(Options options) : options_(std::move(options)), random_(options_.seed) {
  listener_ = ::socket(AF_INET, SOCK_STREAM, 0);
  if (listener_ < 0) throw std::runtime_error("proxy: socket failed");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(listener_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::listen(listener_, 64) != 0) {
    ::close(listener_);
    throw std::runtime_error("proxy: cannot listen on 127.0.0.1");
  }
  socklen_t len = sizeof addr;
  ::getsockname(listener_, reinterpret_cast<sockaddr*>(&addr), &len);
  port_ = ntohs(addr.sin_port);
  acceptor_ = std::thread([this] { accept_loop(); });
}

CuttingProxy::~CuttingProxy() {
  stopping_ = true;
  ::shutdown(listener_, SHUT_RDWR);
  acceptor_.join();
  ::close(listener_);
  {
    std::lock_guard lock(mutex_);
    for (auto& link : links_) link->close_both();
  }
  for (auto& t : threads_) t.join();
}

void CuttingProxy::accept_loop() {
  while (!stopping_) {
    const int client = ::accept(listener_, nullptr, nullptr);
    if (client < 0) {
      if (stopping_) return;
      // Out of descriptors or similar: do not spin on it.
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
      continue;
    }
    auto link = std::make_shared<Link>();
    link->client = client;
    link->server = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in up{};
    up.sin_family = AF_INET;
    up.sin_port = htons(options_.upstream_port);
    ::inet_pton(AF_INET, options_.upstream_host.c_str(), &up.sin_addr);
    if (::connect(link->server, reinterpret_cast<sockaddr*>(&up), sizeof up) != 0) {
      link->close_both();
      continue;
    }
    ++connections_;
    std::lock_guard lock(mutex_);
    std::uniform_int_distribution<std::size_t> bytes(options_.min_bytes, options_.max_bytes);
    link->budget = bytes(random_);
    links_.push_back(link);
    threads_.emplace_back([this, link] { serve(link); });
  }
}

// Both directions in one thread with poll: the client's bytes go through
// untouched; the server's until the budget is spent, then both sides close.
void CuttingProxy::serve(const std::shared_ptr<Link>& link) {
  std::vector<char> buffer(16 * 1024);
  std::size_t from_server = 0;
  pollfd fds[2] = {{link->client, POLLIN, 0}, {link->server, POLLIN, 0}};
  while (!stopping_) {
    if (::poll(fds, 2, 200) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    bool done = false;
    for (int i = 0; i < 2 && !done; ++i) {
      if ((fds[i].revents & (POLLIN | POLLHUP | POLLERR)) == 0) continue;
      const ssize_t n = ::recv(fds[i].fd, buffer.data(), buffer.size(), 0);
      if (n <= 0) {
        done = true;
        break;
      }
      std::size_t size = static_cast<std::size_t>(n);
      if (i == 1) {
        const std::size_t left = link->budget - std::min(link->budget, from_server);
        if (size >= left) {
          send_all(link->client, buffer.data(), left);  // the last bytes before the cut
          ++cuts_;
          done = true;
          break;
        }
        from_server += size;
      }
      if (!send_all(i == 0 ? link->server : link->client, buffer.data(), size)) done = true;
    }
    if (done) break;
  }
  link->close_both();
}

}  // namespace cd4ml::e2e
