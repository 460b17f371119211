// Prometheus credentials from a Secret, through the real API server: a
// release that names a Secret that does not exist pauses with that Secret in
// every measurement; once the Secret is created the next measurement goes to
// Prometheus with its token. The address is the local Prometheus with
// https://, which it does not serve (it speaks plain http): the answer is a
// TLS error naming that address, which shows the query was sent. Whether
// Prometheus accepts the token is its own business; the unit tests check
// what is sent.

#include <gtest/gtest.h>

#include "modelrelease_fixture.hpp"
#include "prometheus.hpp"
#include "samples.hpp"

namespace cd4ml::e2e {
namespace {

class AnalysisCredentials : public ReleaseFixture {
 protected:
  static Json model(const std::string& version) {
    return {{"uri", "s3://models/churn/" + version}, {"version", version}};
  }

  static std::string https_prometheus() {
    std::string url = prometheus_url();
    const std::string http = "http://";
    if (url.rfind(http, 0) == 0) url = "https://" + url.substr(http.size());
    return url;
  }

  static std::string last_message(const Json& mr) {
    const Json ms = mr.value("/status/analysis/metrics/0/measurements"_json_pointer, Json::array());
    return ms.empty() ? std::string() : ms.back().value("message", "");
  }
};

TEST_F(AnalysisCredentials, AMissingSecretPausesAndItsTokenIsUsedOnceItExists) {
  Json mr = sample_release(ns_.name(), "churn", model("v1"), 1);
  const Json metric = {{"name", "prometheus-up"},
                       {"query", R"(sum(up{job="prometheus"}))"},
                       {"min", 1},
                       {"consecutiveErrorLimit", 1}};
  mr["spec"]["analysis"] = {
      {"prometheus",
       {{"address", https_prometheus()}, {"bearerTokenSecretRef", {{"name", "prom-token"}}}}},
      {"interval", "1s"},
      {"metrics", Json::array({metric})}};
  watch("churn", 1);
  apply_json(mr);
  const std::string v1 = wait_for_phase("churn", "Healthy")["status"]["activeRevision"];
  patch_release("churn", {{"spec", {{"model", model("v2")}}}});

  const std::string missing =
      "Secret " + ns_.name() +
      "/prom-token (spec.analysis.prometheus.bearerTokenSecretRef) not found";
  const Json paused =
      wait_until_release("churn", "paused on the missing Secret", [&](const Json& r) {
        return r.value("/status/phase"_json_pointer, "") == "AwaitingPromotion" &&
               r.value("/status/analysis/phase"_json_pointer, "") == "Error" &&
               last_message(r) == missing;
      });
  EXPECT_EQ(paused["status"]["activeRevision"], v1);
  EXPECT_TRUE(has_release_event("churn", "AnalysisError"));

  // "e2e-token\n", as `kubectl create secret --from-file` would store it.
  apply_json({{"apiVersion", "v1"},
              {"kind", "Secret"},
              {"metadata", {{"name", "prom-token"}, {"namespace", ns_.name()}}},
              {"data", {{"token", "ZTJlLXRva2VuCg=="}}}});
  const Json sent =
      wait_until_release("churn", "a measurement sent to Prometheus", [&](const Json& r) {
        const std::string m = last_message(r);
        return !m.empty() && m.find("Secret") == std::string::npos;
      });
  const std::string message = last_message(sent);
  EXPECT_NE(message.find(https_prometheus()), std::string::npos)
      << "the query went to the https address: " << message;
  EXPECT_EQ(sent["status"]["activeRevision"], v1) << "missing evidence promotes nothing";
  EXPECT_EQ(sent.value("/status/analysis/metrics/0/failed"_json_pointer, -1), 0)
      << "and fails nothing";
  expect_no_violations();
}

}  // namespace
}  // namespace cd4ml::e2e
