#include "service_account.hpp"

#include <fstream>

#include "cluster.hpp"

namespace cd4ml::e2e {

std::filesystem::path service_account_kubeconfig(const std::string& ns, const std::string& name,
                                                 const std::filesystem::path& path) {
  std::string token = kubectl_ok({"create", "token", name, "-n", ns, "--duration=1h"});
  while (!token.empty() && (token.back() == '\n' || token.back() == '\r')) token.pop_back();
  EXPECT_FALSE(token.empty()) << "no token for " << ns << "/" << name;
  const Json admin = Json::parse(kubectl_ok({"config", "view", "--raw", "--minify", "-o", "json"}));
  const Json& cluster = admin["clusters"][0]["cluster"];
  const Json config = {
      {"apiVersion", "v1"},
      {"kind", "Config"},
      {"clusters",
       Json::array({{{"name", "local"},
                     {"cluster",
                      {{"server", cluster["server"]},
                       {"certificate-authority-data", cluster["certificate-authority-data"]}}}}})},
      {"users", Json::array({{{"name", name}, {"user", {{"token", token}}}}})},
      {"contexts",
       Json::array({{{"name", name},
                     {"context", {{"cluster", "local"}, {"user", name}, {"namespace", ns}}}}})},
      {"current-context", name}};
  std::filesystem::create_directories(path.parent_path());
  std::ofstream out(path);
  out << config.dump(2) << "\n";  // JSON is YAML
  return path;
}

std::string describe(const Access& access) {
  return access.verb + " " + access.resource +
         (access.subresource.empty() ? "" : " (subresource " + access.subresource + ")") +
         (access.ns == "*" ? " in all namespaces" : " in " + access.ns);
}

bool service_account_can(const std::string& sa_ns, const std::string& sa, const Access& access) {
  std::vector<std::string> args = {"auth", "can-i", access.verb, access.resource,
                                   "--as=system:serviceaccount:" + sa_ns + ":" + sa};
  if (access.ns == "*") {
    args.push_back("--all-namespaces");
  } else {
    args.insert(args.end(), {"-n", access.ns});
  }
  if (!access.subresource.empty()) args.push_back("--subresource=" + access.subresource);
  const CommandResult r = kubectl(args);
  // Exit 0 "yes", exit 1 "no"; anything else is a broken question.
  EXPECT_TRUE(r.out.rfind("yes", 0) == 0 || r.out.rfind("no", 0) == 0)
      << describe(access) << ": " << r.out << r.err;
  return r.exit_code == 0 && r.out.rfind("yes", 0) == 0;
}

}  // namespace cd4ml::e2e
