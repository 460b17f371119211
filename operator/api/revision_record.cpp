#include "operator/api/revision_record.hpp"

#include <array>
#include <utility>

#include "operator/api/conditions.hpp"
#include "operator/api/modelrelease.hpp"

namespace cd4ml::api {

namespace {

constexpr std::array<std::pair<RevisionState, const char*>, 5> kStateNames = {{
    {RevisionState::Preview, revision_state::kPreview},
    {RevisionState::Active, revision_state::kActive},
    {RevisionState::Inactive, revision_state::kInactive},
    {RevisionState::Rejected, revision_state::kRejected},
    {RevisionState::Aborted, revision_state::kAborted},
}};

std::optional<RevisionState> state_named(std::string_view name) {
  for (const auto& [state, text] : kStateNames) {
    if (name == text) return state;
  }
  return std::nullopt;
}

// A time as this operator and the API server write it; anything else (a
// fraction, an offset, a typo) is not read, so it is written back as it was.
std::optional<Seconds> whole_seconds(const Json& value) {
  if (!value.is_string()) return std::nullopt;
  const std::string& text = value.get_ref<const std::string&>();
  const auto parsed = parse_rfc3339(text);
  if (!parsed || rfc3339(*parsed) != text) return std::nullopt;
  return std::chrono::floor<std::chrono::seconds>(*parsed);
}

// Reads `value` into `field` when it has the field's type; false otherwise.
bool read_string(const Json& value, std::string& field) {
  if (!value.is_string()) return false;
  field = value.get<std::string>();
  return true;
}

bool read_time(const Json& value, std::optional<Seconds>& field) {
  field = whole_seconds(value);
  return field.has_value();
}

bool read_field(RevisionRecord& r, const std::string& key, const Json& value) {
  if (key == "revision") return read_string(value, r.revision);
  if (key == "modelVersion") return read_string(value, r.model_version);
  if (key == "modelURI") return read_string(value, r.model_uri);
  if (key == "trainingRun") return read_string(value, r.training_run);
  if (key == "deployment") return read_string(value, r.deployment);
  if (key == "reason") return read_string(value, r.reason);
  if (key == "message") return read_string(value, r.message);
  if (key == "createdAt") return read_time(value, r.created_at);
  if (key == "progressingSince") return read_time(value, r.progressing_since);
  if (key == "promotedAt") return read_time(value, r.promoted_at);
  if (key == "scaleDownAt") return read_time(value, r.scale_down_at);
  if (key == "state") {
    const auto state = value.is_string() ? state_named(value.get<std::string>()) : std::nullopt;
    r.state = state.value_or(RevisionState::Unknown);
    return state.has_value();
  }
  if (key == "everActive") {
    if (!value.is_boolean()) return false;
    r.ever_active = value.get<bool>();
    return true;
  }
  if (key == "metrics") {
    r.metrics = value;
    return true;
  }
  if (key == "gates") {
    r.gates = value;
    return true;
  }
  return false;
}

}  // namespace

std::string_view to_string(RevisionState state) {
  for (const auto& [known, text] : kStateNames) {
    if (known == state) return text;
  }
  return "";
}

std::map<std::string, double> RevisionRecord::numeric_metrics() const {
  std::map<std::string, double> out;
  if (!metrics.is_object()) return out;
  for (const auto& [name, value] : metrics.items()) {
    if (value.is_number()) out[name] = value.get<double>();
  }
  return out;
}

RevisionRecord revision_record_from_json(const Json& record) {
  RevisionRecord r;
  r.state = RevisionState::Unknown;  // until a state is read
  if (!record.is_object()) return r;
  for (const auto& [key, value] : record.items()) {
    if (!read_field(r, key, value)) r.unknown[key] = value;
  }
  return r;
}

Json to_json(const RevisionRecord& r) {
  Json out = r.unknown;
  // Always written by this version, empty or not.
  out["revision"] = r.revision;
  out["modelVersion"] = r.model_version;
  out["modelURI"] = r.model_uri;
  out["deployment"] = r.deployment;
  if (r.state != RevisionState::Unknown) out["state"] = to_string(r.state);
  const auto text = [&out](const char* key, const std::string& value) {
    if (!value.empty()) out[key] = value;
  };
  text("trainingRun", r.training_run);
  text("reason", r.reason);
  text("message", r.message);
  const auto time = [&out](const char* key, const std::optional<Seconds>& value) {
    if (value) out[key] = rfc3339(*value);
  };
  time("createdAt", r.created_at);
  time("progressingSince", r.progressing_since);
  time("promotedAt", r.promoted_at);
  time("scaleDownAt", r.scale_down_at);
  if (r.ever_active) out["everActive"] = true;
  if (!r.metrics.is_null()) out["metrics"] = r.metrics;
  if (!r.gates.is_null()) out["gates"] = r.gates;
  return out;
}

}  // namespace cd4ml::api
