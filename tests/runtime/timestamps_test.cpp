#include "operator/runtime/timestamps.hpp"

#include <gtest/gtest.h>

namespace cd4ml::runtime {
namespace {

using namespace std::chrono_literals;

TEST(Timestamps, Rfc3339FormsInUtc) {
  const auto t = std::chrono::system_clock::time_point{std::chrono::seconds(1795773600)} +
                 123456789ns;  // 2026-11-27T10:00:00.123456789Z
  EXPECT_EQ(format_rfc3339(t), "2026-11-27T10:00:00Z");
  EXPECT_EQ(format_rfc3339_milli(t), "2026-11-27T10:00:00.123Z");
  EXPECT_EQ(format_rfc3339_micro(t), "2026-11-27T10:00:00.123456Z");
  EXPECT_EQ(format_rfc3339_micro(std::chrono::system_clock::time_point{}),
            "1970-01-01T00:00:00.000000Z");
}

TEST(Timestamps, TimesBeforeTheEpochFloorToTheSecondBefore) {
  const auto t = std::chrono::system_clock::time_point{} - 250ms;
  EXPECT_EQ(format_rfc3339_milli(t), "1969-12-31T23:59:59.750Z");
}

}  // namespace
}  // namespace cd4ml::runtime
