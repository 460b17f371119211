#include "cluster.hpp"

#include <fstream>
#include <random>
#include <thread>

namespace cd4ml::e2e {

std::filesystem::path source_dir() {
  return CD4ML_SOURCE_DIR;
}

std::filesystem::path kubeconfig_path() {
  if (const char* env = std::getenv("CD4ML_E2E_KUBECONFIG")) return env;
  return source_dir() / ".cluster" / "kubeconfig";
}

std::filesystem::path kubectl_path() {
  return source_dir() / ".cluster" / "bin" / "kubectl";
}

std::string cluster_env(const std::string& key) {
  std::ifstream in(source_dir() / ".cluster" / "env");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(key + "=", 0) == 0) return line.substr(key.size() + 1);
  }
  return {};
}

std::filesystem::path test_log_dir() {
  const auto* info = testing::UnitTest::GetInstance()->current_test_info();
  std::string name = info ? std::string(info->test_suite_name()) + "." + info->name() : "global";
  std::filesystem::path dir = std::filesystem::path(CD4ML_BINARY_DIR) / "e2e-logs" / name;
  std::filesystem::create_directories(dir);
  return dir;
}

CommandResult kubectl(const std::vector<std::string>& args, const std::string& input) {
  std::vector<std::string> argv = {kubectl_path().string(), "--kubeconfig",
                                   kubeconfig_path().string()};
  argv.insert(argv.end(), args.begin(), args.end());
  return run_command(argv, input);
}

std::string kubectl_ok(const std::vector<std::string>& args, const std::string& input) {
  CommandResult r = kubectl(args, input);
  if (r.exit_code != 0) {
    std::string joined;
    for (const auto& a : args) joined += a + " ";
    ADD_FAILURE() << "kubectl " << joined << "failed (" << r.exit_code << "): " << r.err;
  }
  return r.out;
}

std::optional<Json> get_json(const std::string& resource, const std::string& ns,
                             const std::string& name) {
  std::vector<std::string> args = {"get", resource, name, "-o", "json", "--ignore-not-found"};
  if (!ns.empty()) args.insert(args.end(), {"-n", ns});
  CommandResult r = kubectl(args);
  if (r.exit_code != 0) {
    ADD_FAILURE() << "kubectl get " << resource << " " << name << ": " << r.err;
    return std::nullopt;
  }
  if (r.out.find_first_not_of(" \n") == std::string::npos) return std::nullopt;
  return Json::parse(r.out);
}

std::vector<Json> list_json(const std::string& resource, const std::string& ns,
                            const std::string& selector) {
  std::vector<std::string> args = {"get", resource, "-o", "json"};
  if (!ns.empty()) args.insert(args.end(), {"-n", ns});
  if (!selector.empty()) args.insert(args.end(), {"-l", selector});
  const std::string out = kubectl_ok(args);
  std::vector<Json> items;
  if (out.empty()) return items;
  for (const auto& item : Json::parse(out).value("items", Json::array())) items.push_back(item);
  return items;
}

void apply_json(const Json& object) {
  kubectl_ok({"apply", "-f", "-"}, object.dump());
}

std::map<std::string, int> events_told(const std::string& ns, const std::string& kind,
                                       const std::string& name) {
  std::map<std::string, int> told;
  for (const auto& e : list_json("events", ns)) {
    const Json& about = e["involvedObject"];
    if (about.value("kind", "") != kind || (!name.empty() && about.value("name", "") != name)) {
      continue;
    }
    told[e.value("reason", "")] += e.value("count", 1);
  }
  return told;
}

bool wait_until(const std::string& what, std::chrono::milliseconds deadline,
                const std::function<bool()>& check, const std::function<std::string()>& describe) {
  const auto end = std::chrono::steady_clock::now() + deadline;
  auto pause = std::chrono::milliseconds(20);
  while (true) {
    if (check()) return true;
    if (std::chrono::steady_clock::now() >= end) break;
    // Polling the API server: each check is a request, so back off a little.
    std::this_thread::sleep_for(pause);
    pause = std::min(pause * 2, std::chrono::milliseconds(500));
  }
  ADD_FAILURE() << "timed out after " << deadline.count() << " ms waiting for " << what
                << (describe ? "\nlast state: " + describe() : std::string());
  return false;
}

TestNamespace::TestNamespace() {
  const auto* info = testing::UnitTest::GetInstance()->current_test_info();
  std::string base = info ? info->name() : "e2e";
  std::string clean;
  for (char ch : base) {
    if (std::isalnum(static_cast<unsigned char>(ch)))
      clean.push_back(static_cast<char>(std::tolower(ch)));
    if (clean.size() >= 40) break;
  }
  std::random_device rd;
  name_ = "e2e-" + clean + "-" + std::to_string(rd() % 100000);
  kubectl_ok({"create", "namespace", name_});
  // 90 s: after a kube-apiserver restart the controller-manager may still be
  // backing off before its service-account controller runs again.
  wait_until("ServiceAccount default in " + name_, 90s, [this] {
    return kubectl({"get", "serviceaccount", "default", "-n", name_}).exit_code == 0;
  });
}

TestNamespace::~TestNamespace() {
  if (std::getenv("CD4ML_E2E_KEEP_NAMESPACES") == nullptr) {
    kubectl({"delete", "namespace", name_, "--wait=false"});
  }
}

void install_crds() {
  kubectl_ok(
      {"apply", "--server-side", "--force-conflicts", "-f", (source_dir() / "crds").string()});
  kubectl_ok({"wait", "--for=condition=Established", "--timeout=60s", "crd/trainingruns.cd4ml.io",
              "crd/modelreleases.cd4ml.io"});
}

}  // namespace cd4ml::e2e
