// Transport::request against a scripted TLS server: keep-alive reuse,
// retries where client-go retries, deadlines, connection faults, bearer
// tokens, rate limiting and shutdown.

#include "operator/kube/transport.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <future>

#include "kube/transport_fixture.hpp"
#include "operator/util/build_info.hpp"

namespace cd4ml::kube {
namespace {

using namespace std::chrono_literals;

constexpr std::string_view kTooManyRequests =
    R"({"kind":"Status","apiVersion":"v1","status":"Failure","reason":"TooManyRequests","code":429})";

HttpRequest get(std::string target) {
  HttpRequest request;
  request.target = std::move(target);
  return request;
}

// A cluster at a local port where nothing listens, trusting the test CA.
ClusterConfig unreachable_cluster(const test_support::TestPki& pki) {
  ClusterConfig config;
  config.host = "127.0.0.1";
  config.port = std::to_string(test_support::unused_port());
  config.ca_pem = pki.ca.cert;
  return config;
}

using TransportTest = TransportFixture;

TEST_F(TransportTest, ReusesOneKeepAliveConnectionForSequentialRequests) {
  ScriptedTlsServer server(pki_.server,
                           answer_each([](ServerConnection& c, const ReceivedRequest& request) {
                             c.respond(200, R"({"target":")" + request.target + R"("})");
                           }));
  auto transport = transport_to(server);

  for (const std::string name : {"a", "b", "c"}) {
    const auto response = transport->request_sync(get("/api/v1/configmaps/" + name));
    EXPECT_EQ(response.status, 200);
    EXPECT_EQ(response.body, R"({"target":"/api/v1/configmaps/)" + name + R"("})");
    EXPECT_EQ(response.content_type, "application/json");
    EXPECT_FALSE(response.retry_after.has_value());
  }

  const ServerLog log = server.log();
  EXPECT_EQ(log.accepted, 1);
  EXPECT_EQ(log.requests.size(), 3u);
  EXPECT_EQ(observer_.statuses(), (std::vector<int>{200, 200, 200}));
}

TEST_F(TransportTest, SendsMethodTargetBodyAndHeaders) {
  ScriptedTlsServer server(
      pki_.server,
      answer_each([](ServerConnection& c, const ReceivedRequest&) { c.respond(201, "{}"); }));
  auto config = config_for(server, pki_);
  config.path_prefix = "/k8s/clusters/c-1";
  TransportOptions options;
  options.observer = &observer_;
  Transport transport(io_.io(), config, util::real_clock(), options);

  HttpRequest request;
  request.method = "POST";
  request.target = "/api/v1/namespaces/ns/configmaps?fieldManager=cd4ml";
  request.body = R"({"kind":"ConfigMap"})";
  request.content_type = "application/json";
  request.verb = "create";
  EXPECT_EQ(transport.request_sync(request).status, 201);

  const auto log = server.log();
  ASSERT_EQ(log.requests.size(), 1u);
  const ReceivedRequest& seen = log.requests[0];
  EXPECT_EQ(seen.method, "POST");
  EXPECT_EQ(seen.target, "/k8s/clusters/c-1/api/v1/namespaces/ns/configmaps?fieldManager=cd4ml");
  EXPECT_EQ(seen.body, request.body);
  EXPECT_EQ(seen.header("content-type"), "application/json");
  EXPECT_EQ(seen.header("content-length"), std::to_string(request.body.size()));
  EXPECT_EQ(seen.header("accept"), "application/json");
  EXPECT_EQ(seen.header("host"), "127.0.0.1:" + std::to_string(server.port()));
  EXPECT_EQ(seen.header("user-agent"),
            std::string("cd4ml-operator/") + std::string(util::version()));
  EXPECT_FALSE(seen.has_header("authorization"));
  ASSERT_EQ(observer_.requests().size(), 1u);
  EXPECT_EQ(observer_.requests()[0].verb, "create");
  EXPECT_EQ(observer_.requests()[0].status, 201);
}

TEST_F(TransportTest, UserAgentCanBeOverridden) {
  ScriptedTlsServer server(
      pki_.server,
      answer_each([](ServerConnection& c, const ReceivedRequest&) { c.respond(200, "{}"); }));
  TransportOptions options;
  options.user_agent = "my-agent/1";
  auto transport = transport_to(server, options);
  transport->request_sync(get("/version"));
  EXPECT_EQ(server.log().requests.at(0).header("user-agent"), "my-agent/1");
}

TEST_F(TransportTest, ConnectionCloseResponseIsNotReused) {
  ScriptedTlsServer server(pki_.server, [](ServerConnection& c) {
    if (c.read_request()) {
      c.respond(200, "{}", {}, /*keep_alive=*/false);
      c.close_tls();
    }
  });
  auto transport = transport_to(server);

  EXPECT_EQ(transport->request_sync(get("/a")).status, 200);
  EXPECT_EQ(transport->request_sync(get("/b")).status, 200);

  const auto log = server.log();
  EXPECT_EQ(log.accepted, 2);
  ASSERT_EQ(log.requests.size(), 2u);
  EXPECT_EQ(log.requests[1].connection, 1);
}

TEST_F(TransportTest, StaleKeepAliveConnectionIsReplacedWithoutCountingAsRetry) {
  ScriptedTlsServer server(pki_.server, [](ServerConnection& c) {
    if (c.index() == 0) {
      if (c.read_request()) {
        c.respond(200, "first");
        c.close_tls();  // what an API server does when its idle timeout fires
      }
      return;
    }
    while (c.read_request()) {
      c.respond(200, "second");
    }
  });
  TransportOptions options;
  options.max_retries = 0;
  auto transport = transport_to(server, options);

  EXPECT_EQ(transport->request_sync(get("/a")).body, "first");
  ASSERT_TRUE(server.wait_until([](const ServerLog& log) { return log.closed == 1; }));
  EXPECT_EQ(transport->request_sync(get("/b")).body, "second");

  const auto log = server.log();
  EXPECT_EQ(log.accepted, 2);
  ASSERT_EQ(log.requests.size(), 2u);
  EXPECT_EQ(log.requests[1].target, "/b");
  EXPECT_EQ(log.requests[1].connection, 1);
  EXPECT_EQ(observer_.statuses(), (std::vector<int>{200, 200}));
}

TEST_F(TransportTest, StaleConnectionIsReplacedOnlyOnce) {
  ScriptedTlsServer server(pki_.server, [](ServerConnection& c) {
    if (!c.read_request()) {
      return;
    }
    if (c.index() == 0) {
      c.respond(200, "first");
      c.close_tls();
    } else {
      c.cut();  // every new connection dies before answering
    }
  });
  auto transport = transport_to(server);

  transport->request_sync(get("/a"));
  ASSERT_TRUE(server.wait_until([](const ServerLog& log) { return log.closed == 1; }));
  const auto error = api_error_from([&] { transport->request_sync(get("/b")); });

  ASSERT_TRUE(error.has_value());
  EXPECT_EQ(error->kind(), ErrorKind::Transport);
  EXPECT_EQ(server.log().accepted, 2);
}

TEST_F(TransportTest, ConnectionClosedBeforeResponseIsTransportErrorAndNotRetried) {
  ScriptedTlsServer server(pki_.server, [](ServerConnection& c) {
    if (c.read_request()) {
      c.cut();
    }
  });
  auto transport = transport_to(server);

  const auto error = api_error_from([&] { transport->request_sync(get("/a")); });

  ASSERT_TRUE(error.has_value());
  EXPECT_EQ(error->kind(), ErrorKind::Transport);
  EXPECT_EQ(error->http_status(), 0);
  EXPECT_THAT(error->what(),
              HasSubstr("reading response from 127.0.0.1:" + std::to_string(server.port()) +
                        ": connection closed by the server"));
  EXPECT_EQ(server.log().accepted, 1);
  EXPECT_EQ(server.log().requests.size(), 1u);
  EXPECT_EQ(observer_.statuses(), (std::vector<int>{0}));
}

TEST_F(TransportTest, TooManyRequestsWithRetryAfterIsRetriedUntilSuccess) {
  std::atomic<int> answered{0};
  ScriptedTlsServer server(pki_.server,
                           answer_each([&answered](ServerConnection& c, const ReceivedRequest&) {
                             if (answered++ < 2) {
                               c.respond(429, kTooManyRequests, {{"Retry-After", "0"}});
                             } else {
                               c.respond(200, R"({"ok":true})");
                             }
                           }));
  auto transport = transport_to(server);

  const auto response = transport->request_sync(get("/api/v1/pods"));

  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.body, R"({"ok":true})");
  EXPECT_EQ(server.log().requests.size(), 3u);
  EXPECT_EQ(observer_.statuses(), (std::vector<int>{429, 429, 200}));
}

TEST_F(TransportTest, RetriesStopAfterMaxRetriesAndReturnTheLastResponse) {
  ScriptedTlsServer server(pki_.server,
                           answer_each([](ServerConnection& c, const ReceivedRequest&) {
                             c.respond(429, kTooManyRequests, {{"Retry-After", "0"}});
                           }));
  TransportOptions options;
  options.max_retries = 2;
  auto transport = transport_to(server, options);

  const auto response = transport->request_sync(get("/api/v1/pods"));

  EXPECT_EQ(response.status, 429);
  EXPECT_EQ(response.body, kTooManyRequests);
  EXPECT_EQ(response.retry_after, std::optional<std::chrono::seconds>(0s));
  EXPECT_EQ(server.log().requests.size(), 3u);  // the first attempt and two retries
}

TEST_F(TransportTest, ServiceUnavailableWithRetryAfterIsRetried) {
  std::atomic<int> answered{0};
  ScriptedTlsServer server(pki_.server,
                           answer_each([&answered](ServerConnection& c, const ReceivedRequest&) {
                             if (answered++ == 0) {
                               c.respond(503, "shutting down", {{"Retry-After", "0"}});
                             } else {
                               c.respond(200, "{}");
                             }
                           }));
  auto transport = transport_to(server);

  EXPECT_EQ(transport->request_sync(get("/api")).status, 200);
  EXPECT_EQ(observer_.statuses(), (std::vector<int>{503, 200}));
}

TEST_F(TransportTest, ErrorsWithoutRetryAfterAreReturnedAtOnce) {
  std::atomic<int> answered{0};
  ScriptedTlsServer server(pki_.server,
                           answer_each([&answered](ServerConnection& c, const ReceivedRequest&) {
                             if (answered++ == 0) {
                               c.respond(500, "internal error");
                             } else {
                               c.respond(404, R"({"kind":"Status","reason":"NotFound","code":404})",
                                         {{"Retry-After", "not-a-number"}});
                             }
                           }));
  auto transport = transport_to(server);

  const auto server_error = transport->request_sync(get("/a"));
  EXPECT_EQ(server_error.status, 500);
  EXPECT_EQ(server_error.body, "internal error");
  const auto not_found = transport->request_sync(get("/b"));
  EXPECT_EQ(not_found.status, 404);
  EXPECT_FALSE(not_found.retry_after.has_value());

  EXPECT_EQ(server.log().requests.size(), 2u);
}

TEST_F(TransportTest, RetryAfterSecondsAreWaitedBeforeRetrying) {
  std::atomic<int> answered{0};
  ScriptedTlsServer server(pki_.server,
                           answer_each([&answered](ServerConnection& c, const ReceivedRequest&) {
                             if (answered++ == 0) {
                               c.respond(429, kTooManyRequests, {{"Retry-After", "1"}});
                             } else {
                               c.respond(200, "{}");
                             }
                           }));
  auto transport = transport_to(server);

  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(transport->request_sync(get("/a")).status, 200);
  EXPECT_GE(std::chrono::steady_clock::now() - start, 950ms);
}

TEST_F(TransportTest, NoResponseWithinTheDeadlineIsTimeout) {
  ScriptedTlsServer server(pki_.server, [](ServerConnection& c) {
    if (c.read_request()) {
      c.wait_gate("never");  // holds the request unanswered until the server stops
    }
  });
  auto transport = transport_to(server);
  HttpRequest request = get("/slow");
  request.timeout = 200ms;

  const auto start = std::chrono::steady_clock::now();
  const auto error = api_error_from([&] { transport->request_sync(request); });

  ASSERT_TRUE(error.has_value());
  EXPECT_EQ(error->kind(), ErrorKind::Timeout);
  EXPECT_THAT(error->what(), HasSubstr("timed out after 200ms"));
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
  EXPECT_EQ(observer_.statuses(), (std::vector<int>{0}));
}

TEST_F(TransportTest, ConnectionRefusedIsTransportErrorNamingTheServer) {
  const ClusterConfig config = unreachable_cluster(pki_);
  Transport transport(io_.io(), config, util::real_clock());

  const auto error = api_error_from([&] { transport.request_sync(get("/version")); });

  ASSERT_TRUE(error.has_value());
  EXPECT_EQ(error->kind(), ErrorKind::Transport);
  EXPECT_THAT(error->what(), HasSubstr("connecting to 127.0.0.1:" + config.port));
  EXPECT_THAT(error->what(), HasSubstr("refused"));
}

TEST_F(TransportTest, BodyLargerThanTheLimitIsRejectedWithOrWithoutContentLength) {
  ScriptedTlsServer server(pki_.server,
                           answer_each([](ServerConnection& c, const ReceivedRequest& request) {
                             if (request.target == "/fits") {
                               c.respond(200, std::string(1024, 'x'));
                             } else if (request.target == "/sized") {
                               c.respond(200, std::string(4096, 'x'));
                             } else {
                               c.start_chunked(200);
                               c.chunk(std::string(800, 'x'));
                               c.chunk(std::string(800, 'x'));
                               c.end_chunks();
                             }
                           }));
  TransportOptions options;
  options.max_body_bytes = 1024;
  auto transport = transport_to(server, options);

  EXPECT_EQ(transport->request_sync(get("/fits")).body.size(), 1024u);
  for (const std::string target : {"/sized", "/chunked"}) {
    const auto error = api_error_from([&] { transport->request_sync(get(target)); });
    ASSERT_TRUE(error.has_value()) << target;
    EXPECT_EQ(error->kind(), ErrorKind::Other);
    EXPECT_THAT(error->what(), HasSubstr("larger than the limit of 1024 bytes"));
  }
}

TEST_F(TransportTest, BearerTokenIsReadAgainForEveryRequest) {
  ScriptedTlsServer server(
      pki_.server,
      answer_each([](ServerConnection& c, const ReceivedRequest&) { c.respond(200, "{}"); }));
  auto config = config_for(server, pki_);
  config.token = std::make_shared<test_support::RotatingToken>();
  Transport transport(io_.io(), config, util::real_clock());

  transport.request_sync(get("/a"));
  transport.request_sync(get("/b"));

  const auto log = server.log();
  ASSERT_EQ(log.requests.size(), 2u);
  EXPECT_EQ(log.requests[0].header("authorization"), "Bearer token-1");
  EXPECT_EQ(log.requests[1].header("authorization"), "Bearer token-2");
}

TEST_F(TransportTest, IdleConnectionsBeyondTheLimitAreClosed) {
  ScriptedTlsServer server(pki_.server,
                           answer_each([](ServerConnection& c, const ReceivedRequest&) {
                             c.wait_gate("answer");
                             c.respond(200, "{}");
                           }));
  TransportOptions options;
  options.max_idle_connections = 1;
  auto transport = transport_to(server, options);

  // Three requests at once need three connections.
  std::vector<std::future<HttpResponse>> concurrent;
  for (int i = 0; i < 3; ++i) {
    concurrent.push_back(
        boost::asio::co_spawn(io_.io(), transport->request(get("/c")), boost::asio::use_future));
  }
  ASSERT_TRUE(server.wait_until([](const ServerLog& log) { return log.requests.size() == 3; }));
  server.open_gate("answer");
  for (auto& response : concurrent) {
    EXPECT_EQ(response.get().status, 200);
  }

  // Only one of them is kept; the other two are closed.
  EXPECT_TRUE(server.wait_until([](const ServerLog& log) { return log.closed == 2; }));
  transport->request_sync(get("/d"));
  transport->request_sync(get("/e"));
  EXPECT_EQ(server.log().accepted, 3);
}

// Time is read from the injected clock: a keep-alive connection idle for
// longer than Go's IdleConnTimeout (90 s) by that clock is not reused, and
// latencies are measured on it.
TEST_F(TransportTest, TimeComesFromTheInjectedClock) {
  ScriptedTlsServer server(
      pki_.server,
      answer_each([](ServerConnection& c, const ReceivedRequest&) { c.respond(200, "{}"); }));
  util::ManualClock clock;
  TransportOptions options;
  options.observer = &observer_;
  Transport transport(io_.io(), config_for(server, pki_), clock, options);

  transport.request_sync(get("/a"));
  transport.request_sync(get("/b"));
  EXPECT_EQ(server.log().accepted, 1) << "reused while fresh";
  clock.advance(91s);
  transport.request_sync(get("/c"));
  EXPECT_EQ(server.log().accepted, 2) << "idle for 91 s by the injected clock";
  for (const auto& call : observer_.requests()) EXPECT_EQ(call.latency, 0ns);
}

TEST_F(TransportTest, RateLimitSpacesRequestsBeyondTheBurst) {
  ScriptedTlsServer server(
      pki_.server,
      answer_each([](ServerConnection& c, const ReceivedRequest&) { c.respond(200, "{}"); }));
  TransportOptions options;
  options.qps = 5.0;
  options.burst = 1;
  auto transport = transport_to(server, options);

  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 3; ++i) {
    transport->request_sync(get("/a"));
  }
  const auto elapsed = std::chrono::steady_clock::now() - start;

