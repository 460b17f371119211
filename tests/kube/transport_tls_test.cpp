// TLS as a user configures it in a kubeconfig: which servers the transport
// accepts (CA, names, IP addresses), what it tells the user when it refuses
// one, client certificates, and the explicit insecure mode.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "kube/transport_fixture.hpp"
#include "operator/kube/tls.hpp"
#include "operator/kube/transport.hpp"

namespace cd4ml::kube {
namespace {

using test_support::IoThread;
using test_support::make_test_pki;
using test_support::TestPki;
using test_support::TestPkiOptions;

HttpRequest get_version() {
  HttpRequest request;
  request.target = "/version";
  return request;
}

TestPkiOptions pki_options(std::string ca_name, std::string server_alt_names) {
  TestPkiOptions options;
  options.ca_name = std::move(ca_name);
  options.server_alt_names = std::move(server_alt_names);
  return options;
}

ScriptedTlsServer::Script answer_ok() {
  return answer_each([](ServerConnection& c, const ReceivedRequest&) {
    c.respond(200, R"({"gitVersion":"v1.30.0"})");
  });
}

class TransportTlsTest : public ::testing::Test {
 protected:
  // The status of GET /version, or the ApiError that prevented it.
  std::optional<ApiError> error_with(const ClusterConfig& config) {
    Transport transport(io_.io(), config, util::real_clock());
    return api_error_from([&] { EXPECT_EQ(transport.request_sync(get_version()).status, 200); });
  }

