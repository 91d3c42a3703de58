#include <gtest/gtest.h>

#include "core/duration.h"
#include "core/ident.h"

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

TEST(Ident, Quotes) {
  EXPECT_EQ(quote_pg_ident("My \"T\""), "\"My \"\"T\"\"\"");
  EXPECT_EQ(quote_pg_literal("it's"), "'it''s'");
  EXPECT_EQ(quote_backtick_ident("a`b\\c"), "`a\\`b\\\\c`");
  EXPECT_EQ(quote_ch_literal("it's\\"), "'it\\'s\\\\'");
  EXPECT_EQ(quote_mysql_ident("a`b"), "`a``b`");
}

TEST(Ident, SplitsQualifiedNames) {
  auto q = split_qualified("public.orders");
  EXPECT_EQ(q.schema, "public");
  EXPECT_EQ(q.name, "orders");
  q = split_qualified("orders");
  EXPECT_EQ(q.schema, "public");
  q = split_qualified("\"my.schema\".\"Tab \"\"le\"");
  EXPECT_EQ(q.schema, "my.schema");
  EXPECT_EQ(q.name, "Tab \"le");
}
