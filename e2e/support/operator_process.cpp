#include "operator_process.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <iterator>
#include <limits>
#include <regex>
#include <sstream>

namespace cd4ml::e2e {

unsigned short free_port() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return ntohs(addr.sin_port);
}

OperatorProcess::OperatorProcess(Options options)
    : options_(std::move(options)), metrics_port_(free_port()), health_port_(free_port()) {
  if (options_.kubeconfig.empty()) options_.kubeconfig = kubeconfig_path().string();
  log_file_ = test_log_dir() / (options_.log_name + ".log");
  std::filesystem::remove(log_file_);
}

OperatorProcess::~OperatorProcess() {
  if (process_) process_->stop(10s);
}

void OperatorProcess::start() {
  std::vector<std::string> argv = {
      CD4ML_OPERATOR_BINARY,
      "--kubeconfig=" + options_.kubeconfig,
      "--metrics-bind-address=127.0.0.1:" + std::to_string(metrics_port_),
      "--health-probe-bind-address=127.0.0.1:" + std::to_string(health_port_),
      "--log-level=debug",
  };
  argv.insert(argv.end(), options_.extra_flags.begin(), options_.extra_flags.end());
  ++starts_;
  process_ = std::make_unique<Process>(argv, log_file_);
}

std::optional<int> OperatorProcess::stop(std::chrono::milliseconds grace) {
  return process_ ? process_->stop(grace) : std::nullopt;
}

void OperatorProcess::kill9() {
  if (process_) process_->kill9();
}

bool OperatorProcess::running() {
  return process_ && process_->running();
}

bool OperatorProcess::wait_ready(std::chrono::milliseconds deadline) {
  bool exited = false;
  const bool ready = wait_until(
      "operator /readyz", deadline,
      [&] {
        // An operator that exited (e.g. a bad flag) will not become ready.
        exited = !running();
        return exited || http_get(health_port_, "/readyz").first == 200;
      },
      [this] { return "log:\n" + log(); });
  if (exited) ADD_FAILURE() << "the operator exited before it was ready; log:\n" << log();
  return ready && !exited;
}

std::pair<int, std::string> OperatorProcess::http_get(unsigned short port,
                                                      const std::string& path) const {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);
  timeval tv{5, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    close(fd);
    return {0, ""};
  }
  const std::string request =
      "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
  if (write(fd, request.data(), request.size()) < 0) {
    close(fd);
    return {0, ""};
  }
  std::string response;
  char buffer[65536];
  ssize_t n;
  while ((n = read(fd, buffer, sizeof buffer)) > 0)
    response.append(buffer, static_cast<std::size_t>(n));
  close(fd);
  if (response.rfind("HTTP/1.1 ", 0) != 0) return {0, response};
  const int status = std::stoi(response.substr(9, 3));
  const auto body = response.find("\r\n\r\n");
  std::string text = body == std::string::npos ? "" : response.substr(body + 4);
  // Chunked responses: strip chunk sizes (our server sends Content-Length, but be safe).
  return {status, text};
}

std::string OperatorProcess::metrics_text() const {
  return http_get(metrics_port_, "/metrics").second;
}

double OperatorProcess::metric(const std::string& name,
                               const std::map<std::string, std::string>& labels) const {
  const auto [status, text] = http_get(metrics_port_, "/metrics");
  // NaN compares unequal to everything: a failed scrape can never pass for
  // "zero writes" or "no reconciles".
  if (status != 200) return std::numeric_limits<double>::quiet_NaN();
  std::istringstream in(text);
  std::string line;
  double sum = 0;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    if (line.compare(0, name.size(), name) != 0) continue;
    const char next = line.size() > name.size() ? line[name.size()] : '\0';
    if (next != '{' && next != ' ') continue;
    bool match = true;
    for (const auto& [k, v] : labels) {
      if (line.find(k + "=\"" + v + "\"") == std::string::npos) match = false;
    }
    if (!match) continue;
    sum += std::stod(line.substr(line.rfind(' ') + 1));
  }
  return sum;
}

double OperatorProcess::write_requests() const {
  double total = 0;
  for (const char* verb : {"create", "update", "patch", "apply", "delete"}) {
    total += metric("rest_client_requests_total", {{"verb", verb}});
  }
  return total;
}

std::string OperatorProcess::log() const {
  return process_ ? process_->log() : std::string();
}

std::string OperatorProcess::log_since(std::uintmax_t& offset) const {
  std::ifstream in(log_file_, std::ios::binary);
  if (!in) return {};
  in.seekg(static_cast<std::streamoff>(offset));
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  offset += text.size();
  return text;
}

}  // namespace cd4ml::e2e
