#include <gtest/gtest.h>

#include "operator/api/conditions.hpp"
#include "operator/controllers/modelrelease/release_status.hpp"

namespace cd4ml::controllers::modelrelease {
namespace {

using Json = nlohmann::json;
const auto kNow = std::chrono::system_clock::time_point(std::chrono::seconds(1'800'000'000));

std::string condition(const Json& status, const char* type, const char* field) {
  const Json* c = api::find_condition(status["conditions"], type);
  return c == nullptr ? "<none>" : c->value(field, "");
}

TEST(ServiceWriteFailedStatus, HealthyReleaseSaysWhyAndIsNoLongerReady) {
  const Json old = {{"phase", "Healthy"},
                    {"activeModelVersion", "v1"},
                    {"revisions", Json::array({{{"revision", "abc"}, {"state", "Active"}}})},
                    {"conditions", Json::array({{{"type", "Ready"}, {"status", "True"}}})}};
  const Json s =
      service_write_failed_status(old, 3, "churn-preview", "exceeded quota: services=0", kNow);
  EXPECT_EQ(s["phase"], "Progressing");
  EXPECT_EQ(s["message"],
            "writing Service churn-preview failed: exceeded quota: services=0; retrying");
  EXPECT_EQ(condition(s, "Ready", "status"), "False");
  EXPECT_EQ(condition(s, "Ready", "reason"), "ServiceWriteFailed");
  EXPECT_EQ(condition(s, "Reconciling", "status"), "True");
  EXPECT_EQ(condition(s, "Stalled", "status"), "False");
  // Everything else is left as it was: no revision moved.
  EXPECT_EQ(s["revisions"], old["revisions"]);
  EXPECT_EQ(s["activeModelVersion"], "v1");
}

TEST(ServiceWriteFailedStatus, FirstReleaseIsPending) {
  const Json s = service_write_failed_status(Json(), 1, "churn", "range is full", kNow);
  EXPECT_EQ(s["phase"], "Pending");
  EXPECT_EQ(condition(s, "Reconciling", "reason"), "ServiceWriteFailed");
}

TEST(ServiceWriteFailedStatus, DegradedStaysDegraded) {
  const Json s = service_write_failed_status({{"phase", "Degraded"}}, 1, "churn", "x", kNow);
  EXPECT_EQ(s["phase"], "Degraded");
}

}  // namespace
}  // namespace cd4ml::controllers::modelrelease
