// Server URLs, the in-cluster service-account configuration, and the order in
// which load_config looks for a configuration.

#include "operator/kube/config.hpp"

#include <algorithm>
#include <cctype>
#include <cstdlib>

#include "operator/kube/config_files.hpp"

namespace cd4ml::kube {

namespace {

std::string lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

bool valid_port(std::string_view port) {
  if (port.empty() || port.size() > 5 ||
      !std::all_of(port.begin(), port.end(), [](unsigned char c) { return std::isdigit(c); })) {
    return false;
  }
  const int value = std::stoi(std::string(port));
  return value >= 1 && value <= 65535;
}

std::optional<std::string> env(const std::string& name) {
  // NOLINTNEXTLINE(concurrency-mt-unsafe): nothing in this process calls setenv.
  const char* value = std::getenv(name.c_str());
  if (value == nullptr) {
    return std::nullopt;
  }
  return std::string(value);
}

std::string in_quotes(std::string_view text) {
  return "\"" + std::string(text) + "\"";
}

// Why the in-cluster configuration cannot be used, or "" when it can.
std::string in_cluster_unavailable_reason(const InClusterPaths& paths) {
  const auto host = env(paths.host_env);
  const auto port = env(paths.port_env);
  if (!host || host->empty() || !port || port->empty()) {
    return "$" + paths.host_env + " and $" + paths.port_env + " are not both set";
  }
  std::error_code ec;
  if (!std::filesystem::exists(paths.token, ec)) {
    return "no service-account token at " + paths.token.string();
  }
  return {};
}

}  // namespace

ServerAddress parse_server_url(std::string_view server) {
  const std::string shown = in_quotes(server);
  std::string_view rest = server;
  const auto scheme_end = rest.find("://");
  if (scheme_end != std::string_view::npos) {
    const std::string scheme = lower(rest.substr(0, scheme_end));
    if (scheme == "http") {
      throw ConfigError("server " + shown +
                        " uses plain HTTP; cd4ml-operator only talks HTTPS to the API server, so "
                        "that tokens and client keys never cross the network in clear");
    }
    if (scheme != "https") {
      throw ConfigError("server " + shown + " has scheme " + in_quotes(scheme) +
                        "; only https is supported");
    }
    rest.remove_prefix(scheme_end + 3);
  }
  if (rest.find_first_of("?#") != std::string_view::npos) {
    throw ConfigError("server " + shown +
                      " has a query or fragment; give scheme, host, port "
                      "and path only");
  }
  const auto slash = rest.find('/');
  const std::string_view authority = rest.substr(0, slash);
  std::string_view path = slash == std::string_view::npos ? std::string_view() : rest.substr(slash);
  while (!path.empty() && path.back() == '/') {
    path.remove_suffix(1);
  }
  if (authority.find('@') != std::string_view::npos) {
    throw ConfigError("server " + shown +
                      " carries user information; put credentials in the user entry instead");
  }

  ServerAddress address;
  std::string_view port;
  if (!authority.empty() && authority.front() == '[') {
    const auto close = authority.find(']');
    if (close == std::string_view::npos) {
      throw ConfigError("server " + shown + " has an unterminated IPv6 address");
    }
    address.host = std::string(authority.substr(1, close - 1));
    const std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') {
        throw ConfigError("server " + shown + " has junk after its IPv6 address");
      }
      port = after.substr(1);
      if (port.empty()) throw ConfigError("server " + shown + " has an empty port");
    }
  } else {
    const auto colon = authority.find(':');
    if (colon != std::string_view::npos &&
        authority.find(':', colon + 1) != std::string_view::npos) {
      throw ConfigError("server " + shown +
                        ": write IPv6 addresses in brackets, e.g. https://[::1]:6443");
    }
    address.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) {
      port = authority.substr(colon + 1);
      if (port.empty()) throw ConfigError("server " + shown + " has an empty port");
    }
  }
  if (address.host.empty()) {
    throw ConfigError("server " + shown + " has no host");
  }
  if (!port.empty() && !valid_port(port)) {
    throw ConfigError("server " + shown + " has an invalid port " + in_quotes(port));
  }
  address.port = port.empty() ? "443" : std::string(port);
  address.path_prefix = std::string(path);
  return address;
}

bool running_in_cluster(const InClusterPaths& paths) {
  return in_cluster_unavailable_reason(paths).empty();
}

