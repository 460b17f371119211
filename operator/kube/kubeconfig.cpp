// kubeconfig files: parsing, merging several files, and resolving one context
// into a ClusterConfig. Every problem becomes a ConfigError naming the file
// and the entry at fault; yaml-cpp exceptions never escape.

#include <yaml-cpp/yaml.h>

#include <map>

#include "operator/kube/config.hpp"
#include "operator/kube/config_files.hpp"

namespace cd4ml::kube {

namespace {

// A named cluster, context or user, with where it came from (relative paths
// in it resolve against its own file's directory).
struct Entry {
  YAML::Node body;
  std::filesystem::path base_dir;
  std::string source;
};

struct Merged {
  std::vector<std::string> sources;
  bool any_content = false;
  std::string current_context;
  std::map<std::string, Entry> clusters;
  std::map<std::string, Entry> contexts;
  std::map<std::string, Entry> users;
};

std::string in_quotes(std::string_view text) {
  return "\"" + std::string(text) + "\"";
}

bool present(const YAML::Node& node) {
  return node.IsDefined() && !node.IsNull();
}

std::string scalar(const YAML::Node& map, const char* key, const std::string& where) {
  const YAML::Node node = map[key];
  if (!present(node)) {
    return {};
  }
  if (!node.IsScalar()) {
    throw ConfigError(where + ": " + in_quotes(key) + " must be a string");
  }
  return node.Scalar();
}

bool boolean(const YAML::Node& map, const char* key, const std::string& where) {
  const YAML::Node node = map[key];
  if (!present(node)) {
    return false;
  }
  bool value = false;
  if (!node.IsScalar() || !YAML::convert<bool>::decode(node, value)) {
    throw ConfigError(where + ": " + in_quotes(key) + " must be true or false");
  }
  return value;
}

std::string defined_names(const std::map<std::string, Entry>& entries) {
  if (entries.empty()) {
    return " (none are defined)";
  }
  std::string names;
  for (const auto& [name, entry] : entries) {
    names += names.empty() ? " (defined: " : ", ";
    names += name;
  }
  return names + ")";
}

void add_entries(std::map<std::string, Entry>& entries, const YAML::Node& root,
                 const char* list_key, const char* body_key, const std::filesystem::path& base_dir,
                 const std::string& source) {
  const YAML::Node list = root[list_key];
  if (!present(list)) {
    return;
  }
  if (!list.IsSequence()) {
    throw ConfigError(source + ": " + in_quotes(list_key) + " must be a list");
  }
  for (std::size_t i = 0; i < list.size(); ++i) {
    const YAML::Node item = list[i];
    const std::string where = source + ": " + list_key + "[" + std::to_string(i) + "]";
    if (!item.IsMap()) {
      throw ConfigError(where + " must be a mapping with " + in_quotes("name") + " and " +
                        in_quotes(body_key));
    }
    const std::string name = scalar(item, "name", where);
    if (name.empty()) {
      throw ConfigError(where + " has no name");
    }
    // Within a file and across files, the first definition of a name wins.
    entries.try_emplace(name, Entry{item[body_key], base_dir, source});
  }
}

void merge_document(Merged& merged, std::string_view text, const std::filesystem::path& base_dir,
                    const std::string& source) {
  merged.sources.push_back(source);
  YAML::Node root;
  try {
    root = YAML::Load(std::string(text));
  } catch (const YAML::Exception& e) {
    throw ConfigError(source + " is not valid YAML: " + e.what());
  }
  if (!present(root)) {
    return;  // empty, or only comments
  }
  if (!root.IsMap()) {
    throw ConfigError(source +
                      " is not a kubeconfig: the top level must be a mapping with clusters, "
                      "contexts and users");
  }
  try {
    const std::string kind = scalar(root, "kind", source);
    if (!kind.empty() && kind != "Config") {
      throw ConfigError(source + " is not a kubeconfig: kind is " + in_quotes(kind) +
                        ", expected \"Config\"");
    }
    merged.any_content = true;
    const std::string current = scalar(root, "current-context", source);
    if (merged.current_context.empty()) {
      merged.current_context = current;
    }
    add_entries(merged.clusters, root, "clusters", "cluster", base_dir, source);
    add_entries(merged.contexts, root, "contexts", "context", base_dir, source);
    add_entries(merged.users, root, "users", "user", base_dir, source);
  } catch (const YAML::Exception& e) {
    throw ConfigError(source + ": " + e.what());
  }
}

std::filesystem::path resolve_path(const std::string& value, const std::filesystem::path& base) {
  std::filesystem::path path(value);
  return path.is_relative() ? base / path : path;
}

// PEM text from a "-data" field (base64 of the PEM file) or from a file path;
// data wins when both are set, as in kubectl.
std::string pem_from(const YAML::Node& body, const char* file_key, const char* data_key,
                     const Entry& entry, const std::string& where) {
  const std::string data = scalar(body, data_key, where);
  if (!data.empty()) {
    auto decoded = config_files::decode_base64(data);
    if (!decoded) {
      throw ConfigError(where + ": " + in_quotes(data_key) + " is not valid base64");
    }
    if (!config_files::looks_like_pem(*decoded)) {
      throw ConfigError(where + ": " + in_quotes(data_key) +
                        " does not hold PEM data (-----BEGIN ...) after base64 decoding");
    }
    return std::move(*decoded);
  }
  const std::string file = scalar(body, file_key, where);
  if (file.empty()) {
    return {};
  }
  const auto path = resolve_path(file, entry.base_dir);
  std::string pem = config_files::read(path, where + ": " + file_key);
  if (!config_files::looks_like_pem(pem)) {
    throw ConfigError(where + ": " + file_key + " " + path.string() +
                      " does not hold PEM data (-----BEGIN ...)");
  }
  return pem;
}

const YAML::Node& require_map(const Entry& entry, const std::string& where, const char* body_key) {
  // IsDefined first: yaml-cpp's "missing key" node throws on IsMap().
  if (!entry.body.IsDefined() || !entry.body.IsMap()) {
    throw ConfigError(where + " has no " + in_quotes(body_key) + " mapping");
  }
  return entry.body;
}

void apply_cluster(ClusterConfig& config, const std::string& name, const Entry& entry) {
  const std::string where = entry.source + ": cluster " + in_quotes(name);
  const YAML::Node& body = require_map(entry, where, "cluster");

  config.server = scalar(body, "server", where);
  if (config.server.empty()) {
    throw ConfigError(where + " has no server");
  }
  try {
    ServerAddress address = parse_server_url(config.server);
    config.host = std::move(address.host);
    config.port = std::move(address.port);
    config.path_prefix = std::move(address.path_prefix);
  } catch (const ConfigError& e) {
    throw ConfigError(where + ": " + e.what());
  }

  if (!scalar(body, "proxy-url", where).empty()) {
    throw ConfigError(where + " uses proxy-url, which cd4ml-operator does not support");
  }
  config.insecure_skip_tls_verify = boolean(body, "insecure-skip-tls-verify", where);
  config.ca_pem =
      pem_from(body, "certificate-authority", "certificate-authority-data", entry, where);
  if (config.insecure_skip_tls_verify && !config.ca_pem.empty()) {
    // Same rule as kubectl: trusting a CA and trusting anything contradict.
    throw ConfigError(where +
                      " sets both insecure-skip-tls-verify and a certificate authority; keep one");
  }
  config.tls_server_name = scalar(body, "tls-server-name", where);
}

void reject_unsupported_auth(const YAML::Node& body, const std::string& name,
                             const std::string& where) {
  constexpr const char* kUse =
      ", which cd4ml-operator does not support; use a token, tokenFile or "
      "client certificate";
  if (present(body["exec"])) {
    throw ConfigError(where + ": user " + in_quotes(name) + " uses exec authentication" + kUse);
  }
  if (present(body["auth-provider"])) {
    throw ConfigError(where + ": user " + in_quotes(name) + " uses auth-provider authentication" +
                      kUse);
  }
  if (present(body["username"]) || present(body["password"])) {
    throw ConfigError(where + ": user " + in_quotes(name) +
                      " uses basic authentication (username/password)" + kUse);
  }
  for (const char* key : {"as", "as-uid", "as-groups", "as-user-extra"}) {
    if (present(body[key])) {
      // Silently dropping impersonation would act with the wrong identity.
      throw ConfigError(where + ": user " + in_quotes(name) + " uses impersonation (" + key +
                        "), which cd4ml-operator does not support");
    }
  }
}

void apply_user(ClusterConfig& config, const std::string& name, const Entry& entry) {
  const std::string where = entry.source;
  const std::string user_where = where + ": user " + in_quotes(name);
  if (!present(entry.body)) {
    return;  // a user without credentials: anonymous
  }
  const YAML::Node& body = require_map(entry, user_where, "user");
  reject_unsupported_auth(body, name, where);

  config.client_cert_pem =
      pem_from(body, "client-certificate", "client-certificate-data", entry, user_where);
  config.client_key_pem = pem_from(body, "client-key", "client-key-data", entry, user_where);
  if (config.client_cert_pem.empty() != config.client_key_pem.empty()) {
    throw ConfigError(user_where + (config.client_cert_pem.empty()
                                        ? " has a client key but no client certificate"
                                        : " has a client certificate but no client key"));
  }

  // token wins over tokenFile, as in client-go.
  const std::string token = scalar(body, "token", user_where);
  const std::string token_file = scalar(body, "tokenFile", user_where);
  if (!token.empty()) {
    config.token = static_token(token);
  } else if (!token_file.empty()) {
    const auto path = resolve_path(token_file, entry.base_dir);
    // Check now, so a wrong path fails at startup rather than as 401s later.
    const std::string content = config_files::read(path, user_where + ": tokenFile");
    if (config_files::trim(content).empty()) {
      throw ConfigError(user_where + ": tokenFile " + path.string() + " is empty");
    }
    config.token = file_token(path);
  }
}

ClusterConfig resolve(const Merged& merged, std::string_view context, const std::string& label) {
  if (!merged.any_content) {
    throw ConfigError(label + " is empty: it defines no clusters, contexts or users");
  }
  const std::string name = context.empty() ? merged.current_context : std::string(context);
  if (name.empty()) {
    throw ConfigError(label + " sets no current-context; pass --context with one of its contexts" +
                      defined_names(merged.contexts));
  }
  const auto ctx = merged.contexts.find(name);
  if (ctx == merged.contexts.end()) {
    throw ConfigError(label + ": context " + in_quotes(name) + " is not defined" +
                      defined_names(merged.contexts));
  }
  const std::string where = ctx->second.source + ": context " + in_quotes(name);
  const YAML::Node& body = require_map(ctx->second, where, "context");
  const std::string cluster_name = scalar(body, "cluster", where);
  const std::string user_name = scalar(body, "user", where);
  const std::string ns = scalar(body, "namespace", where);
  if (cluster_name.empty()) {
    throw ConfigError(where + " names no cluster");
  }

  const auto cluster = merged.clusters.find(cluster_name);
  if (cluster == merged.clusters.end()) {
    throw ConfigError(where + " refers to cluster " + in_quotes(cluster_name) +
                      ", which is not defined" + defined_names(merged.clusters));
  }
  ClusterConfig config;
  apply_cluster(config, cluster_name, cluster->second);
  if (!user_name.empty()) {
    const auto user = merged.users.find(user_name);
    if (user == merged.users.end()) {
      throw ConfigError(where + " refers to user " + in_quotes(user_name) +
                        ", which is not defined" + defined_names(merged.users));
    }
    apply_user(config, user_name, user->second);
  }
  config.default_namespace = ns.empty() ? "default" : ns;
  config.description = label + ", context " + name;
  return config;
}

ClusterConfig resolve_guarded(const Merged& merged, std::string_view context,
                              const std::string& label) {
  try {
    return resolve(merged, context, label);
  } catch (const YAML::Exception& e) {
    // Should not happen (fields are checked before conversion), but a parser
    // surprise must still end as a readable error, never a crash.
    throw ConfigError(label + ": " + e.what());
  }
}

std::filesystem::path base_dir_of(const std::filesystem::path& file) {
  std::error_code ec;
  const auto absolute = std::filesystem::absolute(file, ec);
  return (ec ? file : absolute).parent_path();
}

}  // namespace

ClusterConfig parse_kubeconfig(std::string_view yaml_text, const std::filesystem::path& base_dir,
                               std::string_view context, std::string_view source_name) {
  Merged merged;
  const std::string label(source_name);
  merge_document(merged, yaml_text, base_dir, label);
  return resolve_guarded(merged, context, label);
}

ClusterConfig load_kubeconfig(const std::filesystem::path& file, std::string_view context) {
  const std::string label = "kubeconfig " + file.string();
  const std::string text = config_files::read(file, "kubeconfig");
  return parse_kubeconfig(text, base_dir_of(file), context, label);
}

ClusterConfig load_kubeconfig_files(const std::vector<std::filesystem::path>& files,
                                    std::string_view context) {
  if (files.size() == 1) {
    return load_kubeconfig(files.front(), context);
  }
  Merged merged;
  std::string all;
  for (const auto& file : files) {
    all += all.empty() ? "" : ":";
    all += file.string();
    std::error_code ec;
    if (!std::filesystem::exists(file, ec)) {
      continue;  // kubectl skips missing files in $KUBECONFIG
    }
    const std::string label = "kubeconfig " + file.string();
    merge_document(merged, config_files::read(file, "kubeconfig"), base_dir_of(file), label);
  }
  if (merged.sources.empty()) {
    throw ConfigError("none of the kubeconfig files " + all + " exist");
  }
  return resolve_guarded(merged, context, "kubeconfig files " + all);
}

}  // namespace cd4ml::kube
