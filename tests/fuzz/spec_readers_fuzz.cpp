// The readers of the two kinds' specs (operator/api) on any JSON: a stored
// object can predate the CRD's validation or come from a newer one, so a
// reader may refuse it with an exception but must not crash or misbehave.
// The input is one JSON document, read as a ModelRelease, its spec (or the
// document) as a TrainingRun spec, its "duration" as a pause duration, and
// its "status" as a release's status.analysis (read back from the server on
// every reconcile, so it must never throw).

#include <cstdint>
#include <string_view>

#include "operator/api/modelrelease.hpp"
#include "operator/api/trainingrun.hpp"
#include "operator/controllers/modelrelease/analysis.hpp"

using Json = nlohmann::json;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const Json input = Json::parse(data, data + size, nullptr, false);
  if (input.is_discarded() || !input.is_object()) return 0;
  try {
    const auto spec = cd4ml::api::parse_release_spec(input);
    (void)cd4ml::api::revision_id(spec.model_version, spec.model_uri,
                                  input.value("/spec/template"_json_pointer, Json::object()));
  } catch (const std::exception&) {
  }
  try {
    (void)cd4ml::api::identify(input.value("spec", input));
  } catch (const std::exception&) {
  }
  const Json duration = input.value("duration", Json());
  if (duration.is_string()) (void)cd4ml::api::parse_duration(duration.get<std::string>());
  namespace mr = cd4ml::controllers::modelrelease;
  if (const auto record = mr::analysis_record_from_json(input.value("status", Json()))) {
    (void)mr::to_json(*record);
  }
  return 0;
}
