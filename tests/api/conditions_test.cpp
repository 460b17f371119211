#include "operator/api/conditions.hpp"

#include <gtest/gtest.h>

namespace cd4ml::api {
namespace {

TEST(ParseRfc3339, ReadsWhatTheApiServerWrites) {
  const auto t = parse_rfc3339("2026-11-27T10:00:00Z");
  ASSERT_TRUE(t);
  EXPECT_EQ(rfc3339(*t), "2026-11-27T10:00:00Z");
  const auto fractional = parse_rfc3339("2026-11-27T10:00:00.123456Z");
  ASSERT_TRUE(fractional);
  EXPECT_EQ(*fractional, *t);
}

// Found by spec_readers_fuzz: a status startedAt in year 4052 fits time_t but
// not the nanosecond clock, and converting it overflowed a signed integer.
TEST(ParseRfc3339, AYearBeyondTheClocksRangeIsNoTime) {
  EXPECT_FALSE(parse_rfc3339("4052-12-05T10:00:00Z"));
  EXPECT_FALSE(parse_rfc3339("9999-12-31T23:59:59Z"));
  ASSERT_TRUE(parse_rfc3339("2262-01-01T00:00:00Z"));
}

TEST(ParseRfc3339, FieldsOutOfRangeAreNotRolledOver) {
  EXPECT_FALSE(parse_rfc3339("2026-13-01T00:00:00Z"));
  EXPECT_FALSE(parse_rfc3339("2026-00-01T00:00:00Z"));
  EXPECT_FALSE(parse_rfc3339("2026-12-01T24:00:00Z"));
  EXPECT_FALSE(parse_rfc3339("2026-12-01T10:75:00Z"));
  EXPECT_FALSE(parse_rfc3339("2026-12-01T10:00:-1Z"));
  EXPECT_FALSE(parse_rfc3339("2026-12-01T10:00:00"));
}

}  // namespace
}  // namespace cd4ml::api
