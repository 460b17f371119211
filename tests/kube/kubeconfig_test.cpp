#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "kube/temp_files.hpp"
#include "operator/kube/config.hpp"

namespace cd4ml::kube {
namespace {

using testing::base64;
using testing::fake_pem;
using ::testing::HasSubstr;
using testing::TempDir;

// A kubeconfig with one cluster, user and context; the bodies are YAML
// mappings indented for their place.
std::string kubeconfig(const std::string& cluster_body, const std::string& user_body,
                       const std::string& context_extra = "") {
  return "apiVersion: v1\n"
         "kind: Config\n"
         "current-context: dev\n"
         "clusters:\n"
         "- name: dev-cluster\n"
         "  cluster:\n" +
         cluster_body +
         "contexts:\n"
         "- name: dev\n"
         "  context:\n"
         "    cluster: dev-cluster\n"
         "    user: dev-user\n" +
         context_extra +
         "users:\n"
         "- name: dev-user\n"
         "  user:\n" +
         user_body;
}

const std::string kServer = "    server: https://127.0.0.1:6443\n";

TEST(Kubeconfig, InlineCaDataAndTokenGiveServerCaTokenAndNamespace) {
  const std::string ca = fake_pem("CERTIFICATE", "cluster ca");
  const auto config =
      parse_kubeconfig(kubeconfig(kServer + "    certificate-authority-data: " + base64(ca) + "\n",
                                  "    token: abc.def\n", "    namespace: ml-team\n"),
                       "/nonexistent", {}, "kubeconfig test");
  EXPECT_EQ(config.server, "https://127.0.0.1:6443");
  EXPECT_EQ(config.host, "127.0.0.1");
  EXPECT_EQ(config.port, "6443");
  EXPECT_EQ(config.path_prefix, "");
  EXPECT_EQ(config.ca_pem, ca);
  ASSERT_NE(config.token, nullptr);
  EXPECT_EQ(config.token->token({}), "abc.def");
  EXPECT_TRUE(config.client_cert_pem.empty());
  EXPECT_FALSE(config.insecure_skip_tls_verify);
  EXPECT_EQ(config.default_namespace, "ml-team");
  EXPECT_EQ(config.description, "kubeconfig test, context dev");
}

TEST(Kubeconfig, InlineClientCertificateAndKeyData) {
  const std::string cert = fake_pem("CERTIFICATE", "client cert");
  const std::string key = fake_pem("RSA PRIVATE KEY", "client key");
  const auto config =
      parse_kubeconfig(kubeconfig(kServer, "    client-certificate-data: " + base64(cert) +
                                               "\n    client-key-data: " + base64(key) + "\n"),
                       "/nonexistent");
  EXPECT_EQ(config.client_cert_pem, cert);
  EXPECT_EQ(config.client_key_pem, key);
  EXPECT_EQ(config.token, nullptr);
  EXPECT_EQ(config.default_namespace, "default");
}

TEST(Kubeconfig, RelativeFilePathsResolveAgainstTheKubeconfigDirectory) {
  TempDir dir;
  const std::string ca = fake_pem("CERTIFICATE", "ca from file");
  const std::string cert = fake_pem("CERTIFICATE", "cert from file");
  const std::string key = fake_pem("EC PRIVATE KEY", "key from file");
  dir.write("home/.kube/certs/ca.crt", ca);
  dir.write("home/.kube/certs/client.crt", cert);
  dir.write("home/.kube/certs/client.key", key);
  dir.write("home/.kube/token", "file-token\n");
  const auto file = dir.write("home/.kube/config",
                              kubeconfig(kServer + "    certificate-authority: certs/ca.crt\n",
                                         "    client-certificate: certs/client.crt\n"
                                         "    client-key: ./certs/client.key\n"
                                         "    tokenFile: token\n"));
  // The working directory is elsewhere; only the kubeconfig's own directory
  // makes these paths resolvable.
  ASSERT_NE(std::filesystem::current_path(), file.parent_path());
  const auto config = load_kubeconfig(file);
  EXPECT_EQ(config.ca_pem, ca);
  EXPECT_EQ(config.client_cert_pem, cert);
  EXPECT_EQ(config.client_key_pem, key);
  ASSERT_NE(config.token, nullptr);
  EXPECT_EQ(config.token->token({}), "file-token");
  EXPECT_EQ(config.description, "kubeconfig " + file.string() + ", context dev");
}

TEST(Kubeconfig, AbsolutePathsAreUsedAsWritten) {
  TempDir certs;
  TempDir config_dir;
  const std::string ca = fake_pem("CERTIFICATE", "absolute ca");
  const auto ca_file = certs.write("ca.pem", ca);
  const auto file = config_dir.write(
      "config", kubeconfig(kServer + "    certificate-authority: " + ca_file.string() + "\n",
                           "    token: t\n"));
  EXPECT_EQ(load_kubeconfig(file).ca_pem, ca);
}

TEST(Kubeconfig, InlineDataWinsOverFileAsInKubectl) {
  const std::string ca = fake_pem("CERTIFICATE", "inline wins");
  // The file does not exist: it must not even be opened.
  const auto config = parse_kubeconfig(kubeconfig(kServer +
                                                      "    certificate-authority: /no/such/ca.crt\n"
                                                      "    certificate-authority-data: " +
                                                      base64(ca) + "\n",
                                                  "    token: t\n"),
                                       "/nonexistent");
  EXPECT_EQ(config.ca_pem, ca);
}

TEST(Kubeconfig, TokenWinsOverTokenFile) {
  const auto config = parse_kubeconfig(
      kubeconfig(kServer, "    token: inline\n    tokenFile: /no/such/token\n"), "/nonexistent");
  ASSERT_NE(config.token, nullptr);
  EXPECT_EQ(config.token->token({}), "inline");
}

TEST(Kubeconfig, InsecureSkipTlsVerifyOnlyWhenTheKubeconfigSaysSo) {
  const auto absent = parse_kubeconfig(kubeconfig(kServer, "    token: t\n"), "/x");
  EXPECT_FALSE(absent.insecure_skip_tls_verify);
  const auto explicit_false = parse_kubeconfig(
      kubeconfig(kServer + "    insecure-skip-tls-verify: false\n", "    token: t\n"), "/x");
  EXPECT_FALSE(explicit_false.insecure_skip_tls_verify);
  const auto explicit_true = parse_kubeconfig(
      kubeconfig(kServer + "    insecure-skip-tls-verify: true\n", "    token: t\n"), "/x");
  EXPECT_TRUE(explicit_true.insecure_skip_tls_verify);
  EXPECT_TRUE(explicit_true.ca_pem.empty());
}

TEST(Kubeconfig, TlsServerNameAndPathPrefix) {
  const auto config =
      parse_kubeconfig(kubeconfig("    server: https://[fd00::10]:8443/k8s/clusters/c-1/\n"
                                  "    tls-server-name: kubernetes.default.svc\n",
                                  "    token: t\n"),
                       "/x");
  EXPECT_EQ(config.host, "fd00::10");
  EXPECT_EQ(config.port, "8443");
  EXPECT_EQ(config.path_prefix, "/k8s/clusters/c-1");
  EXPECT_EQ(config.tls_server_name, "kubernetes.default.svc");
}

TEST(Kubeconfig, ContextWithoutUserMeansNoCredentials) {
  const std::string text =
      "current-context: anon\n"
      "clusters:\n- name: c\n  cluster:\n    server: https://k:6443\n"
      "contexts:\n- name: anon\n  context:\n    cluster: c\n";
  const auto config = parse_kubeconfig(text, "/x");
  EXPECT_EQ(config.token, nullptr);
  EXPECT_TRUE(config.client_cert_pem.empty());
  EXPECT_EQ(config.host, "k");
}

TEST(Kubeconfig, ExplicitContextOverridesCurrentContext) {
  const std::string text =
      "current-context: one\n"
      "clusters:\n"
      "- name: c1\n  cluster:\n    server: https://one.example:6443\n"
      "- name: c2\n  cluster:\n    server: https://two.example\n"
      "contexts:\n"
      "- name: one\n  context:\n    cluster: c1\n    user: u1\n"
      "- name: two\n  context:\n    cluster: c2\n    user: u2\n    namespace: second\n"
      "users:\n"
      "- name: u1\n  user:\n    token: token-one\n"
      "- name: u2\n  user:\n    token: token-two\n";
  const auto current = parse_kubeconfig(text, "/x");
  EXPECT_EQ(current.host, "one.example");
  EXPECT_EQ(current.token->token({}), "token-one");
  EXPECT_EQ(current.default_namespace, "default");

  const auto chosen = parse_kubeconfig(text, "/x", "two");
  EXPECT_EQ(chosen.host, "two.example");
  EXPECT_EQ(chosen.port, "443");
  EXPECT_EQ(chosen.token->token({}), "token-two");
  EXPECT_EQ(chosen.default_namespace, "second");
  EXPECT_THAT(chosen.description, HasSubstr("context two"));
}

// Users whose authentication this operator cannot perform: each must fail at
// load time with a message naming the user and the mechanism.
struct UnsupportedUser {
  const char* name;
  std::string user_body;
  std::string expected;
};

class UnsupportedAuth : public ::testing::TestWithParam<UnsupportedUser> {};

TEST_P(UnsupportedAuth, FailsNamingTheUserAndTheMechanism) {
  const auto& param = GetParam();
  try {
    parse_kubeconfig(kubeconfig(kServer, param.user_body), "/x", {}, "kubeconfig /tmp/k");
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_THAT(e.what(), HasSubstr("kubeconfig /tmp/k"));
    EXPECT_THAT(e.what(), HasSubstr("user \"dev-user\""));
    EXPECT_THAT(e.what(), HasSubstr(param.expected));
  }
}

INSTANTIATE_TEST_SUITE_P(
    Kubeconfig, UnsupportedAuth,
    ::testing::Values(
        UnsupportedUser{"Exec",
                        "    exec:\n      apiVersion: client.authentication.k8s.io/v1\n"
                        "      command: aws\n",
                        "uses exec authentication, which cd4ml-operator does not support; use a "
                        "token, tokenFile or client certificate"},
        UnsupportedUser{"AuthProvider", "    auth-provider:\n      name: gcp\n      config: {}\n",
                        "uses auth-provider authentication, which cd4ml-operator does not "
                        "support; use a token, tokenFile or client certificate"},
        UnsupportedUser{"ExecBesideAToken", "    token: t\n    exec:\n      command: x\n",
                        "uses exec authentication"},
        UnsupportedUser{"BasicAuth", "    username: admin\n    password: secret\n",
                        "uses basic authentication (username/password), which cd4ml-operator "
                        "does not support"},
        UnsupportedUser{"Impersonation", "    token: t\n    as: someone-else\n",
                        "uses impersonation (as)"},
        UnsupportedUser{"ImpersonatedGroups", "    token: t\n    as-groups: [admins]\n",
                        "uses impersonation (as-groups)"}),
    [](const auto& case_info) { return std::string(case_info.param.name); });

// Broken kubeconfigs: every one must give a ConfigError (never a crash or a
// yaml-cpp exception) whose message names the source and the problem.
struct BrokenKubeconfig {
  const char* name;
  std::string text;
  std::vector<std::string> expected;
};

class MalformedKubeconfig : public ::testing::TestWithParam<BrokenKubeconfig> {};

TEST_P(MalformedKubeconfig, GivesAConfigErrorNamingTheProblem) {
  const auto& param = GetParam();
  try {
    parse_kubeconfig(param.text, "/base", {}, "kubeconfig /etc/broken");
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_THAT(e.what(), HasSubstr("/etc/broken"));
    for (const auto& expected : param.expected) {
      EXPECT_THAT(e.what(), HasSubstr(expected));
    }
  }
}

std::string deeply_nested(int depth) {
  return "clusters: " + std::string(static_cast<std::size_t>(depth), '[') +
         std::string(static_cast<std::size_t>(depth), ']') + "\n";
}

INSTANTIATE_TEST_SUITE_P(
    Kubeconfig, MalformedKubeconfig,
    ::testing::Values(
        BrokenKubeconfig{"NotYaml", "clusters: [\n  - name: x\n", {"is not valid YAML"}},
        BrokenKubeconfig{"MappingInAScalar", "current-context: a: b\n", {"is not valid YAML"}},
        BrokenKubeconfig{"Binary", std::string("\x00\xff\xfe\x01{{", 6), {"is not valid YAML"}},
        BrokenKubeconfig{"DeeplyNested", deeply_nested(5000), {"is not valid YAML"}},
        BrokenKubeconfig{"EmptyFile", "", {"is empty"}},
        BrokenKubeconfig{"OnlyComments", "# nothing here\n", {"is empty"}},
        BrokenKubeconfig{"TopLevelList", "- a\n- b\n", {"is not a kubeconfig"}},
        BrokenKubeconfig{"TopLevelScalar", "hello\n", {"is not a kubeconfig"}},
        BrokenKubeconfig{"OtherKind",
                         "apiVersion: v1\nkind: Pod\nmetadata: {name: x}\n",
                         {"kind is \"Pod\", expected \"Config\""}},
        BrokenKubeconfig{"ClustersNotAList",
                         "current-context: dev\nclusters:\n  dev-cluster:\n    server: x\n",
                         {"\"clusters\" must be a list"}},
        BrokenKubeconfig{
            "UsersNotAList", "current-context: dev\nusers: nobody\n", {"\"users\" must be a list"}},
        BrokenKubeconfig{"ClusterEntryWithoutName",
                         "current-context: dev\nclusters:\n- cluster:\n    server: https://a\n",
                         {"clusters[0] has no name"}},
        BrokenKubeconfig{"ClusterEntryNotAMapping",
                         "current-context: dev\nclusters:\n- just-text\n",
                         {"clusters[0] must be a mapping"}},
        BrokenKubeconfig{"NameNotAString",
                         "current-context: dev\ncontexts:\n- name: [a, b]\n  context: {}\n",
                         {"contexts[0]", "\"name\" must be a string"}},
        BrokenKubeconfig{"NoCurrentContext",
                         "clusters:\n- name: c\n  cluster:\n    server: https://a\n"
                         "contexts:\n- name: first\n  context:\n    cluster: c\n",
                         {"sets no current-context", "first"}},
        BrokenKubeconfig{"ContextNotDefined",
                         "current-context: nope\ncontexts:\n- name: other\n  context:\n"
                         "    cluster: c\n",
                         {"context \"nope\" is not defined", "(defined: other)"}},
        BrokenKubeconfig{"ContextBodyNotAMapping",
                         "current-context: dev\ncontexts:\n- name: dev\n  context: oops\n",
                         {"context \"dev\" has no \"context\" mapping"}},
        BrokenKubeconfig{"ContextEntryWithoutBody",
                         "current-context: dev\ncontexts:\n- name: dev\n",
                         {"context \"dev\" has no \"context\" mapping"}},
        BrokenKubeconfig{"ClusterEntryWithoutBody",
                         "current-context: dev\nclusters:\n- name: c\ncontexts:\n- name: dev\n"
                         "  context:\n    cluster: c\n",
                         {"cluster \"c\" has no \"cluster\" mapping"}},
        BrokenKubeconfig{"ContextWithoutCluster",
                         "current-context: dev\ncontexts:\n- name: dev\n  context:\n    user: u\n",
                         {"context \"dev\" names no cluster"}},
        BrokenKubeconfig{"ContextPointsAtMissingCluster",
                         "current-context: dev\ncontexts:\n- name: dev\n  context:\n"
                         "    cluster: gone\n",
                         {"refers to cluster \"gone\", which is not defined", "none are defined"}},
        BrokenKubeconfig{"ContextPointsAtMissingUser",
                         "current-context: dev\nclusters:\n- name: c\n  cluster:\n"
                         "    server: https://a\ncontexts:\n- name: dev\n  context:\n"
                         "    cluster: c\n    user: ghost\n",
                         {"refers to user \"ghost\", which is not defined"}},
        BrokenKubeconfig{"ClusterWithoutServer",
                         kubeconfig("    insecure-skip-tls-verify: true\n", "    token: t\n"),
                         {"cluster \"dev-cluster\" has no server"}},
        BrokenKubeconfig{"ServerNotAString",
                         kubeconfig("    server: [https://a, https://b]\n", "    token: t\n"),
                         {"cluster \"dev-cluster\"", "\"server\" must be a string"}},
        BrokenKubeconfig{"PlainHttpServer",
                         kubeconfig("    server: http://127.0.0.1:8080\n", "    token: t\n"),
                         {"cluster \"dev-cluster\"", "plain HTTP"}},
        BrokenKubeconfig{"BadPort",
                         kubeconfig("    server: https://a:70000\n", "    token: t\n"),
                         {"invalid port \"70000\""}},
        BrokenKubeconfig{
            "InsecureNotABool",
            kubeconfig(kServer + "    insecure-skip-tls-verify: maybe\n", "    token: t\n"),
            {"\"insecure-skip-tls-verify\" must be true or false"}},
        BrokenKubeconfig{"InsecureWithCa",
                         kubeconfig(kServer +
                                        "    insecure-skip-tls-verify: true\n"
                                        "    certificate-authority-data: " +
                                        base64(fake_pem("CERTIFICATE", "x")) + "\n",
                                    "    token: t\n"),
                         {"sets both insecure-skip-tls-verify and a certificate authority"}},
        BrokenKubeconfig{
            "CaDataNotBase64",
            kubeconfig(kServer + "    certificate-authority-data: not*base64!\n", "    token: t\n"),
            {"\"certificate-authority-data\" is not valid base64"}},
        BrokenKubeconfig{"CaDataNotPem",
                         kubeconfig(kServer + "    certificate-authority-data: " +
                                        base64("just some bytes") + "\n",
                                    "    token: t\n"),
                         {"\"certificate-authority-data\" does not hold PEM data"}},
        BrokenKubeconfig{
            "CaFileMissing",
            kubeconfig(kServer + "    certificate-authority: certs/missing.crt\n",
                       "    token: t\n"),
            {"certificate-authority", "/base/certs/missing.crt", "No such file or directory"}},
        BrokenKubeconfig{
            "ProxyUrl",
            kubeconfig(kServer + "    proxy-url: http://proxy:3128\n", "    token: t\n"),
            {"uses proxy-url"}},
        BrokenKubeconfig{"CertWithoutKey",
                         kubeconfig(kServer, "    client-certificate-data: " +
                                                 base64(fake_pem("CERTIFICATE", "c")) + "\n"),
                         {"user \"dev-user\" has a client certificate but no client key"}},
        BrokenKubeconfig{"KeyWithoutCert",
                         kubeconfig(kServer, "    client-key-data: " +
                                                 base64(fake_pem("PRIVATE KEY", "k")) + "\n"),
                         {"user \"dev-user\" has a client key but no client certificate"}},
        BrokenKubeconfig{"ClientKeyDataNotBase64",
                         kubeconfig(kServer, "    client-certificate-data: " +
                                                 base64(fake_pem("CERTIFICATE", "c")) +
                                                 "\n    client-key-data: '%%%'\n"),
                         {"\"client-key-data\" is not valid base64"}},
        BrokenKubeconfig{"TokenNotAString",
                         kubeconfig(kServer, "    token:\n      nested: x\n"),
                         {"\"token\" must be a string"}},
        BrokenKubeconfig{"TokenFileMissing",
                         kubeconfig(kServer, "    tokenFile: secrets/token\n"),
                         {"tokenFile", "/base/secrets/token", "No such file or directory"}}),
    [](const auto& case_info) { return std::string(case_info.param.name); });

TEST(Kubeconfig, UserBodyOfTheWrongTypeIsRejected) {
  const std::string text =
      "current-context: dev\n"
      "clusters:\n- name: c\n  cluster:\n    server: https://a\n"
      "contexts:\n- name: dev\n  context:\n    cluster: c\n    user: u\n"
      "users:\n- name: u\n  user: [1, 2]\n";
  EXPECT_THROW(
      {
        try {
          parse_kubeconfig(text, "/x", {}, "kubeconfig k");
        } catch (const ConfigError& e) {
          EXPECT_THAT(e.what(), HasSubstr("user \"u\" has no \"user\" mapping"));
          throw;
        }
      },
      ConfigError);
}

TEST(Kubeconfig, EmptyTokenFileIsRejected) {
  TempDir dir;
  dir.write("token", "  \n");
  const auto file = dir.write("config", kubeconfig(kServer, "    tokenFile: token\n"));
  try {
    load_kubeconfig(file);
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_THAT(e.what(), HasSubstr("tokenFile " + (dir.path() / "token").string() + " is empty"));
  }
}

TEST(Kubeconfig, MissingFileNamesTheFile) {
  TempDir dir;
  try {
    load_kubeconfig(dir.path() / "absent");
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_THAT(e.what(), HasSubstr("cannot read kubeconfig " + (dir.path() / "absent").string()));
  }
}

// $KUBECONFIG with several files: the first definition of every name and of
// current-context wins; relative paths resolve against their own file.
TEST(KubeconfigMerge, FirstFileToDefineANameWins) {
  TempDir a;
  TempDir b;
  const std::string ca_b = fake_pem("CERTIFICATE", "ca of b");
  b.write("certs/ca.crt", ca_b);
  const auto first = a.write("config",
                             "current-context: work\n"
                             "clusters:\n- name: shared\n  cluster:\n"
                             "    server: https://first.example\n");
  const auto second = b.write("config",
                              "current-context: home\n"
                              "clusters:\n"
                              "- name: shared\n  cluster:\n    server: https://second.example\n"
                              "- name: only-b\n  cluster:\n    server: https://b.example\n"
                              "    certificate-authority: certs/ca.crt\n"
                              "contexts:\n"
                              "- name: work\n  context:\n    cluster: shared\n    user: u\n"
                              "- name: home\n  context:\n    cluster: only-b\n    user: u\n"
                              "users:\n- name: u\n  user:\n    token: from-b\n");
  const auto merged = load_kubeconfig_files({first, second});
  EXPECT_EQ(merged.host, "first.example");  // cluster "shared" from the first file
  EXPECT_EQ(merged.token->token({}), "from-b");
  EXPECT_THAT(merged.description, HasSubstr("context work"));

  // Switching to a context defined only by the second file uses its cluster,
  // whose CA path is relative to the second file's directory.
  const auto home = load_kubeconfig_files({first, second}, "home");
  EXPECT_EQ(home.host, "b.example");
  EXPECT_EQ(home.ca_pem, ca_b);
}

TEST(KubeconfigMerge, CurrentContextComesFromTheFirstFileThatSetsIt) {
  TempDir dir;
  const auto no_current =
      dir.write("a", "clusters:\n- name: c\n  cluster:\n    server: https://c\n");
  const auto sets_current = dir.write("b",
                                      "current-context: ctx\n"
                                      "contexts:\n- name: ctx\n  context:\n    cluster: c\n");
  EXPECT_EQ(load_kubeconfig_files({no_current, sets_current}).host, "c");
}

TEST(KubeconfigMerge, MissingFilesAreSkippedButNotAllOfThem) {
  TempDir dir;
  const auto real = dir.write("real", kubeconfig(kServer, "    token: t\n"));
  EXPECT_EQ(load_kubeconfig_files({dir.path() / "missing", real}).host, "127.0.0.1");
  try {
    load_kubeconfig_files({dir.path() / "m1", dir.path() / "m2"});
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_THAT(e.what(), HasSubstr("none of the kubeconfig files"));
    EXPECT_THAT(e.what(), HasSubstr((dir.path() / "m2").string()));
  }
}

TEST(KubeconfigMerge, ABrokenFileInTheListIsReportedByName) {
  TempDir dir;
  const auto good = dir.write("good", kubeconfig(kServer, "    token: t\n"));
  const auto bad = dir.write("bad", "clusters: {oops");
  try {
    load_kubeconfig_files({good, bad});
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_THAT(e.what(), HasSubstr("kubeconfig " + bad.string() + " is not valid YAML"));
  }
}

}  // namespace
}  // namespace cd4ml::kube
