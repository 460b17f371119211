#pragma once
// The Prometheus credentials a release's analysis names
// (spec.analysis.prometheus.bearerTokenSecretRef / caSecretRef), read from
// Secrets in the release's namespace when a measurement is due: never
// cached, so a rotated token is used from the next measurement, and never
// read for a release that names none (the operator needs no Secret rights
// unless a release asks for them).

#include <functional>
#include <optional>
#include <string>

#include "operator/api/analysis_spec.hpp"

namespace cd4ml::controllers::modelrelease {

struct PromCredentials {
  std::string bearer_token;  // "" = none
  std::string ca_pem;        // "" = the system trust store
  // Not empty: the credentials cannot be had, and every measurement is an
  // Error with this text (which Secret, which key, and why).
  std::string problem;
};

// GET of a Secret by name in the release's namespace: nullopt when there is
// none; throws kube::ApiError on any other failure.
using SecretGetter = std::function<std::optional<nlohmann::json>(const std::string& name)>;

PromCredentials read_prom_credentials(const api::AnalysisSpec& spec, const std::string& ns,
                                      const SecretGetter& get_secret);

}  // namespace cd4ml::controllers::modelrelease
