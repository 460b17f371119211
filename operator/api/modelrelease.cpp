#include "operator/api/modelrelease.hpp"

#include <regex>

#include "operator/api/canonical.hpp"
#include "operator/api/json_read.hpp"

namespace cd4ml::api {

namespace {

using json_read::get_or;
using json_read::member;
using json_read::number;

Gate parse_gate(const Json& g) {
  Gate gate;
  gate.metric = get_or<std::string>(g, "metric", "");
  gate.min = number(g, "min");
  gate.max = number(g, "max");
  gate.compare_to_active = get_or<std::string>(g, "compareToActive", "");
  gate.tolerance = get_or<double>(g, "tolerance", 0.0);
  gate.higher_is_better = get_or<std::string>(g, "direction", "HigherIsBetter") != "LowerIsBetter";
  return gate;
}

CanaryStep parse_canary_step(const Json& s) {
  CanaryStep step;
  step.set_weight = number(s, "setWeight");
  const Json& pause = member(s, "pause");
  if (pause.is_object()) {
    step.pause = true;
    step.pause_duration = parse_duration(get_or<std::string>(pause, "duration", ""));
  }
  // `analysis: {}` has no fields of its own: it runs spec.analysis.
  step.analysis = member(s, "analysis").is_object();
  return step;
}

}  // namespace

std::optional<std::chrono::seconds> parse_duration(const std::string& text) {
  static const std::regex kDuration("^([0-9]{1,9}h)?([0-9]{1,9}m)?([0-9]{1,9}s)?$");
  std::smatch m;
  if (text.empty() || !std::regex_match(text, m, kDuration)) return std::nullopt;
  std::chrono::seconds total{0};
  const long factors[] = {3600, 60, 1};
  for (std::size_t i = 0; i < 3; ++i) {
    const std::string part = m[i + 1].str();
    if (!part.empty()) total += std::chrono::seconds(std::stol(part) * factors[i]);
  }
  return total;
}

ReleaseSpec parse_release_spec(const Json& release) {
  const Json& spec = member(release, "spec");
  const std::string name = get_or<std::string>(member(release, "metadata"), "name", "");
  ReleaseSpec out;

  const Json& model = member(spec, "model");
  out.training_run = get_or<std::string>(member(model, "trainingRunRef"), "name", "");
  out.model_uri = get_or<std::string>(model, "uri", "");
  out.model_version = get_or<std::string>(model, "version", "");
  for (const auto& [metric, value] : member(model, "metrics").items()) {
    if (value.is_number()) out.model_metrics[metric] = value.get<double>();
  }

  out.pod_template = member(spec, "template");
  out.replicas = get_or<int>(spec, "replicas", 1);
  const Json& service = member(spec, "service");
  out.port = get_or<int>(service, "port", 80);
  out.target_port = member(service, "targetPort");

  const Json& strategy = member(spec, "strategy");
  const Json& canary = member(strategy, "canary");
  if (canary.is_object()) {
    // The CRD refuses blueGreen beside canary; an object stored before that
    // rule is read as the canary it also asks for.
    out.canary.emplace();
    for (const auto& s : member(canary, "steps")) {
      out.canary->steps.push_back(parse_canary_step(s));
    }
    out.scale_down_delay_seconds = get_or<int>(canary, "scaleDownDelaySeconds", 30);
    out.active_service = get_or<std::string>(canary, "activeService", name);
    out.preview_service = get_or<std::string>(canary, "canaryService", name + "-canary");
    out.preview_replicas = out.replicas;
    const Json& gateway = member(member(canary, "trafficRouting"), "gatewayAPI");
    out.canary->http_route = get_or<std::string>(gateway, "httpRoute", "");
    out.canary->stable_service = get_or<std::string>(canary, "stableService", name + "-stable");
  } else {
    const Json& blue_green = member(strategy, "blueGreen");
    out.auto_promotion = get_or<bool>(blue_green, "autoPromotion", true);
    out.preview_replicas = get_or<int>(blue_green, "previewReplicas", out.replicas);
    out.scale_down_delay_seconds = get_or<int>(blue_green, "scaleDownDelaySeconds", 30);
    out.active_service = get_or<std::string>(blue_green, "activeService", name);
    out.preview_service = get_or<std::string>(blue_green, "previewService", name + "-preview");
  }

  for (const auto& g : member(spec, "gates")) out.gates.push_back(parse_gate(g));
  out.analysis = parse_analysis_spec(spec);
  out.progress_deadline_seconds = get_or<int>(spec, "progressDeadlineSeconds", 600);
  out.revision_history_limit = get_or<int>(spec, "revisionHistoryLimit", 2);
  return out;
}

std::string revision_id(const std::string& model_version, const std::string& model_uri,
                        const Json& pod_template) {
  const Json input = {
      {"modelVersion", model_version}, {"modelURI", model_uri}, {"template", pod_template}};
  return sha256_hex(canonical_json(input)).substr(0, 10);
}

}  // namespace cd4ml::api
