// The informer's network loop against a scripted TLS server, for what the
// real API server cannot be made to answer on demand: a watch refused with
// 429 and Retry-After (priority and fairness under load).

#include <gtest/gtest.h>

#include <chrono>
#include <vector>

#include "operator/kube/resource.hpp"
#include "operator/kube/transport.hpp"
#include "operator/runtime/informer.hpp"
#include "support/guarded.hpp"
#include "support/io_thread.hpp"
#include "support/scripted_tls_server.hpp"
#include "support/test_pki.hpp"
#include "support/transport_harness.hpp"

namespace cd4ml::runtime {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using test_support::answer_each;
using test_support::ReceivedRequest;
using test_support::ScriptedTlsServer;
using test_support::ServerConnection;

constexpr std::string_view kEmptyList =
    R"({"kind":"ConfigMapList","apiVersion":"v1","metadata":{"resourceVersion":"5"},"items":[]})";
constexpr std::string_view kTooManyRequests =
    R"json({"kind":"Status","apiVersion":"v1","status":"Failure","message":"too many requests",)json"
    R"json("reason":"TooManyRequests","code":429})json";

TEST(InformerWatchErrors, WatchRefusedWithRetryAfterIsRetriedNoSoonerThanTheServerAsks) {
  const test_support::TestPki pki = test_support::make_test_pki();
  // When each watch request was answered, stamped by the server.
  test_support::Guarded<std::vector<Clock::time_point>> watch_times;
  // The list succeeds; the first watch is refused with Retry-After: 3 (the
  // watch backoff's first step alone is 0.64 to 0.96 s), the next one is held open.
  ScriptedTlsServer server(pki.server,
                           answer_each([&](ServerConnection& c, const ReceivedRequest& request) {
                             if (request.target.find("watch=true") == std::string::npos) {
                               c.respond(200, kEmptyList);
                               return;
                             }
                             std::size_t n = 0;
                             watch_times.update([&](auto& times) {
                               times.push_back(Clock::now());
                               n = times.size();
                             });
                             if (n == 1) {
                               c.respond(429, kTooManyRequests, {{"Retry-After", "3"}});
                             } else {
                               c.start_chunked(200);
                               c.wait_for_client_close();
                             }
                           }));
  test_support::IoThread io;
  kube::Transport transport(io.io(), test_support::config_for(server, pki), util::real_clock());
  Informer informer(transport, kube::resources::kConfigMaps, {});
  informer.start();

  ASSERT_TRUE(watch_times.wait_until([](const auto& times) { return times.size() >= 2; }, 20s));
  EXPECT_TRUE(informer.has_synced());
  const auto times = watch_times.get();
  EXPECT_GE(times[1] - times[0], 2900ms) << "the second watch came before the server's Retry-After";
}

}  // namespace
}  // namespace cd4ml::runtime
