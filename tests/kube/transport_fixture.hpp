#pragma once
// The harness names the Transport tests use unqualified, and the fixture of
// the request and stream tests: a test PKI, recorders for what the transport
// reports, and the io thread it runs on.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <memory>
#include <optional>

#include "operator/kube/transport.hpp"
#include "support/transport_harness.hpp"

namespace cd4ml::kube {

using test_support::answer_each;
using test_support::api_error_from;
using test_support::config_for;
using test_support::ReceivedRequest;
using test_support::ScriptedTlsServer;
using test_support::ServerConnection;
using test_support::ServerLog;
using ::testing::HasSubstr;

// Checks that `error` is the one a call gets from a transport that has been
// shut down.
inline void expect_shut_down_error(const std::optional<ApiError>& error) {
  ASSERT_TRUE(error.has_value());
  EXPECT_EQ(error->kind(), ErrorKind::Transport);
  EXPECT_THAT(error->what(), HasSubstr("transport shut down"));
}

class TransportFixture : public ::testing::Test {
 protected:
  // A transport to the scripted server that reports its requests to observer_.
  std::unique_ptr<Transport> transport_to(const ScriptedTlsServer& server,
                                          TransportOptions options = {}) {
    options.observer = &observer_;
    return std::make_unique<Transport>(io_.io(), config_for(server, pki_), util::real_clock(),
                                       options);
  }

  test_support::TestPki pki_ = test_support::make_test_pki();
  // Declared before io_: the recorders outlive the io thread that calls them.
  test_support::RecordingObserver observer_;
  test_support::StreamRecorder recorder_;
  test_support::IoThread io_;
};

}  // namespace cd4ml::kube
