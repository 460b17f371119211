// Transport::stream (watch responses) against a scripted TLS server: chunk
// boundaries, incremental delivery, idle timeout, cut connections, error
// bodies and shutdown.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <future>

#include "kube/transport_fixture.hpp"
#include "operator/kube/transport.hpp"

namespace cd4ml::kube {
namespace {

using namespace std::chrono_literals;
using test_support::start_stream;
using test_support::StreamLog;

const std::string kAdded =
    R"({"type":"ADDED","object":{"kind":"ConfigMap","metadata":{"name":"a","resourceVersion":"11"}}})"
    "\n";
const std::string kModified =
    R"({"type":"MODIFIED","object":{"kind":"ConfigMap","metadata":{"name":"a","resourceVersion":"12"}}})"
    "\n";
const std::string kDeleted =
    R"({"type":"DELETED","object":{"kind":"ConfigMap","metadata":{"name":"a","resourceVersion":"13"}}})"
    "\n";
const std::string kBookmark =
    R"({"type":"BOOKMARK","object":{"kind":"ConfigMap","metadata":{"resourceVersion":"14"}}})"
    "\n";
constexpr std::string_view kGone =
    R"json({"kind":"Status","apiVersion":"v1","status":"Failure",)json"
    R"json("message":"too old resource version: 1 (5)","reason":"Expired","code":410})json";

HttpRequest watch(std::chrono::milliseconds idle_timeout = 10s) {
  HttpRequest request;
  request.target = "/api/v1/configmaps?watch=1&allowWatchBookmarks=true";
  request.verb = "watch";
  request.timeout = idle_timeout;
  return request;
}

HttpRequest list_configmaps() {
  HttpRequest request;
  request.target = "/api/v1/configmaps";
  request.verb = "list";
  return request;
}

bool has_data(const StreamLog& log, const std::string& data) {
  return log.data == data;
}

// What the server does after the ADDED event of a watch.
enum class AfterAdded { kEndTheStream, kHoldItOpen };

// Answers a watch with 200 and the ADDED event, then ends the stream or holds
// it open until the client closes the connection; answers anything else (a
// list) with an empty object.
ScriptedTlsServer::Script watch_sending_added(AfterAdded after) {
  return answer_each([after](ServerConnection& c, const ReceivedRequest& request) {
    if (request.target.find("watch=1") == std::string::npos) {
      c.respond(200, "{}");
      return;
    }
    c.start_chunked(200);
    c.chunk(kAdded);
    if (after == AfterAdded::kEndTheStream) {
      c.end_chunks();
    } else {
      c.wait_for_client_close();
    }
  });
}

class TransportStreamTest : public TransportFixture {
 protected:
  // Waits until the stream has delivered exactly the ADDED event; false if it
  // does not within 10 s.
  bool added_arrives() {
    return recorder_.log().wait_until([](const StreamLog& log) { return has_data(log, kAdded); },
                                      10s);
  }
};

TEST_F(TransportStreamTest, EventsSplitAcrossChunksAtOddPlacesArriveIntactAndInOrder) {
  const std::string events = kAdded + kModified + kDeleted + kBookmark;
  // Chunk boundaries inside the first byte, inside a key, one past a newline,
  // exactly on a newline, and a last chunk holding two whole events.
  const std::vector<std::size_t> cuts = {1, 7, 50, kAdded.size() + 1,
                                         kAdded.size() + kModified.size()};
  ScriptedTlsServer server(pki_.server, [&](ServerConnection& c) {
    if (!c.read_request()) {
      return;
    }
    c.start_chunked(200);
    std::size_t from = 0;
    for (const std::size_t to : cuts) {
      c.chunk(std::string_view(events).substr(from, to - from));
      from = to;
    }
    c.chunk(std::string_view(events).substr(from));
    c.end_chunks();
  });
  auto transport = transport_to(server);

  auto done = start_stream(*transport, watch(), recorder_);

  ASSERT_EQ(done.wait_for(10s), std::future_status::ready);
  done.get();  // a clean end of the chunked body returns normally
  const StreamLog log = recorder_.log().get();
  EXPECT_EQ(log.statuses, std::vector<int>{200});
  EXPECT_EQ(log.data, events);
  EXPECT_TRUE(log.error_responses.empty());
  ASSERT_EQ(observer_.requests().size(), 1u);
  EXPECT_EQ(observer_.requests()[0].verb, "watch");
  EXPECT_EQ(observer_.requests()[0].status, 200);
}

TEST_F(TransportStreamTest, DataIsDeliveredAsItArrivesNotWhenTheStreamEnds) {
  ScriptedTlsServer server(pki_.server, [](ServerConnection& c) {
    if (!c.read_request()) {
      return;
    }
    c.start_chunked(200);
    c.chunk(kAdded);
    c.wait_gate("rest");  // the stream stays open until the test has seen the first event
    c.chunk(kModified);
    c.end_chunks();
  });
  auto transport = transport_to(server);

  auto done = start_stream(*transport, watch(), recorder_);

  ASSERT_TRUE(added_arrives());
  EXPECT_EQ(done.wait_for(0s), std::future_status::timeout);
  server.open_gate("rest");
  ASSERT_EQ(done.wait_for(10s), std::future_status::ready);
  done.get();
  EXPECT_EQ(recorder_.log().get().data, kAdded + kModified);
}

TEST_F(TransportStreamTest, StalledStreamEndsWithTimeoutAfterTheIdleTimeout) {
  ScriptedTlsServer server(pki_.server, watch_sending_added(AfterAdded::kHoldItOpen));
  auto transport = transport_to(server);

  auto done = start_stream(*transport, watch(200ms), recorder_);
  ASSERT_TRUE(added_arrives());
  const auto data_seen = std::chrono::steady_clock::now();

  ASSERT_EQ(done.wait_for(10s), std::future_status::ready);
  const auto stalled_for = std::chrono::steady_clock::now() - data_seen;
  const auto error = api_error_from([&] { done.get(); });
  ASSERT_TRUE(error.has_value());
  EXPECT_EQ(error->kind(), ErrorKind::Timeout);
  EXPECT_GE(stalled_for, 150ms);
  // The client closed the stalled connection.
  EXPECT_TRUE(server.wait_until([](const ServerLog& log) { return log.closed == 1; }));
}

TEST_F(TransportStreamTest, NoResponseHeaderWithinTheTimeoutIsTimeout) {
  ScriptedTlsServer server(pki_.server, [](ServerConnection& c) {
    if (c.read_request()) {
      c.wait_gate("never");
    }
  });
  auto transport = transport_to(server);

  auto done = start_stream(*transport, watch(200ms), recorder_);

  ASSERT_EQ(done.wait_for(10s), std::future_status::ready);
  const auto error = api_error_from([&] { done.get(); });
  ASSERT_TRUE(error.has_value());
  EXPECT_EQ(error->kind(), ErrorKind::Timeout);
  EXPECT_TRUE(recorder_.log().get().statuses.empty());
  EXPECT_EQ(observer_.statuses(), std::vector<int>{0});
}

TEST_F(TransportStreamTest, ConnectionCutMidLineIsTransportErrorAfterDeliveringWhatArrived) {
  const std::string partial = kModified.substr(0, 20);
  ScriptedTlsServer server(pki_.server, [&](ServerConnection& c) {
    if (!c.read_request()) {
      return;
    }
    c.start_chunked(200);
    c.chunk(kAdded + partial);
    c.cut();
  });
  auto transport = transport_to(server);

  auto done = start_stream(*transport, watch(), recorder_);

  ASSERT_EQ(done.wait_for(10s), std::future_status::ready);
  const auto error = api_error_from([&] { done.get(); });
  ASSERT_TRUE(error.has_value());
  EXPECT_EQ(error->kind(), ErrorKind::Transport);
  EXPECT_THAT(error->what(), HasSubstr("127.0.0.1:" + std::to_string(server.port())));
  EXPECT_EQ(recorder_.log().get().data, kAdded + partial);
}

TEST_F(TransportStreamTest, ErrorStatusGivesTheStatusBodyToOnErrorBody) {
  ScriptedTlsServer server(
      pki_.server,
      answer_each([](ServerConnection& c, const ReceivedRequest&) { c.respond(410, kGone); }));
  auto transport = transport_to(server);

  auto done = start_stream(*transport, watch(), recorder_);

  ASSERT_EQ(done.wait_for(10s), std::future_status::ready);
  done.get();
  const StreamLog log = recorder_.log().get();
  EXPECT_EQ(log.statuses, std::vector<int>{410});
  ASSERT_EQ(log.error_responses.size(), 1u);
  EXPECT_EQ(log.error_responses[0].status, 410);
  EXPECT_EQ(log.error_responses[0].body, kGone);
  EXPECT_FALSE(log.error_responses[0].retry_after.has_value());
  EXPECT_EQ(log.pieces, 0);
  EXPECT_EQ(observer_.statuses(), std::vector<int>{410});
}

TEST_F(TransportStreamTest, ErrorStatusCarriesTheServersRetryAfter) {
  ScriptedTlsServer server(
      pki_.server, answer_each([](ServerConnection& c, const ReceivedRequest&) {
        c.respond(429, R"({"kind":"Status","code":429,"reason":"TooManyRequests"})",
                  {{"Retry-After", "3"}});
      }));
  auto transport = transport_to(server);

  auto done = start_stream(*transport, watch(), recorder_);

  ASSERT_EQ(done.wait_for(10s), std::future_status::ready);
  done.get();
  const StreamLog log = recorder_.log().get();
  ASSERT_EQ(log.error_responses.size(), 1u);
  EXPECT_EQ(log.error_responses[0].status, 429);
  EXPECT_EQ(log.error_responses[0].retry_after, std::chrono::seconds(3));
}

TEST_F(TransportStreamTest, ServerThatNeverAnswersTheHandshakeIsGivenUpOnAtTheConnectTimeout) {
  // Listens, never accepts: the kernel completes the TCP handshake and the
  // TLS ClientHello waits forever, as behind a host that drops packets.
  boost::asio::io_context listener_io;
  boost::asio::ip::tcp::acceptor silent(listener_io,
                                        {boost::asio::ip::make_address("127.0.0.1"), 0});
  ClusterConfig config;
  config.host = "127.0.0.1";
  config.port = std::to_string(silent.local_endpoint().port());
  config.server = "https://127.0.0.1:" + config.port;
  config.ca_pem = pki_.ca.cert;
  TransportOptions options;
  options.stream_connect_timeout = 300ms;
  Transport transport(io_.io(), config, util::real_clock(), options);

  // A watch's idle timeout is minutes; its connection must not wait as long.
  auto done = start_stream(transport, watch(120s), recorder_);

  ASSERT_EQ(done.wait_for(10s), std::future_status::ready);
  const auto error = api_error_from([&] { done.get(); });
  ASSERT_TRUE(error.has_value());
  EXPECT_EQ(error->kind(), ErrorKind::Timeout);
  EXPECT_THAT(error->what(), HasSubstr("TLS handshake"));
}

TEST_F(TransportStreamTest, ShutdownAbortsAnOpenStream) {
  ScriptedTlsServer server(pki_.server, watch_sending_added(AfterAdded::kHoldItOpen));
  auto transport = transport_to(server);
  auto done = start_stream(*transport, watch(), recorder_);
  ASSERT_TRUE(added_arrives());

  transport->shutdown();

  ASSERT_EQ(done.wait_for(5s), std::future_status::ready);
  expect_shut_down_error(api_error_from([&] { done.get(); }));
  EXPECT_TRUE(server.wait_until([](const ServerLog& log) { return log.closed == 1; }));
}

TEST_F(TransportStreamTest, CancelEndsOneStreamAndLeavesTheTransportUsable) {
  ScriptedTlsServer server(pki_.server, watch_sending_added(AfterAdded::kHoldItOpen));
  auto transport = transport_to(server);
  auto cancel = std::make_shared<StreamCancel>();
  auto done = start_stream(*transport, watch(), recorder_, cancel);
  ASSERT_TRUE(added_arrives());

  cancel->cancel();  // from this (non-io) thread

  ASSERT_EQ(done.wait_for(5s), std::future_status::ready);
  EXPECT_NO_THROW(done.get()) << "a cancelled stream ends normally";
  EXPECT_TRUE(server.wait_until([](const ServerLog& log) { return log.closed >= 1; }));
  EXPECT_EQ(transport->request_sync(list_configmaps()).status, 200) << "only the stream ended";
}

TEST_F(TransportStreamTest, StreamCancelledBeforeItOpensNeverStarts) {
  ScriptedTlsServer server(pki_.server, watch_sending_added(AfterAdded::kHoldItOpen));
  auto transport = transport_to(server);
  auto cancel = std::make_shared<StreamCancel>();
  cancel->cancel();
  auto done = start_stream(*transport, watch(), recorder_, cancel);
  ASSERT_EQ(done.wait_for(5s), std::future_status::ready);
  EXPECT_NO_THROW(done.get());
  EXPECT_FALSE(has_data(recorder_.log().get(), kAdded));
}

TEST_F(TransportStreamTest, StreamUsesItsOwnConnectionAndNeverReturnsItToThePool) {
  ScriptedTlsServer server(pki_.server, watch_sending_added(AfterAdded::kEndTheStream));
  auto transport = transport_to(server);

  transport->request_sync(list_configmaps());
  auto done = start_stream(*transport, watch(), recorder_);
  ASSERT_EQ(done.wait_for(10s), std::future_status::ready);
  done.get();
  transport->request_sync(list_configmaps());

  const auto log = server.log();
  EXPECT_EQ(log.accepted, 2);
  ASSERT_EQ(log.requests.size(), 3u);
  EXPECT_EQ(log.requests[1].connection, 1);  // the watch
  EXPECT_EQ(log.requests[2].connection, 0);  // back on the pooled connection
}

}  // namespace
}  // namespace cd4ml::kube
