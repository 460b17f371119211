#include "operator/util/backoff.hpp"

#include <gtest/gtest.h>

namespace cd4ml::util {
namespace {

using std::chrono::milliseconds;

TEST(ExponentialBackoff, DoublesFromInitialToMaxWithoutJitter) {
  ExponentialBackoff backoff({milliseconds(800), milliseconds(30'000), 2.0, 0.0},
                             [] { return 0.5; });
  EXPECT_EQ(backoff.next(), milliseconds(800));
  EXPECT_EQ(backoff.next(), milliseconds(1600));
  EXPECT_EQ(backoff.next(), milliseconds(3200));
  EXPECT_EQ(backoff.next(), milliseconds(6400));
  EXPECT_EQ(backoff.next(), milliseconds(12800));
  EXPECT_EQ(backoff.next(), milliseconds(25600));
  EXPECT_EQ(backoff.next(), milliseconds(30000));
  for (int i = 0; i < 100; ++i) {
    EXPECT_EQ(backoff.next(), milliseconds(30000));
  }
}

TEST(ExponentialBackoff, JitterStaysWithinBoundsAndNeverExceedsMax) {
  double r = 0.0;
  ExponentialBackoff low({milliseconds(1000), milliseconds(30'000), 2.0, 0.2}, [&] { return r; });
  EXPECT_EQ(low.next(), milliseconds(800));  // 1000 * (1 - 0.2)
  r = 0.999999;
  EXPECT_NEAR(static_cast<double>(low.next().count()), 2400.0, 1.0);  // 2000 * 1.2
  for (int i = 0; i < 10; ++i) {
    EXPECT_LE(low.next(), milliseconds(30'000));
  }
}

TEST(ExponentialBackoff, ResetStartsOver) {
  ExponentialBackoff backoff({milliseconds(5), milliseconds(1000), 2.0, 0.0}, [] { return 0.5; });
  backoff.next();
  backoff.next();
  EXPECT_EQ(backoff.attempts(), 2);
  backoff.reset();
  EXPECT_EQ(backoff.next(), milliseconds(5));
}

}  // namespace
}  // namespace cd4ml::util