  // One free token, then one every 200 ms.
  EXPECT_GE(elapsed, 380ms);
  const auto waits = observer_.rate_limit_waits();
  ASSERT_EQ(waits.size(), 2u);
  EXPECT_GT(waits[0], 100ms);
  EXPECT_GT(waits[1], 100ms);
}

TEST_F(TransportTest, RequestsAfterShutdownFailFast) {
  ScriptedTlsServer server(
      pki_.server,
      answer_each([](ServerConnection& c, const ReceivedRequest&) { c.respond(200, "{}"); }));
  auto transport = transport_to(server);
  transport->shutdown();

  expect_shut_down_error(api_error_from([&] { transport->request_sync(get("/a")); }));
  EXPECT_EQ(server.log().accepted, 0);
}

TEST_F(TransportTest, ShutdownAbortsARequestInFlight) {
  ScriptedTlsServer server(pki_.server, [](ServerConnection& c) {
    if (c.read_request()) {
      c.wait_gate("never");
    }
  });
  auto transport = transport_to(server);
  auto pending = std::async(std::launch::async, [&] { return transport->request_sync(get("/a")); });
  ASSERT_TRUE(server.wait_until([](const ServerLog& log) { return log.requests.size() == 1; }));

  transport->shutdown();

  ASSERT_EQ(pending.wait_for(5s), std::future_status::ready);
  expect_shut_down_error(api_error_from([&] { pending.get(); }));
}

TEST_F(TransportTest, RequestSyncOnTheIoThreadIsRefused) {
  const ClusterConfig config = unreachable_cluster(pki_);
  Transport transport(io_.io(), config, util::real_clock());

  std::promise<std::string> outcome;
  boost::asio::post(io_.io(), [&] {
    try {
      transport.request_sync(get("/a"));
      outcome.set_value("returned");
    } catch (const std::logic_error& e) {
      outcome.set_value(e.what());
    } catch (const std::exception& e) {
      outcome.set_value(std::string("unexpected: ") + e.what());
    }
  });

  EXPECT_THAT(outcome.get_future().get(), HasSubstr("io thread"));
}

}  // namespace
}  // namespace cd4ml::kube
