#pragma once
// The local control plane as end-to-end tests see it: kubectl against
// .cluster/kubeconfig (an independent client, so tests do not grade the
// operator with its own code), a fresh namespace per test, and waiting for a
// condition with a deadline instead of sleeping.

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "process.hpp"

namespace cd4ml::e2e {

using Json = nlohmann::json;
using namespace std::chrono_literals;

std::filesystem::path source_dir();
std::filesystem::path kubeconfig_path();
std::filesystem::path kubectl_path();
// A KEY=VALUE of .cluster/env (ports, REAL_NODE, ...); "" when absent.
std::string cluster_env(const std::string& key);
// Where tests put their logs (operator output): <build>/e2e-logs/<test name>.
std::filesystem::path test_log_dir();

// Runs kubectl with the cluster's kubeconfig.
CommandResult kubectl(const std::vector<std::string>& args, const std::string& input = {});
// kubectl that must succeed; fails the test with its stderr otherwise.
std::string kubectl_ok(const std::vector<std::string>& args, const std::string& input = {});
// `kubectl get -o json`; nullopt when not found.
std::optional<Json> get_json(const std::string& resource, const std::string& ns,
                             const std::string& name);
std::vector<Json> list_json(const std::string& resource, const std::string& ns,
                            const std::string& selector = {});
void apply_json(const Json& object);
// How often each Event reason was told about objects of `kind` in `ns` (only
// object `name`, if given): Events folded by the recorder count their count.
std::map<std::string, int> events_told(const std::string& ns, const std::string& kind,
                                       const std::string& name = {});

// Polls `check` until it returns true or the deadline passes; on timeout the
// test fails with `what` and whatever `describe` says about the last state.
bool wait_until(const std::string& what, std::chrono::milliseconds deadline,
                const std::function<bool()>& check,
                const std::function<std::string()>& describe = {});

// A namespace just for one test, deleted (without waiting) when it ends.
class TestNamespace {
 public:
  TestNamespace();
  ~TestNamespace();
  const std::string& name() const { return name_; }

 private:
  std::string name_;
};

// Installs the CRDs from crds/ and waits until they are served.
void install_crds();

}  // namespace cd4ml::e2e
