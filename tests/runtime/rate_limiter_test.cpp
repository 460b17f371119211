#include "operator/runtime/rate_limiter.hpp"

#include <gtest/gtest.h>

namespace cd4ml::runtime {
namespace {

using namespace std::chrono_literals;

TEST(ItemRateLimiter, PerItemBackoffDoublesFrom5msAndCapsAt1000s) {
  util::ManualClock clock;
  ItemRateLimiter limiter(clock);
  std::chrono::nanoseconds expected = 5ms;
  for (int failure = 0; failure < 18; ++failure) {
    EXPECT_EQ(limiter.when("ml/a"), expected) << "failure " << failure;
    expected *= 2;
  }
  // 5 ms * 2^18 would be 1310.72 s: capped, and it stays capped.
  for (int failure = 18; failure < 80; ++failure) {
    ASSERT_EQ(limiter.when("ml/a"), 1000s) << "failure " << failure;
  }
  EXPECT_EQ(limiter.failures("ml/a"), 80);
}

TEST(ItemRateLimiter, KeysBackOffIndependentlyAndForgetStartsOver) {
  util::ManualClock clock;
  ItemRateLimiter limiter(clock);
  EXPECT_EQ(limiter.when("a"), 5ms);
  EXPECT_EQ(limiter.when("a"), 10ms);
  EXPECT_EQ(limiter.when("a"), 20ms);
  EXPECT_EQ(limiter.when("b"), 5ms);
  EXPECT_EQ(limiter.failures("a"), 3);
  EXPECT_EQ(limiter.failures("b"), 1);
  limiter.forget("a");
  EXPECT_EQ(limiter.failures("a"), 0);
  EXPECT_EQ(limiter.when("a"), 5ms);
  EXPECT_EQ(limiter.when("b"), 10ms);
}

TEST(ItemRateLimiter, OverallBucketSlowsFailuresAfterABurstOf100) {
  util::ManualClock clock;
  ItemRateLimiter limiter(clock);
  // 100 different keys failing at once: each gets only its own 5 ms.
  for (int i = 0; i < 100; ++i) {
    ASSERT_EQ(limiter.when("key-" + std::to_string(i)), 5ms) << i;
  }
  // The bucket (10 qps) is empty now: one token per 100 ms.
  EXPECT_EQ(limiter.when("key-100"), 100ms);
  EXPECT_EQ(limiter.when("key-101"), 200ms);
  EXPECT_EQ(limiter.when("key-102"), 300ms);
  // After a second, 10 tokens came back; 3 were owed.
  clock.advance(1s);
  EXPECT_EQ(limiter.when("key-103"), 5ms);
}

TEST(ItemRateLimiter, LongerPerItemBackoffWinsOverTheBucket) {
  util::ManualClock clock;
  ItemRateLimiter limiter(
      {std::chrono::milliseconds(5), std::chrono::milliseconds(1000 * 1000), 10.0, 1}, clock);
  EXPECT_EQ(limiter.when("a"), 5ms);    // the only free token
  EXPECT_EQ(limiter.when("a"), 100ms);  // bucket: 100 ms > 10 ms backoff
  for (int i = 0; i < 10; ++i) {
    clock.advance(10s);  // refill fully every time
    limiter.when("a");
  }
  clock.advance(10s);
  EXPECT_EQ(limiter.when("a"), 5ms * (1 << 12));  // backoff 20.48 s dominates
}

}  // namespace
}  // namespace cd4ml::runtime
