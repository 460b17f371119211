#include "operator/controllers/modelrelease/gates.hpp"

#include <sstream>

namespace cd4ml::controllers::modelrelease {

namespace {

std::string number(double value) {
  std::ostringstream out;
  out << value;
  return out.str();
}

GateResult check_bounds(const api::Gate& gate, double value) {
  GateResult r{gate.metric, "", true, ""};
  std::string rule;
  if (gate.min) rule = gate.metric + " >= " + number(*gate.min);
  if (gate.max) rule += (rule.empty() ? "" : " and ") + gate.metric + " <= " + number(*gate.max);
  r.rule = rule;
  if (gate.min && value < *gate.min) {
    r.passed = false;
    r.message = gate.metric + " " + number(value) + " is below the minimum " + number(*gate.min);
  } else if (gate.max && value > *gate.max) {
    r.passed = false;
    r.message = gate.metric + " " + number(value) + " is above the maximum " + number(*gate.max);
  } else {
    r.message = gate.metric + " " + number(value) + " is within bounds";
  }
  return r;
}

GateResult compare(const api::Gate& gate, double value, const std::optional<Metrics>& active) {
  const bool better_required = gate.compare_to_active == "Better";
  GateResult r{gate.metric, "", true, ""};
  r.rule = gate.metric + (better_required ? " better than active" : " no worse than active") +
           (gate.tolerance > 0 ? " (tolerance " + number(gate.tolerance) + ")" : "") +
           (gate.higher_is_better ? "" : ", lower is better");
  if (!active) {
    r.message = "no active revision to compare with";
    return r;
  }
  auto it = active->find(gate.metric);
  if (it == active->end()) {
    r.message = "the active revision has no " + gate.metric + " to compare with";
    return r;
  }
  const double reference = it->second;
  // Normalise to "higher is better" so one comparison serves both directions.
  const double gain = gate.higher_is_better ? value - reference : reference - value;
  r.passed = better_required ? gain > gate.tolerance : gain >= -gate.tolerance;
  r.message = gate.metric + " " + number(value) + " vs active " + number(reference) +
              (r.passed          ? ""
               : better_required ? ": not better"
                                 : ": worse");
  return r;
}

}  // namespace

std::vector<GateResult> evaluate_gates(const std::vector<api::Gate>& gates,
                                       const Metrics& candidate,
                                       const std::optional<Metrics>& active) {
  std::vector<GateResult> results;
  for (const auto& gate : gates) {
    auto it = candidate.find(gate.metric);
    if (it == candidate.end()) {
      results.push_back(
          {gate.metric, gate.metric, false, "the candidate reported no metric " + gate.metric});
      continue;
    }
    results.push_back(gate.compare_to_active.empty() ? check_bounds(gate, it->second)
                                                     : compare(gate, it->second, active));
  }
  return results;
}

bool all_passed(const std::vector<GateResult>& results) {
  for (const auto& r : results) {
    if (!r.passed) return false;
  }
  return true;
}

std::string describe_failures(const std::vector<GateResult>& results) {
  std::string out;
  for (const auto& r : results) {
    if (r.passed) continue;
    out += (out.empty() ? "" : "; ") + r.message;
  }
  return out;
}

std::vector<GateResult> skipped_gates(const std::vector<api::Gate>& gates) {
  std::vector<GateResult> out;
  out.reserve(gates.size());
  for (const auto& gate : gates) {
    out.push_back({gate.metric, gate.metric, true, "skipped: same model as the active revision"});
  }
  return out;
}

nlohmann::json to_json(const std::vector<GateResult>& results) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& r : results) {
    out.push_back(
        {{"metric", r.metric}, {"rule", r.rule}, {"passed", r.passed}, {"message", r.message}});
  }
  return out;
}

}  // namespace cd4ml::controllers::modelrelease