  TestPki pki_ = make_test_pki();
  TestPki other_ = make_test_pki(pki_options("some other CA", "IP:127.0.0.1"));
  IoThread io_;
};

TEST_F(TransportTlsTest, VerifiesTheServerByIpAddressAndSendsNoSniForIps) {
  ScriptedTlsServer server(pki_.server, answer_ok());

  EXPECT_FALSE(error_with(config_for(server, pki_)).has_value());

  const auto log = server.log();
  ASSERT_EQ(log.connections.size(), 1u);
  EXPECT_EQ(log.connections[0].sni, "");  // IP literals are not allowed in SNI
}

TEST_F(TransportTlsTest, TrustsEveryCertificateOfACaBundle) {
  ScriptedTlsServer server(pki_.server, answer_ok());
  auto config = config_for(server, pki_);
  config.ca_pem = other_.ca.cert + pki_.ca.cert;

  EXPECT_FALSE(error_with(config).has_value());
}

TEST_F(TransportTlsTest, RejectsAServerSignedByAnotherCaAndSaysWhy) {
  ScriptedTlsServer server(pki_.server, answer_ok());
  auto config = config_for(server, pki_);
  config.ca_pem = other_.ca.cert;

  const auto error = error_with(config);

  ASSERT_TRUE(error.has_value());
  EXPECT_EQ(error->kind(), ErrorKind::Transport);
  EXPECT_THAT(error->what(), HasSubstr("TLS handshake with 127.0.0.1:" + config.port));
  EXPECT_THAT(error->what(), HasSubstr("certificate verify failed"));
  EXPECT_THAT(error->what(), HasSubstr("unable to get local issuer certificate"));
  EXPECT_TRUE(server.log().requests.empty());
}

TEST_F(TransportTlsTest, RejectsACertificateIssuedForAnotherName) {
  ScriptedTlsServer server(pki_.server, answer_ok());
  auto config = config_for(server, pki_);
  config.tls_server_name = "kubernetes.example.com";

  const auto error = error_with(config);

  ASSERT_TRUE(error.has_value());
  EXPECT_EQ(error->kind(), ErrorKind::Transport);
  EXPECT_THAT(error->what(), HasSubstr("certificate verify failed"));
  EXPECT_THAT(error->what(), HasSubstr("hostname mismatch"));
  EXPECT_THAT(error->what(), HasSubstr("not valid for \"kubernetes.example.com\""));
}

TEST_F(TransportTlsTest, ChecksAnIpAddressAgainstIpSansNotDnsNames) {
  const TestPki dns_only = make_test_pki(pki_options("cd4ml test CA", "DNS:localhost"));
  ScriptedTlsServer server(dns_only.server, answer_ok());

  const auto error = error_with(config_for(server, dns_only));

  ASSERT_TRUE(error.has_value());
  EXPECT_THAT(error->what(), HasSubstr("IP address mismatch"));
}

TEST_F(TransportTlsTest, IgnoresTheSubjectCommonNameLikeGo) {
  TestPkiOptions options = pki_options("cd4ml test CA", "IP:127.0.0.1");
  options.server_name = "localhost";
  const TestPki cn_only = make_test_pki(options);
  ScriptedTlsServer server(cn_only.server, answer_ok());
  auto config = config_for(server, cn_only);
  config.tls_server_name = "localhost";

  const auto error = error_with(config);

  ASSERT_TRUE(error.has_value());
  EXPECT_THAT(error->what(), HasSubstr("hostname mismatch"));
}

TEST_F(TransportTlsTest, TlsServerNameIsSentAsSniAndVerified) {
  ScriptedTlsServer server(pki_.server, answer_ok());
  auto config = config_for(server, pki_);
  config.tls_server_name = "localhost";

  EXPECT_FALSE(error_with(config).has_value());
  ASSERT_EQ(server.log().connections.size(), 1u);
  EXPECT_EQ(server.log().connections[0].sni, "localhost");
}

TEST_F(TransportTlsTest, DnsHostIsDialledAndVerifiedByName) {
  ScriptedTlsServer server(pki_.server, answer_ok());
  auto config = config_for(server, pki_);
  config.host = "localhost";
  config.server = "https://localhost:" + config.port;

  EXPECT_FALSE(error_with(config).has_value());
  ASSERT_EQ(server.log().connections.size(), 1u);
  EXPECT_EQ(server.log().connections[0].sni, "localhost");
  EXPECT_EQ(server.log().requests.at(0).header("host"), "localhost:" + config.port);
}

TEST_F(TransportTlsTest, InsecureSkipTlsVerifyAcceptsAnUnverifiableServer) {
  ScriptedTlsServer server(pki_.server, answer_ok());
  auto config = config_for(server, pki_);
  config.ca_pem = other_.ca.cert;
  config.tls_server_name = "wrong.example.com";
  config.insecure_skip_tls_verify = true;

  EXPECT_FALSE(error_with(config).has_value());
}

TEST_F(TransportTlsTest, PresentsTheClientCertificateToAServerThatRequiresOne) {
  ScriptedTlsServer server(pki_.server, answer_ok(), /*client_ca_pem=*/pki_.ca.cert);
  auto config = config_for(server, pki_);
  config.client_cert_pem = pki_.client.cert;
  config.client_key_pem = pki_.client.key;

  EXPECT_FALSE(error_with(config).has_value());
  ASSERT_EQ(server.log().connections.size(), 1u);
  EXPECT_EQ(server.log().connections[0].client_common_name, "cd4ml-test-client");
}

TEST_F(TransportTlsTest, WithoutAClientCertificateAServerThatRequiresOneRefuses) {
  ScriptedTlsServer server(pki_.server, answer_ok(), /*client_ca_pem=*/pki_.ca.cert);

  const auto error = error_with(config_for(server, pki_));

  ASSERT_TRUE(error.has_value());
  EXPECT_EQ(error->kind(), ErrorKind::Transport);
  // With TLS 1.3 the client may see its error before the server thread has
  // logged the refused handshake: wait for it.
  EXPECT_TRUE(server.wait_until([](const ServerLog& log) { return !log.handshake_errors.empty(); }))
      << "the server never refused a handshake";
  EXPECT_TRUE(server.log().requests.empty());
  EXPECT_EQ(server.log().handshake_errors.size(), 1u);
}

TEST(TlsContext, CaDataWithoutACertificateIsAConfigError) {
  ClusterConfig config;
  config.description = "kubeconfig /tmp/kc, context dev";
  config.ca_pem = "not a certificate";

  try {
    make_tls_context(config);
    FAIL() << "accepted CA data without a certificate";
  } catch (const ConfigError& e) {
    EXPECT_THAT(e.what(), HasSubstr("kubeconfig /tmp/kc, context dev"));
    EXPECT_THAT(e.what(), HasSubstr("holds no PEM certificate"));
  }
}

TEST(TlsContext, ClientKeyThatDoesNotMatchTheCertificateIsAConfigError) {
  const TestPki pki = make_test_pki();
  const TestPki other = make_test_pki();
  ClusterConfig config;
  config.ca_pem = pki.ca.cert;
  config.client_cert_pem = pki.client.cert;
  config.client_key_pem = other.client.key;

  EXPECT_THROW(
      {
        try {
          make_tls_context(config);
        } catch (const ConfigError& e) {
          EXPECT_THAT(e.what(), HasSubstr("does not match"));
          throw;
        }
      },
      ConfigError);
}

TEST(TlsContext, ClientCertificateWithoutKeyIsAConfigError) {
  const TestPki pki = make_test_pki();
  ClusterConfig config;
  config.ca_pem = pki.ca.cert;
  config.client_cert_pem = pki.client.cert;

  EXPECT_THROW(make_tls_context(config), ConfigError);
}

TEST(TlsContext, PeerNameIsTheServerNameOverrideOrTheHost) {
  ClusterConfig config;
  config.host = "[::1]";
  EXPECT_EQ(tls_peer_name(config), "::1");
  config.tls_server_name = "kubernetes.default.svc";
  EXPECT_EQ(tls_peer_name(config), "kubernetes.default.svc");
}

}  // namespace
}  // namespace cd4ml::kube
