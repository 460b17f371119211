#include "operator/util/token_bucket.hpp"

#include <gtest/gtest.h>

namespace cd4ml::util {
namespace {

using namespace std::chrono_literals;

TEST(TokenBucket, BurstIsFreeThenEachTokenCostsOneOverQps) {
  ManualClock clock;
  TokenBucket bucket(10.0, 3, clock);
  EXPECT_EQ(bucket.reserve(), 0ns);
  EXPECT_EQ(bucket.reserve(), 0ns);
  EXPECT_EQ(bucket.reserve(), 0ns);
  EXPECT_EQ(bucket.reserve(), 100ms);
  EXPECT_EQ(bucket.reserve(), 200ms);
}

TEST(TokenBucket, RefillsWithTimeUpToBurst) {
  ManualClock clock;
  TokenBucket bucket(2.0, 2, clock);
  EXPECT_TRUE(bucket.try_take());
  EXPECT_TRUE(bucket.try_take());
  EXPECT_FALSE(bucket.try_take());
  clock.advance(500ms);
  EXPECT_TRUE(bucket.try_take());
  EXPECT_FALSE(bucket.try_take());
  clock.advance(1h);  // capped at burst
  EXPECT_TRUE(bucket.try_take());
  EXPECT_TRUE(bucket.try_take());
  EXPECT_FALSE(bucket.try_take());
}

TEST(TokenBucket, DebtFromReserveDelaysLaterCallers) {
  ManualClock clock;
  TokenBucket bucket(1.0, 1, clock);
  EXPECT_EQ(bucket.reserve(), 0ns);
  EXPECT_EQ(bucket.reserve(), 1s);
  EXPECT_FALSE(bucket.try_take());
  clock.advance(1s);
  EXPECT_FALSE(bucket.try_take());  // the reserved token is still owed
  clock.advance(1s);
  EXPECT_TRUE(bucket.try_take());
}

}  // namespace
}  // namespace cd4ml::util