ClusterConfig load_in_cluster(const InClusterPaths& paths) {
  const std::string reason = in_cluster_unavailable_reason(paths);
  if (!reason.empty()) {
    throw ConfigError("not running in a cluster: " + reason);
  }
  std::string host = *env(paths.host_env);
  const std::string port = *env(paths.port_env);
  // An IPv6 service address (IPv6 or dual-stack clusters) needs brackets in a URL.
  const bool ipv6 = host.find(':') != std::string::npos && host.front() != '[';
  ClusterConfig config;
  config.server = "https://" + (ipv6 ? "[" + host + "]" : host) + ":" + port;
  try {
    ServerAddress address = parse_server_url(config.server);
    config.host = std::move(address.host);
    config.port = std::move(address.port);
    config.path_prefix = std::move(address.path_prefix);
  } catch (const ConfigError& e) {
    throw ConfigError("in-cluster $" + paths.host_env + "/$" + paths.port_env + ": " + e.what());
  }

  config.ca_pem = config_files::read(paths.ca, "in-cluster CA certificate");
  if (!config_files::looks_like_pem(config.ca_pem)) {
    throw ConfigError("in-cluster CA certificate " + paths.ca.string() + " holds no PEM data");
  }
  const std::string token = config_files::read(paths.token, "in-cluster service-account token");
  if (config_files::trim(token).empty()) {
    throw ConfigError("in-cluster service-account token " + paths.token.string() + " is empty");
  }
  config.token = file_token(paths.token);

  // The namespace file is absent when automounting is partial; "default" then,
  // as client-go does.
  if (const auto ns = config_files::try_read(paths.namespace_file)) {
    const std::string_view trimmed = config_files::trim(*ns);
    if (!trimmed.empty()) config.default_namespace = std::string(trimmed);
  }
  config.description = "in-cluster service account (namespace " + config.default_namespace + ")";
  return config;
}

ConfigSources config_sources_from_environment(std::string kubeconfig_flag) {
  ConfigSources sources;
  sources.kubeconfig_flag = std::move(kubeconfig_flag);
  sources.kubeconfig_env = env("KUBECONFIG");
  if (const auto home = env("HOME"); home && !home->empty()) {
    sources.home = *home;
  }
  return sources;
}

ClusterConfig load_config(const ConfigSources& sources, std::string_view context) {
  if (!sources.kubeconfig_flag.empty()) {
    return load_kubeconfig(sources.kubeconfig_flag, context);
  }
  std::vector<std::string> looked = {"--kubeconfig: not given"};
  if (sources.kubeconfig_env && !sources.kubeconfig_env->empty()) {
    std::vector<std::filesystem::path> files;
    std::string_view list = *sources.kubeconfig_env;
    while (!list.empty()) {
      const auto colon = list.find(':');
      const std::string_view item = list.substr(0, colon);
      if (!item.empty()) files.emplace_back(item);
      list.remove_prefix(colon == std::string_view::npos ? list.size() : colon + 1);
    }
    if (!files.empty()) {
      return load_kubeconfig_files(files, context);
    }
    looked.emplace_back("$KUBECONFIG: lists no files");
  } else {
    looked.emplace_back("$KUBECONFIG: not set");
  }

  if (context.empty()) {
    const std::string reason = in_cluster_unavailable_reason(sources.in_cluster);
    if (reason.empty()) {
      return load_in_cluster(sources.in_cluster);
    }
    looked.push_back("in-cluster: " + reason);
  } else {
    // A context only exists in a kubeconfig; asking for one rules out in-cluster.
    looked.push_back("in-cluster: skipped because context " + in_quotes(context) +
                     " was asked for");
  }

  if (sources.home) {
    const auto file = *sources.home / ".kube" / "config";
    std::error_code ec;
    if (std::filesystem::exists(file, ec)) {
      return load_kubeconfig(file, context);
    }
    looked.push_back(file.string() + ": does not exist");
  } else {
    looked.emplace_back("~/.kube/config: $HOME is not set");
  }

  std::string message = "no Kubernetes configuration found; looked at:";
  for (const auto& place : looked) {
    message += "\n  - " + place;
  }
  throw ConfigError(message);
}

ClusterConfig load_config(const std::string& kubeconfig_flag, std::string_view context) {
  return load_config(config_sources_from_environment(kubeconfig_flag), context);
}

}  // namespace cd4ml::kube
