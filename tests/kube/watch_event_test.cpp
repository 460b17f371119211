#include "operator/kube/watch_event.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace cd4ml::kube {
namespace {

using ::testing::HasSubstr;

TEST(WatchEvent, ParsesEachType) {
  struct Case {
    const char* wire;
    WatchEvent::Type type;
  };
  const Case cases[] = {{"ADDED", WatchEvent::Type::Added},
                        {"MODIFIED", WatchEvent::Type::Modified},
                        {"DELETED", WatchEvent::Type::Deleted},
                        {"BOOKMARK", WatchEvent::Type::Bookmark}};
  for (const auto& c : cases) {
    const auto event = parse_watch_event(std::string("{\"type\":\"") + c.wire +
                                         "\",\"object\":{\"kind\":\"ConfigMap\",\"metadata\":{"
                                         "\"name\":\"x\",\"resourceVersion\":\"77\"}}}");
    EXPECT_EQ(event.type, c.type);
    EXPECT_EQ(to_string(event.type), c.wire);
    EXPECT_EQ(event.resource_version(), "77");
    EXPECT_EQ(event.object["metadata"]["name"], "x");
    EXPECT_EQ(event.error_code(), 0);
  }
}

TEST(WatchEvent, ErrorCarriesTheStatusAndBecomesATypedError) {
  const auto event = parse_watch_event(
      R"({"type":"ERROR","object":{"kind":"Status","apiVersion":"v1","status":"Failure",)"
      R"j("message":"too old resource version: 5 (100)","reason":"Expired","code":410}})j");
  EXPECT_EQ(event.type, WatchEvent::Type::Error);
  EXPECT_EQ(event.error_code(), 410);
  EXPECT_EQ(event.resource_version(), "");
  const ApiError error = watch_error(event);
  EXPECT_TRUE(is_gone(error));
  EXPECT_EQ(error.http_status(), 410);
  EXPECT_EQ(error.status_message(), "too old resource version: 5 (100)");
}

TEST(WatchEvent, ErrorWithOtherCodesKeepsTheirKind) {
  const auto event = parse_watch_event(
      R"({"type":"ERROR","object":{"kind":"Status","message":"etcd down","code":500}})");
  EXPECT_EQ(watch_error(event).kind(), ErrorKind::ServerError);
  // A Status with no code at all.
  const auto bare = parse_watch_event(R"({"type":"ERROR","object":{"message":"?"}})");
  EXPECT_EQ(bare.error_code(), 0);
  EXPECT_EQ(watch_error(bare).kind(), ErrorKind::Other);
}

TEST(WatchEvent, ReasonDecidesTheKindWhereTheCodeDoesNot) {
  // An "Expired" Status without code 410 (as proxies and older servers send
  // it) must still make the informer relist; and the reason survives.
  const auto event = parse_watch_event(
      R"({"type":"ERROR","object":{"kind":"Status","reason":"Expired","message":"too old"}})");
  const ApiError error = watch_error(event);
  EXPECT_TRUE(is_gone(error));
  EXPECT_EQ(error.reason(), "Expired");
}

TEST(WatchEvent, WatchErrorOfANonErrorEventIsABug) {
  const auto event = parse_watch_event(R"({"type":"ADDED","object":{}})");
  EXPECT_THROW(watch_error(event), std::logic_error);
}

TEST(WatchEvent, MissingOrOddMetadataGivesEmptyResourceVersion) {
  EXPECT_EQ(parse_watch_event(R"({"type":"ADDED","object":{}})").resource_version(), "");
  EXPECT_EQ(parse_watch_event(R"({"type":"ADDED","object":{"metadata":[]}})").resource_version(),
            "");
  EXPECT_EQ(parse_watch_event(R"({"type":"ADDED","object":{"metadata":{"resourceVersion":5}}})")
                .resource_version(),
            "");
  EXPECT_EQ(parse_watch_event(R"({"type":"ERROR","object":{"code":"410"}})").error_code(), 0);
}

struct Hostile {
  const char* name;
  std::string line;
  std::string reason;
};

class HostileWatchEvent : public ::testing::TestWithParam<Hostile> {};

TEST_P(HostileWatchEvent, IsRejectedWithAShortReason) {
  try {
    parse_watch_event(GetParam().line);
    FAIL() << "expected invalid_argument";
  } catch (const std::invalid_argument& e) {
    EXPECT_THAT(e.what(), HasSubstr(GetParam().reason));
  }
}

INSTANTIATE_TEST_SUITE_P(
    WatchEvent, HostileWatchEvent,
    ::testing::Values(
        Hostile{"NotJson", "this is not json", "not JSON"},
        Hostile{"Truncated", R"({"type":"ADDED","object":{"metadata":)", "not JSON"},
        Hostile{"Array", R"(["ADDED", {}])", "not a JSON object"},
        Hostile{"Number", "42", "not a JSON object"},
        Hostile{"MissingType", R"({"object":{}})", "no \"type\""},
        Hostile{"TypeNotString", R"({"type":1,"object":{}})", "no \"type\""},
        Hostile{"UnknownType", R"({"type":"RENAMED","object":{}})",
                "unknown watch event type \"RENAMED\""},
        Hostile{"LowercaseType", R"({"type":"added","object":{}})", "unknown watch event type"},
        Hostile{"MissingObject", R"({"type":"ADDED"})", "no \"object\""},
        Hostile{"ObjectNotObject", R"({"type":"DELETED","object":"gone"})", "no \"object\""},
        Hostile{"ErrorWithoutStatus", R"({"type":"ERROR","object":null})", "no \"object\""}),
    [](const auto& case_info) { return std::string(case_info.param.name); });

TEST(WatchEvent, HugeUnknownTypeIsQuotedShortly) {
  try {
    parse_watch_event("{\"type\":\"" + std::string(10000, 'X') + "\",\"object\":{}}");
    FAIL();
  } catch (const std::invalid_argument& e) {
    EXPECT_LT(std::string(e.what()).size(), 200u);
  }
}

}  // namespace
}  // namespace cd4ml::kube
