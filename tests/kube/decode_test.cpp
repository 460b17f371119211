#include <gtest/gtest.h>

#include "operator/kube/errors.hpp"
#include "operator/kube/requests.hpp"

namespace cd4ml::kube {
namespace {

std::string status_body(int code, const std::string& reason, const std::string& message) {
  return Json{{"kind", "Status"},   {"apiVersion", "v1"}, {"status", "Failure"},
              {"message", message}, {"reason", reason},   {"code", code}}
      .dump();
}

HttpResponse response(int status, std::string body) {
  HttpResponse r;
  r.status = status;
  r.body = std::move(body);
  r.content_type = "application/json";
  return r;
}

struct StatusCase {
  const char* name;
  int http_status;
  const char* reason;
  ErrorKind kind;
};

class DecodeStatus : public ::testing::TestWithParam<StatusCase> {};

TEST_P(DecodeStatus, GivesTheKindAndKeepsTheServersMessage) {
  const auto& c = GetParam();
  const std::string message = "configmaps \"x\" says " + std::string(c.name);
  try {
    decode(response(c.http_status, status_body(c.http_status, c.reason, message)));
    FAIL() << "expected ApiError";
  } catch (const ApiError& e) {
    EXPECT_EQ(e.kind(), c.kind) << to_string(e.kind());
    EXPECT_EQ(e.http_status(), c.http_status);
    EXPECT_EQ(e.reason(), c.reason);
    EXPECT_EQ(e.status_message(), message);
    EXPECT_NE(std::string(e.what()).find(message), std::string::npos);
  }
}

INSTANTIATE_TEST_SUITE_P(
    Decode, DecodeStatus,
    ::testing::Values(
        StatusCase{"NotFound", 404, "NotFound", ErrorKind::NotFound},
        StatusCase{"AlreadyExists", 409, "AlreadyExists", ErrorKind::AlreadyExists},
        StatusCase{"Conflict", 409, "Conflict", ErrorKind::Conflict},
        StatusCase{"Gone", 410, "Gone", ErrorKind::Gone},
        StatusCase{"Expired", 410, "Expired", ErrorKind::Gone},
        StatusCase{"Forbidden", 403, "Forbidden", ErrorKind::Forbidden},
        StatusCase{"Unauthorized", 401, "Unauthorized", ErrorKind::Unauthorized},
        StatusCase{"Invalid", 422, "Invalid", ErrorKind::Invalid},
        StatusCase{"BadRequest", 400, "BadRequest", ErrorKind::BadRequest},
        StatusCase{"TooManyRequests", 429, "TooManyRequests", ErrorKind::TooManyRequests},
        StatusCase{"InternalError", 500, "InternalError", ErrorKind::ServerError},
        StatusCase{"ServiceUnavailable", 503, "ServiceUnavailable", ErrorKind::ServerError},
        StatusCase{"GatewayTimeout", 504, "Timeout", ErrorKind::Timeout}),
    [](const auto& case_info) { return std::string(case_info.param.name); });

TEST(Decode, TooManyRequestsCarriesRetryAfter) {
  auto r = response(429, status_body(429, "TooManyRequests", "slow down"));
  r.retry_after = std::chrono::seconds(7);
  try {
    decode(r);
    FAIL() << "expected ApiError";
  } catch (const ApiError& e) {
    EXPECT_EQ(e.kind(), ErrorKind::TooManyRequests);
    ASSERT_TRUE(e.retry_after().has_value());
    EXPECT_EQ(*e.retry_after(), std::chrono::seconds(7));
  }
}

TEST(Decode, ErrorBodyThatIsNotAStatusBecomesTheMessage) {
  try {
    decode(response(502, "<html>Bad Gateway</html>"));
    FAIL() << "expected ApiError";
  } catch (const ApiError& e) {
    EXPECT_EQ(e.kind(), ErrorKind::ServerError);
    EXPECT_EQ(e.status_message(), "<html>Bad Gateway</html>");
  }
}

TEST(Decode, StatusWithWronglyTypedFieldsStillGivesAnApiError) {
  try {
    decode(response(409, R"({"kind":"Status","reason":5,"message":["x"],"code":"409"})"));
    FAIL() << "expected ApiError";
  } catch (const ApiError& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Conflict);
    EXPECT_EQ(e.reason(), "");
  }
  try {
    decode(response(404, R"({"kind":7})"));
    FAIL() << "expected ApiError";
  } catch (const ApiError& e) {
    EXPECT_EQ(e.kind(), ErrorKind::NotFound);
    EXPECT_EQ(e.status_message(), R"({"kind":7})");
  }
}

TEST(Decode, SuccessParsesTheBodyAndEmptyIsAnEmptyObject) {
  EXPECT_EQ(decode(response(200, R"({"kind":"ConfigMap","data":{"a":"b"}})"))["data"]["a"], "b");
  EXPECT_EQ(decode(response(201, R"({"x":1})"))["x"], 1);
  EXPECT_EQ(decode(response(200, "")), Json::object());
}

TEST(Decode, SuccessWithMalformedJsonIsAnError) {
  EXPECT_THROW(decode(response(200, "{\"truncated\": ")), ApiError);
}

TEST(DecodeList, ItemsResourceVersionAndContinue) {
  const auto result = decode_list(response(200, R"({
    "kind": "ConfigMapList", "apiVersion": "v1",
    "metadata": {"resourceVersion": "991", "continue": "next-page"},
    "items": [
      {"metadata": {"name": "a", "namespace": "ml"}},
      {"metadata": {"name": "b", "namespace": "ml"}, "kind": "ConfigMap"}
    ]})"));
  ASSERT_EQ(result.items.size(), 2u);
  EXPECT_EQ(result.resource_version, "991");
  EXPECT_EQ(result.continue_token, "next-page");
  // Items get their kind and apiVersion from the list, like watch objects.
  EXPECT_EQ(result.items[0]["kind"], "ConfigMap");
  EXPECT_EQ(result.items[0]["apiVersion"], "v1");
  EXPECT_EQ(result.items[0]["metadata"]["name"], "a");
  EXPECT_EQ(result.items[1]["kind"], "ConfigMap");
}

TEST(DecodeList, GroupListItemsGetTheGroupApiVersion) {
  const auto result = decode_list(response(200, R"({
    "kind": "TrainingRunList", "apiVersion": "cd4ml.io/v1alpha1",
    "metadata": {"resourceVersion": "5"}, "items": [{"metadata": {"name": "r"}}]})"));
  EXPECT_EQ(result.items.at(0)["kind"], "TrainingRun");
  EXPECT_EQ(result.items.at(0)["apiVersion"], "cd4ml.io/v1alpha1");
  EXPECT_TRUE(result.continue_token.empty());
}

TEST(DecodeList, NullItemsIsAnEmptyList) {
  const auto result = decode_list(
      response(200, R"({"kind":"PodList","metadata":{"resourceVersion":"3"},"items":null})"));
  EXPECT_TRUE(result.items.empty());
  EXPECT_EQ(result.resource_version, "3");
}

TEST(DecodeList, HostileShapesAreErrorsNotCrashes) {
  EXPECT_THROW(decode_list(response(200, R"({"kind":"PodList"})")), ApiError);
  EXPECT_THROW(decode_list(response(200, R"({"items":{"a":1}})")), ApiError);
  EXPECT_THROW(decode_list(response(200, R"([1,2,3])")), ApiError);
  // Wrongly typed metadata fields are ignored rather than thrown as type errors.
  const auto odd = decode_list(
      response(200, R"({"kind":7,"metadata":{"resourceVersion":12,"continue":null},"items":[]})"));
  EXPECT_TRUE(odd.resource_version.empty());
  EXPECT_TRUE(odd.continue_token.empty());
}

TEST(DecodeList, ErrorStatusThrowsTheTypedError) {
  try {
    decode_list(
        response(410, status_body(410, "Expired", "The provided continue parameter is too old")));
    FAIL() << "expected ApiError";
  } catch (const ApiError& e) {
    EXPECT_TRUE(is_gone(e));
  }
}

}  // namespace
}  // namespace cd4ml::kube
