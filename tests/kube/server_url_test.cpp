#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "operator/kube/config.hpp"

namespace cd4ml::kube {
namespace {

using ::testing::HasSubstr;

struct GoodUrl {
  std::string server;
  std::string host;
  std::string port;
  std::string path_prefix;
};

class ServerUrlParses : public ::testing::TestWithParam<GoodUrl> {};

TEST_P(ServerUrlParses, IntoHostPortAndPathPrefix) {
  const auto address = parse_server_url(GetParam().server);
  EXPECT_EQ(address.host, GetParam().host);
  EXPECT_EQ(address.port, GetParam().port);
  EXPECT_EQ(address.path_prefix, GetParam().path_prefix);
}

INSTANTIATE_TEST_SUITE_P(ServerUrl, ServerUrlParses,
                         ::testing::Values(GoodUrl{"https://example.com", "example.com", "443", ""},
                                           GoodUrl{"https://10.0.0.1:6443", "10.0.0.1", "6443", ""},
                                           GoodUrl{"https://10.0.0.1:6443/", "10.0.0.1", "6443",
                                                   ""},
                                           GoodUrl{"HTTPS://Api.Example:1", "Api.Example", "1", ""},
                                           GoodUrl{"https://[::1]:6443", "::1", "6443", ""},
                                           GoodUrl{"https://[fd00::1]", "fd00::1", "443", ""},
                                           GoodUrl{"https://rancher.example/k8s/clusters/c-1/",
                                                   "rancher.example", "443", "/k8s/clusters/c-1"},
                                           GoodUrl{"kube.local:8443", "kube.local", "8443", ""}));

struct BadUrl {
  std::string server;
  std::string expected;
};

class ServerUrlRejected : public ::testing::TestWithParam<BadUrl> {};

TEST_P(ServerUrlRejected, WithAMessageNamingTheProblem) {
  try {
    parse_server_url(GetParam().server);
    FAIL() << "expected ConfigError for " << GetParam().server;
  } catch (const ConfigError& e) {
    EXPECT_THAT(e.what(), HasSubstr("\"" + GetParam().server + "\""));
    EXPECT_THAT(e.what(), HasSubstr(GetParam().expected));
  }
}

INSTANTIATE_TEST_SUITE_P(ServerUrl, ServerUrlRejected,
                         ::testing::Values(BadUrl{"http://127.0.0.1:8080", "plain HTTP"},
                                           BadUrl{"http://localhost:8001", "plain HTTP"},
                                           BadUrl{"ftp://example.com", "only https is supported"},
                                           BadUrl{"https://", "has no host"},
                                           BadUrl{"https://:6443", "has no host"},
                                           BadUrl{"https://host:", "empty port"},
                                           BadUrl{"https://host:99999", "invalid port"},
                                           BadUrl{"https://host:0", "invalid port"},
                                           BadUrl{"https://host:https", "invalid port"},
                                           BadUrl{"https://user:pw@host", "user information"},
                                           BadUrl{"https://[::1", "unterminated IPv6"},
                                           BadUrl{"https://[::1]x", "junk after its IPv6"},
                                           BadUrl{"https://::1:6443", "brackets"},
                                           BadUrl{"https://host/?a=b", "query or fragment"}));

}  // namespace
}  // namespace cd4ml::kube
