#include <gtest/gtest.h>

#include "core/duration.h"

using namespace ferry;

TEST(Duration, Parses) {
  EXPECT_EQ(parse_duration("15s"), Millis(15000));
  EXPECT_EQ(parse_duration("500ms"), Millis(500));
  EXPECT_EQ(parse_duration("5m"), Millis(300000));
  EXPECT_EQ(parse_duration("1h30m"), Millis(5400000));
  EXPECT_FALSE(parse_duration(""));
  EXPECT_FALSE(parse_duration("15"));
  EXPECT_FALSE(parse_duration("-5s"));
  EXPECT_FALSE(parse_duration("10 seconds"));
  EXPECT_FALSE(parse_duration("5x"));
  EXPECT_EQ(format_duration(Millis(15000)), "15s");
  EXPECT_EQ(format_duration(Millis(300000)), "5m");
  EXPECT_EQ(format_duration(Millis(1500)), "1500ms");
}
