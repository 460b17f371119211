#include "operator/controllers/modelrelease/analysis_credentials.hpp"

#include "operator/kube/config_files.hpp"
#include "operator/kube/errors.hpp"
#include "operator/kube/secret_data.hpp"

namespace cd4ml::controllers::modelrelease {

namespace {

// The value of one reference, or the reason there is none (in `problem`).
std::optional<std::string> read_ref(const api::SecretKeyRef& ref, const char* field,
                                    const std::string& ns, const SecretGetter& get_secret,
                                    std::string& problem) {
  const std::string subject =
      "Secret " + ns + "/" + ref.name + " (spec.analysis.prometheus." + field + ")";
  std::optional<nlohmann::json> secret;
  try {
    secret = get_secret(ref.name);
  } catch (const kube::ApiError& e) {
    problem = subject + " cannot be read: " + e.user_message();
    if (e.kind() == kube::ErrorKind::Forbidden) {
      problem += "; the operator needs get on it (chart value analysis.secretNames)";
    }
    return std::nullopt;
  }
  if (!secret) {
    problem = subject + " not found";
    return std::nullopt;
  }
  kube::SecretValue value = kube::secret_value(*secret, ref.key);
  switch (value.state) {
    case kube::SecretValue::State::NoSuchKey:
      problem = subject + " has no key \"" + ref.key + "\"";
      return std::nullopt;
    case kube::SecretValue::State::NotBase64:
      problem = subject + " key \"" + ref.key + "\" is not valid base64";
      return std::nullopt;
    case kube::SecretValue::State::Found: break;
  }
  return std::move(value.value);
}

}  // namespace

PromCredentials read_prom_credentials(const api::AnalysisSpec& spec, const std::string& ns,
                                      const SecretGetter& get_secret) {
  PromCredentials out;
  if (spec.bearer_token_secret) {
    auto token =
        read_ref(*spec.bearer_token_secret, "bearerTokenSecretRef", ns, get_secret, out.problem);
    if (!token) return out;
    // As Prometheus reads its own token files: a Secret made with
    // --from-file usually ends in a newline that is not part of the token.
    out.bearer_token = std::string(kube::config_files::trim(*token));
    if (out.bearer_token.empty()) {
      out.problem = "Secret " + ns + "/" + spec.bearer_token_secret->name + " key \"" +
                    spec.bearer_token_secret->key +
                    "\" (spec.analysis.prometheus.bearerTokenSecretRef) is empty";
      return out;
    }
  }
  if (spec.ca_secret) {
    auto ca = read_ref(*spec.ca_secret, "caSecretRef", ns, get_secret, out.problem);
    if (!ca) return out;
    if (!kube::config_files::looks_like_pem(*ca)) {
      out.problem = "Secret " + ns + "/" + spec.ca_secret->name + " key \"" + spec.ca_secret->key +
                    "\" (spec.analysis.prometheus.caSecretRef) holds no PEM certificate";
      return out;
    }
    out.ca_pem = std::move(*ca);
  }
  return out;
}

}  // namespace cd4ml::controllers::modelrelease
