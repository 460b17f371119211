#pragma once
// Quality gates: checks on a candidate's offline metrics before it may be
// promoted. A missing candidate metric fails its gate (nothing proves the
// model good enough); compareToActive passes when there is no active revision
// or the active one lacks the metric (nothing to compare with), and says so.

#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "operator/api/modelrelease.hpp"

namespace cd4ml::controllers::modelrelease {

struct GateResult {
  std::string metric;
  std::string rule;  // human form, e.g. "accuracy >= 0.9", "auc no worse than active (0.81)"
  bool passed = false;
  std::string message;
};

using Metrics = std::map<std::string, double>;

std::vector<GateResult> evaluate_gates(const std::vector<api::Gate>& gates,
                                       const Metrics& candidate,
                                       const std::optional<Metrics>& active);

// Every gate passed as skipped: the candidate serves the model the active
// revision serves (only its pod template changed).
std::vector<GateResult> skipped_gates(const std::vector<api::Gate>& gates);

bool all_passed(const std::vector<GateResult>& results);
// "accuracy 0.85 < min 0.9; auc ..." for the failing gates only.
std::string describe_failures(const std::vector<GateResult>& results);

nlohmann::json to_json(const std::vector<GateResult>& results);

}  // namespace cd4ml::controllers::modelrelease
