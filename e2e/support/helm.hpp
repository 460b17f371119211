#pragma once
// Helm for tests of the chart (charts/cd4ml-operator): the binary built from
// its pinned Go module by e2e/scripts/build-toolchain.sh, and YAML output
// turned into JSON so tests can assert on objects rather than on text.

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "process.hpp"

namespace cd4ml::e2e {

// build-toolchain.sh helm (quick once built; minutes the first time).
std::filesystem::path helm_path();
std::filesystem::path chart_dir();
// The ServiceMonitor CRD of the pinned prometheus-operator release
// (build-toolchain.sh servicemonitor-crd).
std::filesystem::path servicemonitor_crd_path();
// The Gateway API standard CRDs of the pinned release, one file per kind
// (build-toolchain.sh gateway-api-crds).
std::filesystem::path gateway_api_crds_dir();

// Runs helm with `args`; against the local cluster when `with_cluster`.
CommandResult helm(const std::vector<std::string>& args, bool with_cluster = false);

// Every non-empty document of a multi-document YAML stream, as JSON. Plain
// scalars become booleans, integers, floats or null where YAML 1.2's core
// schema says so; quoted scalars stay strings.
std::vector<nlohmann::json> yaml_documents(const std::string& text);

std::string read_text(const std::filesystem::path& path);

}  // namespace cd4ml::e2e
