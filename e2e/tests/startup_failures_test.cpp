// Start-up failures as a user meets them: the operator binary started as a
// process with something wrong, against the local control plane. Each one
// must end the process with exit code 1 and one line that names the problem,
// never an abort (exit 134, "terminate called...") and never a process that
// keeps running without saying why. docs/troubleshooting.md lists them.

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>

#include "cluster.hpp"
#include "service_account.hpp"

namespace cd4ml::e2e {
namespace {

struct Outcome {
  int exit_code;
  std::string error_line;  // the operator's last line on stderr
  std::string all;
};

// Runs the operator to its end (it must end: the timeout fails the test).
Outcome start_operator(std::vector<std::string> flags) {
  std::vector<std::string> argv = {CD4ML_OPERATOR_BINARY};
  // Ports of its own unless the test names them: tests run side by side.
  for (const std::string flag : {"--metrics-bind-address", "--health-probe-bind-address"}) {
    const bool named = std::any_of(flags.begin(), flags.end(),
                                   [&](const std::string& f) { return f.rfind(flag, 0) == 0; });
    if (!named) argv.push_back(flag + "=127.0.0.1:0");
  }
  argv.insert(argv.end(), flags.begin(), flags.end());
  const CommandResult r = run_command(argv, {}, std::chrono::seconds(60));
  std::string last = r.err;
  while (!last.empty() && last.back() == '\n') last.pop_back();
  last = last.substr(last.rfind('\n') == std::string::npos ? 0 : last.rfind('\n') + 1);
  return {r.exit_code, last, r.out + r.err};
}

void expect_clear_failure(const Outcome& o, const std::string& words) {
  EXPECT_EQ(o.exit_code, 1) << o.all;
  EXPECT_EQ(o.all.find("terminate called"), std::string::npos) << o.all;
  EXPECT_NE(o.error_line.find(words), std::string::npos)
      << "expected '" << words << "' in the last line: " << o.error_line;
}

std::string write_file(const std::string& name, const std::string& text) {
  const auto path = test_log_dir() / name;
  std::ofstream(path) << text;
  return path.string();
}

// The admin kubeconfig with one line changed.
std::string kubeconfig_with(const std::string& name, const std::string& key,
                            const std::string& value) {
  std::ifstream in(kubeconfig_path());
  std::string out;
  std::string line;
  while (std::getline(in, line)) {
    const auto at = line.find(key + ":");
    if (at != std::string::npos) line = line.substr(0, at) + key + ": " + value;
    out += line + "\n";
  }
  return write_file(name, out);
}

// A listening socket on 127.0.0.1: the port another process holds.
class HeldPort {
 public:
  HeldPort() : fd_(::socket(AF_INET, SOCK_STREAM, 0)) {
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    EXPECT_EQ(::listen(fd_, 1), 0);
    socklen_t len = sizeof addr;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
  }
  ~HeldPort() { ::close(fd_); }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }

 private:
  int fd_;
  unsigned short port_ = 0;
};

TEST(StartupFailures, MetricsPortInUse) {
  const HeldPort held;
  expect_clear_failure(start_operator({"--kubeconfig", kubeconfig_path().string(),
                                       "--metrics-bind-address=" + held.address()}),
                       "metrics server (--metrics-bind-address): cannot listen on " +
                           held.address() + ": Address already in use");
}

TEST(StartupFailures, HealthPortInUse) {
  const HeldPort held;
  expect_clear_failure(
      start_operator({"--kubeconfig", kubeconfig_path().string(),
                      "--health-probe-bind-address=" + held.address()}),
      "health probe server (--health-probe-bind-address): cannot listen on " + held.address());
}

TEST(StartupFailures, AddressThatIsNotThisMachines) {
  expect_clear_failure(start_operator({"--kubeconfig", kubeconfig_path().string(),
                                       "--metrics-bind-address=192.0.2.254:8080"}),
                       "cannot listen on 192.0.2.254:8080");
}

TEST(StartupFailures, InvalidFlagValue) {
  expect_clear_failure(start_operator({"--kube-api-burst=lots"}),
                       "--kube-api-burst: must be a number greater than 0, not 'lots'");
}

TEST(StartupFailures, KubeconfigThatDoesNotExist) {
  expect_clear_failure(start_operator({"--kubeconfig", "/nonexistent/kubeconfig"}),
                       "cannot read kubeconfig /nonexistent/kubeconfig");
}

TEST(StartupFailures, KubeconfigThatIsNotYaml) {
  const auto path = write_file("broken.kubeconfig", "clusters: [\n  - name: x\n");
  expect_clear_failure(start_operator({"--kubeconfig", path}), "is not valid YAML");
}

TEST(StartupFailures, UnknownContext) {
  expect_clear_failure(
      start_operator({"--kubeconfig", kubeconfig_path().string(), "--context", "production"}),
      R"(context \"production\" is not defined)");  // quoted inside the log line's error="..."
}

TEST(StartupFailures, ApiServerNobodyAnswersIsGivenUpOnAtTheStartupTimeout) {
  // A port that was free a moment ago: connections are refused.
  const std::string port = [] {
    const HeldPort probe;
    return probe.address().substr(probe.address().rfind(':') + 1);
  }();
  const auto path =
      kubeconfig_with("unreachable.kubeconfig", "server", "https://127.0.0.1:" + port);
  const auto started = std::chrono::steady_clock::now();
  const Outcome o = start_operator({"--kubeconfig", path, "--startup-timeout=3"});
  const auto took = std::chrono::steady_clock::now() - started;
  expect_clear_failure(o, "cannot reach the API server at https://127.0.0.1:" + port +
                              " within 3s (--startup-timeout)");
  EXPECT_GE(took, std::chrono::seconds(3)) << "it must retry until the timeout";
}

TEST(StartupFailures, ServerCertificateFromAnotherAuthority) {
  // A CA of its own that never signed the API server's certificate.
  const auto dir = test_log_dir();
  ASSERT_EQ(run_command({"openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                         "ec_paramgen_curve:P-256", "-nodes", "-keyout",
                         (dir / "other-ca.key").string(), "-out", (dir / "other-ca.crt").string(),
                         "-subj", "/CN=another-ca", "-days", "1"})
                .exit_code,
            0);
  const CommandResult b64 = run_command({"base64", "-w0", (dir / "other-ca.crt").string()});
  const auto path = kubeconfig_with("other-ca.kubeconfig", "certificate-authority-data", b64.out);
  expect_clear_failure(start_operator({"--kubeconfig", path}),
                       "certificate verify failed (unable to get local issuer certificate): the "
                       "server's certificate is not one the kubeconfig's certificate authority "
                       "accepts");
}

TEST(StartupFailures, CredentialsWithoutTheRightsToWatch) {
  TestNamespace ns;
  kubectl_ok({"create", "serviceaccount", "nobody", "-n", ns.name()});
  const auto path =
      service_account_kubeconfig(ns.name(), "nobody", test_log_dir() / "nobody.kubeconfig");
  expect_clear_failure(start_operator({"--kubeconfig", path.string(), "--namespace", ns.name()}),
                       "in namespace " + ns.name() + ": ");
  const Outcome o = start_operator({"--kubeconfig", path.string(), "--namespace", ns.name()});
  EXPECT_NE(o.error_line.find("not allowed to list"), std::string::npos) << o.error_line;
  EXPECT_NE(o.error_line.find("the operator needs get, list and watch on it"), std::string::npos)
      << o.error_line;
}

}  // namespace
}  // namespace cd4ml::e2e
