#pragma once
// One entry of a ModelRelease's status.revisions, typed: what the release
// remembers of a revision that the cluster cannot show (its state and why,
// when it was created, promoted and is due to be scaled down, the model's
// metrics and gate results). The JSON field names are public contract
// (docs/api-reference.md).
//
// Reading and writing back a record changes nothing: fields this version
// does not model, and modelled ones it cannot read (a state written by a
// newer version, a hand-edited time), are kept as they were and written back
// unchanged, unless the planner sets the field itself.

#include <chrono>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace cd4ml::api {

using Json = nlohmann::json;

enum class RevisionState {
  Preview,   // the candidate: what spec asks for, not yet active
  Active,    // the active Service selects it
  Inactive,  // replaced or superseded; kept for rollback
  Rejected,  // its gates failed
  Aborted,   // not available in time, refused, or aborted by annotation
  Unknown,   // a state this version does not know; kept as written
};

// The status text of a state ("" for Unknown).
std::string_view to_string(RevisionState state);

// Status times have whole seconds (metav1.Time).
using Seconds = std::chrono::sys_seconds;

struct RevisionRecord {
  std::string revision;
  std::string model_version;
  std::string model_uri;
  std::string training_run;  // "" for a model given by uri + version
  std::string deployment;
  RevisionState state = RevisionState::Preview;
  std::string reason;  // why it is Inactive, Rejected or Aborted ("" otherwise)
  std::string message;
  bool ever_active = false;  // served once: a way back to it skips gates
  std::optional<Seconds> created_at;
  std::optional<Seconds> progressing_since;  // start of its progress deadline
  std::optional<Seconds> promoted_at;
  std::optional<Seconds> scale_down_at;  // replaced: scaled to 0 from then on
  // As the model reported them, by name (numbers); null when absent. Kept as
  // JSON: gates read the numbers, the rest passes through untouched.
  Json metrics;
  Json gates;  // results of the last evaluation (array); null when never evaluated

  Json unknown = Json::object();  // fields not read above, as they were

  std::map<std::string, double> numeric_metrics() const;
};

RevisionRecord revision_record_from_json(const Json& record);
Json to_json(const RevisionRecord& record);

}  // namespace cd4ml::api
