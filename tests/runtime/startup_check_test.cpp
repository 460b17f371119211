// Start-up's check of the API server: what passes by itself is retried until
// the timeout, what a retry cannot fix fails at once, and each failure is one
// sentence a person can act on. Time is a ManualClock moved by the waits.

#include "operator/runtime/startup_check.hpp"

#include <gtest/gtest.h>

#include "operator/kube/errors.hpp"

namespace cd4ml::runtime {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

struct Harness {
  util::ManualClock clock;
  std::vector<milliseconds> waits;
  int stop_after_waits = -1;  // -1: never

  WaitOrStop wait() {
    return [this](milliseconds delay) {
      waits.push_back(delay);
      clock.advance(delay);
      return stop_after_waits < 0 || static_cast<int>(waits.size()) < stop_after_waits;
    };
  }
};

StartupCheckOptions options() {
  StartupCheckOptions o;
  o.server = "https://api.example:6443";
  o.timeout = seconds(30);
  o.retry_interval = seconds(2);
  return o;
}

AccessTarget target(std::function<void()> attempt) {
  return {"trainingruns.cd4ml.io", "in namespace ml", std::move(attempt)};
}

kube::ApiError error(kube::ErrorKind kind, int status, const std::string& text) {
  return kube::ApiError(kind, status, "", text);
}

std::string failure_of(const std::vector<AccessTarget>& targets, Harness& h) {
  try {
    check_api_access(targets, options(), h.clock, h.wait());
  } catch (const StartupError& e) {
    return e.what();
  }
  return "";
}

TEST(StartupCheck, AServerThatComesUpIsWaitedFor) {
  Harness h;
  int attempts = 0;
  const auto flaky = target([&] {
    if (++attempts < 4) throw error(kube::ErrorKind::Transport, 0, "Connection refused");
  });
  EXPECT_EQ(failure_of({flaky}, h), "");
  EXPECT_EQ(attempts, 4);
  EXPECT_EQ(h.waits, std::vector<milliseconds>(3, seconds(2)));
}

TEST(StartupCheck, AServerThatNeverAnswersIsGivenUpOnAtTheTimeout) {
  Harness h;
  int attempts = 0;
  const std::string why =
      failure_of({target([&] {
                   ++attempts;
                   throw error(kube::ErrorKind::Transport, 0, "connecting: Connection refused");
                 })},
                 h);
  EXPECT_EQ(why,
            "cannot reach the API server at https://api.example:6443 within 30s "
            "(--startup-timeout): Transport: connecting: Connection refused");
  // Every 2 s, the last attempt on the deadline itself.
  EXPECT_EQ(attempts, 16);
  EXPECT_EQ(h.clock.now().time_since_epoch(), seconds(30));
}

TEST(StartupCheck, ServerErrorsAndThrottlingAreRetriedToo) {
  for (const auto kind :
       {kube::ErrorKind::ServerError, kube::ErrorKind::TooManyRequests, kube::ErrorKind::Timeout}) {
    Harness h;
    int attempts = 0;
    EXPECT_EQ(failure_of({target([&] {
                           if (++attempts == 1) throw error(kind, 503, "busy");
                         })},
                         h),
              "");
    EXPECT_EQ(attempts, 2);
  }
}

TEST(StartupCheck, WhatARetryCannotFixFailsAtOnce) {
  const struct {
    kube::ErrorKind kind;
    int status;
    std::string text;
    std::string expected;
  } cases[] = {
      {kube::ErrorKind::Unauthorized, 401, "Unauthorized",
       "the API server at https://api.example:6443 refused the credentials (401 Unauthorized): "
       "check the kubeconfig's user, or the ServiceAccount token in the cluster"},
      {kube::ErrorKind::Forbidden, 403,
       "trainingruns.cd4ml.io is forbidden: User \"x\" cannot list",
       "not allowed to list trainingruns.cd4ml.io in namespace ml: trainingruns.cd4ml.io is "
       "forbidden: User \"x\" cannot list; the operator needs get, list and watch on it (the "
       "Helm chart's RBAC grants them)"},
      {kube::ErrorKind::NotFound, 404, "the server could not find the requested resource",
       "the API server at https://api.example:6443 does not serve trainingruns.cd4ml.io: its "
       "CustomResourceDefinition is not installed (kubectl apply -f crds/, or install the Helm "
       "chart)"},
      {kube::ErrorKind::Transport, 0,
       "TLS handshake with api.example:6443: certificate verify failed",
       "Transport: TLS handshake with api.example:6443: certificate verify failed: the server's "
       "certificate is not one the kubeconfig's certificate authority accepts (or not for this "
       "address)"},
  };
  for (const auto& c : cases) {
    Harness h;
    int attempts = 0;
    EXPECT_EQ(failure_of({target([&] {
                           ++attempts;
                           throw error(c.kind, c.status, c.text);
                         })},
                         h),
              c.expected);
    EXPECT_EQ(attempts, 1) << c.text;
    EXPECT_TRUE(h.waits.empty());
  }
}

TEST(StartupCheck, EveryTargetIsCheckedAndTheFailingOneNamed) {
  Harness h;
  int first = 0;
  std::vector<AccessTarget> targets = {
      target([&] { ++first; }),
      {"modelreleases.cd4ml.io", "cluster-wide",
       [] { throw error(kube::ErrorKind::NotFound, 404, "not found"); }},
  };
  EXPECT_NE(failure_of(targets, h).find("does not serve modelreleases.cd4ml.io"),
            std::string::npos);
  EXPECT_EQ(first, 1);
}

TEST(StartupCheck, AStopDuringTheWaitEndsTheCheckQuietly) {
  Harness h;
  h.stop_after_waits = 1;
  int attempts = 0;
  EXPECT_EQ(failure_of({target([&] {
                         ++attempts;
                         throw error(kube::ErrorKind::Transport, 0, "Connection refused");
                       })},
                       h),
            "");
  EXPECT_EQ(attempts, 1);
}

}  // namespace
}  // namespace cd4ml::runtime
