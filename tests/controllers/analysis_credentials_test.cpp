// Prometheus credentials from Secrets: what is read, when, and the message a
// user sees in every measurement when a Secret is missing or unfit.

#include "operator/controllers/modelrelease/analysis_credentials.hpp"

#include <gtest/gtest.h>

#include <map>

#include "operator/controllers/modelrelease/analysis_queries.hpp"
#include "operator/kube/errors.hpp"

namespace cd4ml::controllers::modelrelease {
namespace {

using nlohmann::json;

const char* const kPem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";

// Secrets by name in the release's namespace, as the API server returns
// them (data base64-encoded); each GET is counted.
struct Secrets {
  std::map<std::string, json> by_name;
  std::optional<kube::ApiError> refuse;
  int gets = 0;

  SecretGetter getter() {
    return [this](const std::string& name) -> std::optional<json> {
      ++gets;
      if (refuse) throw *refuse;
      const auto it = by_name.find(name);
      if (it == by_name.end()) return std::nullopt;
      return it->second;
    };
  }
};

api::AnalysisSpec with_refs(std::optional<api::SecretKeyRef> token,
                            std::optional<api::SecretKeyRef> ca) {
  api::AnalysisSpec spec;
  spec.address = "https://prometheus.monitoring:9090";
  spec.bearer_token_secret = std::move(token);
  spec.ca_secret = std::move(ca);
  return spec;
}

TEST(PromCredentials, NoReferenceReadsNoSecret) {
  Secrets secrets;
  const PromCredentials c = read_prom_credentials(with_refs({}, {}), "ml", secrets.getter());
  EXPECT_EQ(secrets.gets, 0) << "a release that names no Secret needs no Secret rights";
  EXPECT_TRUE(c.problem.empty());
  EXPECT_TRUE(c.bearer_token.empty());
  EXPECT_TRUE(c.ca_pem.empty());
}

TEST(PromCredentials, TokenAndCaAreDecodedAndTheTokenTrimmed) {
  Secrets secrets;
  // "s3cr3t\n" and the PEM above, base64 as the API server returns them.
  secrets.by_name["prom"] = {{"data", {{"token", "czNjcjN0Cg=="}}}};
  secrets.by_name["prom-ca"] = {
      {"data",
       {{"ca.crt",
         "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCk1JSUIKLS0tLS1FTkQgQ0VSVElGSUNBVEUtLS0tLQo="}}}};
  const PromCredentials c = read_prom_credentials(
      with_refs(api::SecretKeyRef{"prom", "token"}, api::SecretKeyRef{"prom-ca", "ca.crt"}), "ml",
      secrets.getter());
  EXPECT_TRUE(c.problem.empty()) << c.problem;
  EXPECT_EQ(c.bearer_token, "s3cr3t") << "the trailing newline of a --from-file Secret is dropped";
  EXPECT_EQ(c.ca_pem, kPem);
  EXPECT_EQ(secrets.gets, 2);
}

TEST(PromCredentials, EachUnfitSecretIsNamedWithTheReason) {
  const api::SecretKeyRef token{"prom", "token"};
  struct Case {
    json secret;  // null: none
    std::string expected;
  };
  const std::vector<Case> cases = {
      {nullptr, "Secret ml/prom (spec.analysis.prometheus.bearerTokenSecretRef) not found"},
      {{{"data", {{"other", "eA=="}}}}, "has no key \"token\""},
      {{{"metadata", {{"name", "prom"}}}}, "has no key \"token\""},
      {{{"data", {{"token", "!!not base64!!"}}}}, "key \"token\" is not valid base64"},
      {{{"data", {{"token", "IAo="}}}}, "is empty"},
  };
  for (const auto& c : cases) {
    Secrets secrets;
    if (!c.secret.is_null()) secrets.by_name["prom"] = c.secret;
    const PromCredentials got = read_prom_credentials(with_refs(token, {}), "ml", secrets.getter());
    EXPECT_NE(got.problem.find(c.expected), std::string::npos)
        << c.secret.dump() << " -> " << got.problem;
    EXPECT_TRUE(got.bearer_token.empty());
  }
}

TEST(PromCredentials, ACaThatIsNoPemIsRefused) {
  Secrets secrets;
  secrets.by_name["prom-ca"] = {{"data", {{"ca.crt", "bm90IGEgY2VydA=="}}}};  // "not a cert"
  const PromCredentials c = read_prom_credentials(
      with_refs({}, api::SecretKeyRef{"prom-ca", "ca.crt"}), "ml", secrets.getter());
  EXPECT_NE(c.problem.find("Secret ml/prom-ca key \"ca.crt\""), std::string::npos) << c.problem;
  EXPECT_NE(c.problem.find("no PEM certificate"), std::string::npos) << c.problem;
}

TEST(PromCredentials, AForbiddenReadSaysWhichRightIsMissing) {
  Secrets secrets;
  secrets.refuse.emplace(kube::ErrorKind::Forbidden, 403, "Forbidden",
                         "secrets \"prom\" is forbidden: User cannot get resource");
  const PromCredentials c = read_prom_credentials(with_refs(api::SecretKeyRef{"prom", "token"}, {}),
                                                  "ml", secrets.getter());
  EXPECT_NE(c.problem.find("cannot be read: secrets \"prom\" is forbidden"), std::string::npos)
      << c.problem;
  EXPECT_NE(c.problem.find("analysis.secretNames"), std::string::npos) << c.problem;
}

// Records what each query was sent with.
struct RecordingPrometheus : kube::PromQuerier {
  std::vector<kube::PromEndpoint> asked;
  kube::PromResult query(const kube::PromEndpoint& endpoint, const std::string& /*promql*/,
                         std::chrono::system_clock::time_point /*at*/) override {
    asked.push_back(endpoint);
    kube::PromResult r;
    r.ok = true;
    r.samples.push_back({{}, 1.0});
    return r;
  }
};

api::AnalysisSpec one_metric_spec() {
  api::AnalysisSpec spec = with_refs({}, {});
  api::AnalysisMetric m;
  m.name = "live-accuracy";
  m.query = "accuracy";
  m.min = 0.5;
  spec.metrics.push_back(m);
  return spec;
}

TEST(PromCredentials, QueriesCarryTheCredentials) {
  auto prom = std::make_shared<RecordingPrometheus>();
  PromCredentials credentials;
  credentials.bearer_token = "s3cr3t";
  credentials.ca_pem = kPem;
  const auto measured =
      take_measurements({prom, "", nullptr}, one_metric_spec(), credentials, AnalysisRequest{},
                        {"churn", "ml"}, std::chrono::system_clock::now());
  ASSERT_EQ(prom->asked.size(), 1u);
  EXPECT_EQ(prom->asked[0].bearer_token, "s3cr3t");
  EXPECT_EQ(prom->asked[0].ca_pem, kPem);
  EXPECT_EQ(prom->asked[0].address, "https://prometheus.monitoring:9090");
  ASSERT_EQ(measured.size(), 1u);
  EXPECT_EQ(measured[0].result, MeasurementResult::Successful);
}

TEST(PromCredentials, MissingCredentialsAreAnErrorAndSendNoQuery) {
  auto prom = std::make_shared<RecordingPrometheus>();
  PromCredentials credentials;
  credentials.problem = "Secret ml/prom (spec.analysis.prometheus.bearerTokenSecretRef) not found";
  const auto measured =
      take_measurements({prom, "", nullptr}, one_metric_spec(), credentials, AnalysisRequest{},
                        {"churn", "ml"}, std::chrono::system_clock::now());
  EXPECT_TRUE(prom->asked.empty()) << "never asked without the token it needs";
  ASSERT_EQ(measured.size(), 1u);
  EXPECT_EQ(measured[0].result, MeasurementResult::Error)
      << "missing credentials are missing evidence, never a failure";
  EXPECT_EQ(measured[0].message, credentials.problem);
}

}  // namespace
}  // namespace cd4ml::controllers::modelrelease
