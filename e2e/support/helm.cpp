#include "helm.hpp"

#include <yaml-cpp/yaml.h>

#include <fstream>
#include <regex>
#include <sstream>
#include <stdexcept>

#include "cluster.hpp"

namespace cd4ml::e2e {

namespace {

nlohmann::json scalar_to_json(const YAML::Node& node) {
  const std::string& text = node.Scalar();
  if (node.Tag() != "?") return text;  // quoted, or explicitly tagged: a string
  static const std::regex kNull("^(~|null|Null|NULL)?$");
  static const std::regex kInt("^[-+]?[0-9]+$");
  static const std::regex kFloat(R"(^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$)");
  if (std::regex_match(text, kNull)) return nullptr;
  if (text == "true" || text == "True" || text == "TRUE") return true;
  if (text == "false" || text == "False" || text == "FALSE") return false;
  if (std::regex_match(text, kInt)) return std::stoll(text);
  if (std::regex_match(text, kFloat)) return std::stod(text);
  return text;
}

nlohmann::json to_json(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined: return nullptr;
    case YAML::NodeType::Scalar: return scalar_to_json(node);
    case YAML::NodeType::Sequence: {
      nlohmann::json out = nlohmann::json::array();
      for (const auto& item : node) out.push_back(to_json(item));
      return out;
    }
    case YAML::NodeType::Map: {
      nlohmann::json out = nlohmann::json::object();
      for (const auto& entry : node) out[entry.first.as<std::string>()] = to_json(entry.second);
      return out;
    }
  }
  throw std::logic_error("unknown YAML node type");
}

// build-toolchain.sh <component>; its bin directory.
std::filesystem::path toolchain_bin(const std::string& component) {
  const CommandResult built =
      run_command({(source_dir() / "e2e" / "scripts" / "build-toolchain.sh").string(), component},
                  {}, std::chrono::seconds(1800));
  if (built.exit_code != 0) {
    throw std::runtime_error("build-toolchain.sh " + component + ": " + built.err);
  }
  std::string dir = built.out;
  while (!dir.empty() && (dir.back() == '\n' || dir.back() == '\r')) dir.pop_back();
  return dir;
}

}  // namespace

std::filesystem::path helm_path() {
  static const std::filesystem::path path = toolchain_bin("helm") / "helm";
  return path;
}

std::filesystem::path servicemonitor_crd_path() {
  static const std::filesystem::path path =
      toolchain_bin("servicemonitor-crd").parent_path() / "crds" / "servicemonitors.yaml";
  return path;
}

std::filesystem::path gateway_api_crds_dir() {
  static const std::filesystem::path path =
      toolchain_bin("gateway-api-crds").parent_path() / "crds" / "gateway-api";
  return path;
}

std::filesystem::path chart_dir() {
  return source_dir() / "charts" / "cd4ml-operator";
}

CommandResult helm(const std::vector<std::string>& args, bool with_cluster) {
  std::vector<std::string> argv = {helm_path().string()};
  if (with_cluster) argv.insert(argv.end(), {"--kubeconfig", kubeconfig_path().string()});
  argv.insert(argv.end(), args.begin(), args.end());
  return run_command(argv, {}, std::chrono::seconds(300));
}

std::vector<nlohmann::json> yaml_documents(const std::string& text) {
  std::vector<nlohmann::json> out;
  for (const auto& doc : YAML::LoadAll(text)) {
    if (doc.IsNull() || !doc.IsDefined()) continue;
    out.push_back(to_json(doc));
  }
  return out;
}

std::string read_text(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path.string());
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

}  // namespace cd4ml::e2e
