#include "operator/api/trainingrun.hpp"

#include "operator/api/canonical.hpp"

namespace cd4ml::api {

std::string fingerprint_input(const Json& spec) {
  Json input = Json::object();
  for (const char* field : {"model", "code", "data", "trainer", "params"}) {
    if (spec.contains(field)) input[field] = spec[field];
  }
  // Where the trainer's files are mounted and which user it runs as say where
  // it runs, not what it trains: a cluster's own paths and policies must not
  // change the model version.
  if (input.contains("trainer") && input["trainer"].is_object()) {
    for (const char* field : kTrainerFieldsOutsideFingerprint) input["trainer"].erase(field);
  }
  return canonical_json(input);
}

ModelIdentity identify(const Json& spec) {
  ModelIdentity id;
  id.fingerprint = sha256_hex(fingerprint_input(spec));
  id.model_version = id.fingerprint.substr(0, 12);
  std::string base = spec.value("/output/uri"_json_pointer, std::string());
  while (!base.empty() && base.back() == '/') base.pop_back();
  id.model_uri = base + "/" + spec.value("model", std::string()) + "/" + id.model_version;
  return id;
}

bool is_terminal_phase(const std::string& phase) {
  return phase == phase::kSucceeded || phase == phase::kFailed;
}

}  // namespace cd4ml::api
