#pragma once
// Where the API server is and how to authenticate to it: from a kubeconfig file
// or from the in-cluster service-account mount. Certificates and keys are kept
// as PEM text in memory, never written to temporary files.

#include <chrono>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace cd4ml::kube {

// A configuration that cannot be used, with a message that names the file,
// context, cluster or user at fault.
class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Supplies the bearer token for each request. A file-backed source re-reads the
// file when it changes (projected service-account tokens rotate hourly) and at
// least once a minute, as client-go does.
class TokenSource {
 public:
  virtual ~TokenSource() = default;
  // `now` is the caller's clock (util::Clock::now).
  virtual std::string token(std::chrono::steady_clock::time_point now) = 0;
};

std::shared_ptr<TokenSource> static_token(std::string token);
// Thread-safe. Checks the file's mtime and size on every call and re-reads it
// when either changed or a minute has passed since the last read. Surrounding
// whitespace is trimmed. When a re-read fails or finds an empty file, the
// last good token is kept; before any good read, token() returns "".
std::shared_ptr<TokenSource> file_token(std::filesystem::path path);

struct ClusterConfig {
  std::string server;       // as written, e.g. https://127.0.0.1:6443
  std::string host;         // parsed from server; IPv6 without brackets
  std::string port;         // parsed from server; 443 when absent
  std::string path_prefix;  // path part of server without trailing '/', usually empty;
                            // the transport puts it before every request target

  std::string ca_pem;                     // empty: the system's trust store
  bool insecure_skip_tls_verify = false;  // only ever set by an explicit kubeconfig field
  std::string tls_server_name;            // overrides SNI/hostname check when set

  std::string client_cert_pem;
  std::string client_key_pem;
  std::shared_ptr<TokenSource> token;  // null: no bearer token

  std::string default_namespace = "default";
  std::string description;  // for logs: "kubeconfig ~/.kube/config, context kind-x"
};

// The parts of a server URL the transport needs.
struct ServerAddress {
  std::string host;
  std::string port;
  std::string path_prefix;
};

// Accepts https://host[:port][/path] (host may be a bracketed IPv6 address) and
// a bare host[:port], which kubectl also treats as https when TLS is set up.
// Plain http:// is rejected, loopback included: the transport speaks TLS only,
// and a bearer token or client key must never cross a connection in clear.
// (`kubectl proxy` users can point the operator at the real server instead.)
// Throws ConfigError.
ServerAddress parse_server_url(std::string_view server);

// Parses kubeconfig text. base_dir resolves relative file paths, as kubectl
// does (relative to the file that names them). Empty context = current-context.
ClusterConfig parse_kubeconfig(std::string_view yaml_text, const std::filesystem::path& base_dir,
                               std::string_view context = {},
                               std::string_view source_name = "kubeconfig");

ClusterConfig load_kubeconfig(const std::filesystem::path& file, std::string_view context = {});

// Several kubeconfig files merged as kubectl merges $KUBECONFIG: the first file
// that sets current-context, or defines a cluster/context/user of a given name,
// wins. Files that do not exist are skipped; at least one must exist.
ClusterConfig load_kubeconfig_files(const std::vector<std::filesystem::path>& files,
                                    std::string_view context = {});

// Files and variables of the in-cluster service-account mount; tests point
// them elsewhere.
struct InClusterPaths {
  std::filesystem::path token = "/var/run/secrets/kubernetes.io/serviceaccount/token";
  std::filesystem::path ca = "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt";
  std::filesystem::path namespace_file = "/var/run/secrets/kubernetes.io/serviceaccount/namespace";
  std::string host_env = "KUBERNETES_SERVICE_HOST";
  std::string port_env = "KUBERNETES_SERVICE_PORT";
};

// True when the service host/port variables are set and the token file exists.
bool running_in_cluster(const InClusterPaths& paths = {});
ClusterConfig load_in_cluster(const InClusterPaths& paths = {});

// Everything load_config looks at, so tests can supply it without touching
// the process environment.
struct ConfigSources {
  std::string kubeconfig_flag;                // --kubeconfig
  std::optional<std::string> kubeconfig_env;  // $KUBECONFIG, colon-separated
  std::optional<std::filesystem::path> home;  // $HOME, for ~/.kube/config
  InClusterPaths in_cluster{};
};
ConfigSources config_sources_from_environment(std::string kubeconfig_flag);

// controller-runtime's order: --kubeconfig, $KUBECONFIG (first file that sets
// a value wins when it lists several), in-cluster (skipped when a context is
// named, which only a kubeconfig can have), then ~/.kube/config. When none
// applies, the ConfigError lists every place looked at.
ClusterConfig load_config(const ConfigSources& sources, std::string_view context);
ClusterConfig load_config(const std::string& kubeconfig_flag, std::string_view context);

}  // namespace cd4ml::kube
